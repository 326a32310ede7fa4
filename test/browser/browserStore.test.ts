/**
 * browserStore() in real headless Chromium, from the BUILT package (`npm run build` first):
 * dist/browser.js and its chunks are loaded as ES modules by a page served on 127.0.0.1.
 * The tests run in Node and drive the pages; code inside `page.evaluate` runs in the page, so it
 * may only use its arguments and the page's globals (`window.x402`, `window.viemAccounts`).
 */
import { rmSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { TEST_KEY, decodeHeader, paymentRequiredV2, requirementV2, settlementHeader } from '../support/challenges.js';
import { describeWithChromium, launchChromium, launchPersistentChromium } from '../support/browser.js';
import { openTestPage, startBrowserServer, type BrowserServer } from '../support/browserServer.js';
import { encodeBase64Json } from '../../src/protocol/codec.js';

/** What the test page holds (types only: the values live in the page). */
interface PageGlobals {
  x402: typeof import('../../src/browser/index.js');
  viemAccounts: typeof import('viem/accounts');
}

const LEDGER_KEY = 'x402-autopay:ledger';

/**
 * In the page: writes `value` as the stored ledger `key` (the way any script of the origin could),
 * or, with `value` omitted, returns every record of the store's database as `key=value` lines.
 */
const rawLedger = (page: Page, key: string, ...value: [unknown] | []) =>
  page.evaluate(
    async ([key, write, value]) => {
      const db = await new Promise<IDBDatabase>((resolve, reject) => {
        const request = indexedDB.open('x402-autopay', 1);
        request.onupgradeneeded = () => request.result.createObjectStore('ledgers');
        request.onsuccess = () => resolve(request.result);
        request.onerror = () => reject(request.error);
      });
      try {
        return await new Promise<string>((resolve, reject) => {
          const tx = db.transaction('ledgers', 'readwrite');
          const objects = tx.objectStore('ledgers');
          let all: IDBRequest<unknown[]> | undefined;
          let keys: IDBRequest<IDBValidKey[]> | undefined;
          if (write) objects.put(value, key);
          else [all, keys] = [objects.getAll(), objects.getAllKeys()];
          tx.oncomplete = () => resolve(all && keys ? keys.result.map((k, i) => `${String(k)}=${String(all.result[i])}`).join('\n') : '');
          tx.onerror = () => reject(tx.error);
        });
      } finally {
        db.close();
      }
    },
    [key, value.length > 0, value[0]] as const,
  );
/** A distinct fake transaction hash per payment (a receipt repeating an earlier one is not trusted). */
const txOf = (n: number) => `0x${n.toString(16).padStart(64, 'a')}`;

/** The paid endpoint `/paid`: a v2 402 for 0.01 USDC on Base Sepolia, 200 with a receipt once paid. */
function paidRoute(seen: { paid: string[]; unpaid: number }) {
  return (request: IncomingMessage, response: ServerResponse): boolean => {
    const url = new URL(request.url ?? '/', 'http://127.0.0.1');
    if (url.pathname !== '/paid') return false;
    const signature = request.headers['payment-signature'];
    if (typeof signature === 'string') {
      seen.paid.push(signature);
      const payload = decodeHeader(signature);
      response.writeHead(200, {
        'Content-Type': 'application/json',
        'PAYMENT-RESPONSE': settlementHeader({ success: true, transaction: txOf(seen.paid.length), network: 'eip155:84532', payer: payload.payload.authorization.from }),
      });
      response.end(JSON.stringify({ weather: 'sunny' }));
      return true;
    }
    seen.unpaid++;
    const required = paymentRequiredV2([requirementV2({ amount: '10000' })], {
      resource: { url: `http://${request.headers.host}/paid`, description: 'browser store test', mimeType: 'application/json' },
    });
    response.writeHead(402, { 'Content-Type': 'application/json', 'PAYMENT-REQUIRED': encodeBase64Json(required) });
    response.end('{}');
    return true;
  };
}

/**
 * Runs IN A PAGE OR WORKER (its source text is sent there): waits until `startAt`, then makes 30
 * reservations of 1 against a total of 20, one after the other, with the default store; returns
 * how many were accepted.
 */
async function reserveBurst(x402: PageGlobals['x402'], [tab, startAt]: readonly [string, number]): Promise<number> {
  const store = x402.browserStore();
  while (Date.now() < startAt) await new Promise((resolve) => setTimeout(resolve, 1));
  let accepted = 0;
  // One after the other, so that the lock goes back and forth between the tabs (or tab and worker).
  for (let i = 0; i < 30; i++) {
    const result = await store.reserve({
      id: `${tab}-${i}`,
      checks: [{ key: 'g|usd|total', window: { kind: 'total' }, amount: 1n, limit: 20n }],
      record: { host: 'api.example.com', payee: '0x1111111111111111111111111111111111111111', amount: '1', asset: 'usdc', network: 'eip155:84532' },
    });
    if (result.ok) accepted++;
  }
  return accepted;
}

describeWithChromium('browserStore in Chromium (built package)', () => {
  let browser: Browser;
  let server: BrowserServer;
  const seen = { paid: [] as string[], unpaid: 0 };
  const contexts: BrowserContext[] = [];

  beforeAll(async () => {
    [browser, server] = await Promise.all([launchChromium(), startBrowserServer({ routes: paidRoute(seen) })]);
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });
  afterEach(async () => {
    for (const context of contexts.splice(0)) await context.close();
    seen.paid.length = 0;
    seen.unpaid = 0;
  });

  /** A fresh context (own storage, own locks) with `n` pages on the test page. */
  async function tabs(n: number): Promise<{ context: BrowserContext; pages: Page[] }> {
    const context = await browser.newContext();
    contexts.push(context);
    const pages: Page[] = [];
    for (let i = 0; i < n; i++) {
      const page = await context.newPage();
      await openTestPage(page, server);
      pages.push(page);
    }
    return { context, pages };
  }

  it('loads dist/browser.js and its chunks as ES modules, with browserStore among the exports', async () => {
    const { context } = await tabs(0);
    const page = await context.newPage();
    const errors = await openTestPage(page, server);
    const exported = await page.evaluate(() => {
      const { x402 } = window as unknown as PageGlobals;
      return { browserStore: typeof x402.browserStore, wrapFetch: typeof x402.wrapFetch, memoryStore: typeof x402.memoryStore, locks: typeof navigator.locks?.request };
    });
    expect(exported, 'is dist/ stale? run `npm run build`').toEqual({ browserStore: 'function', wrapFetch: 'function', memoryStore: 'function', locks: 'function' });
    expect(errors).toEqual([]);
  });

  it('keeps the budget across a page reload', async () => {
    const { pages } = await tabs(1);
    const page = pages[0]!;
    const reserve = (id: string, amount: number) =>
      page.evaluate(
        async ([id, amount]) => {
          const store = (window as unknown as PageGlobals).x402.browserStore({ prefix: 'reload:' });
          const result = await store.reserve({
            id,
            checks: [{ key: 'g|usd|total', window: { kind: 'total' }, amount: BigInt(amount), limit: 20n }],
            record: { host: location.host, payee: '0x1111111111111111111111111111111111111111', amount: String(amount), asset: 'usdc', network: 'eip155:84532' },
          });
          return result.ok ? 'ok' : `refused, ${result.used} used`;
        },
        [id, amount] as const,
      );
    expect(await reserve('first', 5)).toBe('ok');
    expect(await reserve('second', 7)).toBe('ok');

    await page.reload();
    await page.waitForFunction(() => (window as unknown as { x402Ready?: boolean }).x402Ready === true);
    const after = await page.evaluate(async () => {
      const store = (window as unknown as PageGlobals).x402.browserStore({ prefix: 'reload:' });
      const [used] = await store.usage([{ key: 'g|usd|total', window: { kind: 'total' } }]);
      return { used: String(used), report: (await store.report()).map((r) => `${r.id}:${r.status}`) };
    });
    expect(after).toEqual({ used: '12', report: ['first:reserved', 'second:reserved'] });
    expect(await reserve('third', 9)).toBe('refused, 12 used');
    expect(await reserve('fourth', 8)).toBe('ok');

    // Another browser context is another origin storage: its budget is untouched.
    const other = await tabs(1);
    const usedElsewhere = await other.pages[0]!.evaluate(async () => {
      const store = (window as unknown as PageGlobals).x402.browserStore({ prefix: 'reload:' });
      return String((await store.usage([{ key: 'g|usd|total', window: { kind: 'total' } }]))[0]);
    });
    expect(usedElsewhere).toBe('0');
  });

  /**
   * Runs {@link reserveBurst} in a page (`where` = 'page') or in the page's worker started by
   * `window.startWorker()` (`where` = 'worker'): 30 reservations of 1 against a total of 20,
   * started together at `startAt`; resolves with how many were accepted.
   */
  const burst = (page: Page, where: 'page' | 'worker', tab: string, startAt: number) =>
    page.evaluate(
      async ([where, source, args]) => {
        const w = window as unknown as PageGlobals & { worker: { run(source: string, args: unknown): Promise<number> } };
        if (where === 'worker') return w.worker.run(source, args);
        const fn = (0, eval)(`(${source})`) as (x402: PageGlobals['x402'], a: typeof args) => Promise<number>;
        return fn(w.x402, args);
      },
      [where, reserveBurst.toString(), [tab, startAt]] as const,
    );

  /** The burst's total as the store sees it afterwards. */
  const burstState = (page: Page) =>
    page.evaluate(async () => {
      const store = (window as unknown as PageGlobals).x402.browserStore();
      const report = await store.report();
      return { used: String((await store.usage([{ key: 'g|usd|total', window: { kind: 'total' } }]))[0]), records: report.length, ids: new Set(report.map((r) => r.id)).size };
    });

  it('two tabs reserving at once against a limit of 20: exactly 20 of 2×30 attempts succeed', async () => {
    const { pages } = await tabs(2);
    const startAt = Date.now() + 300;
    const [a, b] = await Promise.all([burst(pages[0]!, 'page', 'a', startAt), burst(pages[1]!, 'page', 'b', startAt)]);
    console.info(`two tabs: tab a reserved ${a}, tab b reserved ${b}`);
    expect(a + b).toBe(20);
    expect(await burstState(pages[1]!)).toEqual({ used: '20', records: 20, ids: 20 });
  });

  it('a tab and a dedicated worker of the origin reserving at once share the budget: exactly 20 of 2×30 succeed', async () => {
    const { pages } = await tabs(1);
    const page = pages[0]!;
    await page.evaluate(async () => {
      const w = window as unknown as { startWorker(): Promise<unknown>; worker: unknown };
      w.worker = await w.startWorker();
    });
    const startAt = Date.now() + 300;
    const [inPage, inWorker] = await Promise.all([burst(page, 'page', 'tab', startAt), burst(page, 'worker', 'worker', startAt)]);
    console.info(`tab and worker: tab reserved ${inPage}, worker reserved ${inWorker}`);
    expect(inPage + inWorker).toBe(20);
    expect(await burstState(page)).toEqual({ used: '20', records: 20, ids: 20 });
  });

  it('keeps the budget across a browser restart on the same profile', async () => {
    const first = await launchPersistentChromium();
    try {
      const page = await first.context.newPage();
      await openTestPage(page, server);
      expect(await burst(page, 'page', 'before', 0)).toBe(20);
    } finally {
      await first.close({ keep: true });
    }
    const second = await launchPersistentChromium(first.userDataDir);
    try {
      const page = await second.context.newPage();
      await openTestPage(page, server);
      expect(await burstState(page)).toEqual({ used: '20', records: 20, ids: 20 });
      expect(await burst(page, 'page', 'after', 0)).toBe(0);
    } finally {
      await second.close();
      rmSync(first.userDataDir, { recursive: true, force: true });
    }
  });

  it('waits for a lock another tab holds, and fails after lockTimeoutMs', async () => {
    const { pages } = await tabs(2);
    // Returns once the lock is granted (not merely requested), so the other tab cannot get it first.
    await pages[0]!.evaluate(
      (key) =>
        new Promise<void>((granted) => {
          const w = window as unknown as { release?: () => void };
          void navigator.locks.request(key, { mode: 'exclusive' }, () => {
            granted();
            return new Promise<void>((resolve) => (w.release = resolve));
          });
        }),
      LEDGER_KEY,
    );
    const timedOut = await pages[1]!.evaluate(async () => {
      const store = (window as unknown as PageGlobals).x402.browserStore({ lockTimeoutMs: 300 });
      const started = performance.now();
      try {
        await store.usage([]);
        return 'resolved';
      } catch (error) {
        return `${(error as Error).name} after ${performance.now() - started >= 250 ? '≥250' : '<250'} ms`;
      }
    });
    expect(timedOut).toBe('TimeoutError after ≥250 ms');
    const waiting = pages[1]!.evaluate(async () => {
      const store = (window as unknown as PageGlobals).x402.browserStore();
      return (await store.usage([])).length;
    });
    await pages[0]!.evaluate(() => (window as unknown as { release: () => void }).release());
    expect(await waiting).toBe(0);
  });

  it('fails closed on a corrupt or schema-invalid ledger: every operation rejects, the stored value is left as found', async () => {
    const { pages } = await tabs(1);
    const page = pages[0]!;
    const invalid = JSON.stringify({ ledger: { version: 1, counters: { 'g|usd|total': { '0': '-500' } }, pending: {} }, records: [] });
    for (const text of ['{"ledger": {"version": 1', invalid]) {
      await rawLedger(page, LEDGER_KEY, text);
      const errors = await page.evaluate(async () => {
        const store = (window as unknown as PageGlobals).x402.browserStore();
        const check = { key: 'g|usd|total', window: { kind: 'total' } as const, amount: 1n, limit: 20n };
        const attempts = [
          () => store.reserve({ id: 'x', checks: [check], record: { host: 'h', payee: 'p', amount: '1', asset: 'a', network: 'n' } }),
          () => store.release('x'),
          () => store.settle('x', 'settled'),
          () => store.usage([check]),
          () => store.report(),
        ];
        const errors: string[] = [];
        for (const attempt of attempts) {
          try {
            await attempt();
            errors.push('resolved');
          } catch (error) {
            errors.push((error as Error).message);
          }
        }
        return errors;
      });
      expect(await rawLedger(page, LEDGER_KEY)).toBe(`${LEDGER_KEY}=${text}`);
      expect(errors).toHaveLength(5);
      for (const message of errors) expect(message).toMatch(/the stored ledger "x402-autopay:ledger" is corrupt .*nothing is paid/);
    }
  });

  it('refuses a ledger of a newer format (a tab running a newer build wrote it): reload, do not delete; the stored value is left as found', async () => {
    const { pages } = await tabs(1);
    const page = pages[0]!;
    const newer = JSON.stringify({ ledger: { version: 2, counters: {}, pending: {}, epochs: [] }, records: [] });
    await rawLedger(page, LEDGER_KEY, newer);
    const message = await page.evaluate(async () => {
      const store = (window as unknown as PageGlobals).x402.browserStore();
      try {
        await store.reserve({ id: 'x', checks: [], record: { host: 'h', payee: 'p', amount: '1', asset: 'a', network: 'n' } });
        return 'resolved';
      } catch (error) {
        return (error as Error).message;
      }
    });
    expect(message).toMatch(/the stored ledger "x402-autopay:ledger" is in format 2 \(this page reads format 1\), written by a newer x402-autopay .*reload it\. Do not delete the ledger/);
    expect(await rawLedger(page, LEDGER_KEY)).toBe(`${LEDGER_KEY}=${newer}`);
  });

  it('throws a clear error at creation when navigator.locks or indexedDB is missing', async () => {
    const { pages } = await tabs(2);
    const noLocks = await pages[0]!.evaluate(() => {
      Object.defineProperty(navigator, 'locks', { value: undefined, configurable: true });
      try {
        (window as unknown as PageGlobals).x402.browserStore();
        return 'created';
      } catch (error) {
        return (error as Error).message;
      }
    });
    expect(noLocks).toMatch(/navigator\.locks \(the Web Locks API\) is not available/);
    const noStorage = await pages[1]!.evaluate(() => {
      Object.defineProperty(window, 'indexedDB', { value: undefined, configurable: true });
      try {
        (window as unknown as PageGlobals).x402.browserStore();
        return 'created';
      } catch (error) {
        return (error as Error).message;
      }
    });
    expect(noStorage).toMatch(/indexedDB is not available here/);
  });

  /** Three calls of `/paid` through wrapFetch with browserStore in `page`: 0.01 USDC each, daily cap 0.025. */
  const payThrice = (page: Page, calls = 3) =>
    page.evaluate(
      async ([key, calls]) => {
        const { x402, viemAccounts } = window as unknown as PageGlobals;
        const paidFetch = x402.wrapFetch(fetch, viemAccounts.privateKeyToAccount(key), {
          budget: { perRequest: '0.05', daily: '0.025' },
          store: x402.browserStore(),
        });
        const outcomes: string[] = [];
        for (let i = 0; i < calls; i++) {
          try {
            const response = await paidFetch(`${location.origin}/paid`);
            const payment = x402.getPayment(response);
            outcomes.push(`${response.status} ${payment?.status} ${payment?.amount}`);
          } catch (error) {
            outcomes.push(x402.isX402Error(error) ? `${error.code} (money moved: ${error.moneyMoved})` : `not an X402Error: ${String(error)}`);
          }
        }
        const daily = (await paidFetch.budget.remaining()).find((l) => l.limit === 'daily');
        return { outcomes, daily: daily && `${daily.used}/${daily.max}`, localStorage: JSON.stringify(localStorage) };
      },
      [TEST_KEY, calls] as const,
    );

  it('with wrapFetch in the page: pays within the daily cap, then refuses with budget_exceeded — in another tab and after a reload too', async () => {
    const { pages, context } = await tabs(1);
    const first = await payThrice(pages[0]!);
    expect(first.outcomes).toEqual(['200 settled 10000', '200 settled 10000', 'budget_exceeded (money moved: no)']);
    expect(first.daily).toBe('0.02/0.025');
    expect(seen.paid).toHaveLength(2);

    // The record of the payments names the transaction; no key nor signature is kept (THREATS I3).
    const stored = `${await rawLedger(pages[0]!, LEDGER_KEY)}\n${first.localStorage}`;
    expect(stored).toContain(txOf(1));
    expect(stored).toContain(txOf(2));
    const signatures = seen.paid.map((header) => decodeHeader(header).payload.signature as string);
    for (const secret of [TEST_KEY, TEST_KEY.slice(2), ...signatures]) expect(stored.toLowerCase()).not.toContain(secret.toLowerCase());

    const secondTab = await context.newPage();
    await openTestPage(secondTab, server);
    expect((await payThrice(secondTab, 1)).outcomes).toEqual(['budget_exceeded (money moved: no)']);

    await pages[0]!.reload();
    await pages[0]!.waitForFunction(() => (window as unknown as { x402Ready?: boolean }).x402Ready === true);
    const reloaded = await payThrice(pages[0]!, 1);
    expect(reloaded.outcomes).toEqual(['budget_exceeded (money moved: no)']);
    expect(reloaded.daily).toBe('0.02/0.025');
    expect(seen.paid).toHaveLength(2);
    expect(seen.unpaid).toBe(5);
  });

  it('with wrapFetch in the page: a corrupt ledger refuses to pay with budget_unavailable and nothing is sent', async () => {
    const { pages } = await tabs(1);
    await rawLedger(pages[0]!, LEDGER_KEY, '{"ledger":{"version":1,"counters":{},"pending":{}},"records":"lost"}');
    const outcome = await pages[0]!.evaluate(
      async ([key]) => {
        const { x402, viemAccounts } = window as unknown as PageGlobals;
        const paidFetch = x402.wrapFetch(fetch, viemAccounts.privateKeyToAccount(key), { store: x402.browserStore() });
        try {
          await paidFetch(`${location.origin}/paid`);
          return 'paid';
        } catch (error) {
          return x402.isX402Error(error) ? `${error.code} (money moved: ${error.moneyMoved})` : String(error);
        }
      },
      [TEST_KEY] as const,
    );
    expect(outcome).toBe('budget_unavailable (money moved: no)');
    expect(seen.paid).toHaveLength(0);
  });
});
