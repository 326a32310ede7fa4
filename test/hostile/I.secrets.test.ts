/**
 * THREATS.md §I — keys and secrets. A canary private key is handed to the SDK (through a viem
 * account) and driven through every outcome; it must never appear in anything the SDK emits:
 * log lines, events, error messages, serialized errors (JSON.stringify, util.inspect, cause
 * chains), receipts, the budget report, the wrapped fetch or the wallet. Full payment headers
 * (bearer instruments until validBefore) must not appear in errors or events either.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { getPayment, wrapFetch, memoryStore } from '../../src/index.js';
import { toWallet } from '../../src/wallets/toWallet.js';
import { KNOWN_ASSETS } from '../../src/protocol/assets.js';
import { CANARY_KEY, canaryAccount } from '../support/signers.js';
import { PAY_TO } from '../support/challenges.js';
import { API, recordingSigner, useHostile } from './harness.js';
import { paywall, send402v2, sendOk, txHash } from './hostileServer.js';
import { challenge, requirement, send402 } from './common.js';

const h = useHostile();
afterEach(() => {
  vi.restoreAllMocks();
});

/**
 * Every textual form of a value a user could log. With `hidden`, also non-enumerable properties
 * (such as `error.response`, the server's own raw answer).
 */
function renderings(value: unknown, hidden = true): string[] {
  const out = [String(value), inspect(value, { depth: Infinity, showHidden: hidden, getters: true }), inspect(value)];
  try {
    out.push(JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v)) ?? '');
  } catch (error) {
    out.push(String(error));
  }
  if (value instanceof Error) {
    out.push(value.message, String(value.stack));
    for (let cause: unknown = value.cause, depth = 0; cause !== undefined && depth < 8; depth++) {
      out.push(...renderings(cause, hidden));
      cause = (cause as { cause?: unknown }).cause;
    }
  }
  return out;
}

const KEY_FORMS = [CANARY_KEY, CANARY_KEY.slice(2), CANARY_KEY.toUpperCase(), CANARY_KEY.slice(2).toUpperCase()];
function expectNoKey(label: string, value: unknown) {
  for (const text of renderings(value)) {
    for (const form of KEY_FORMS) expect(text.includes(form), `the canary key leaked through ${label}`).toBe(false);
    expect(/[0-9a-fA-F]{64}/.test(text) && text.toLowerCase().includes(CANARY_KEY.slice(10, 40)), `key material leaked through ${label}`).toBe(false);
  }
}

describe('I1 the canary key appears nowhere', () => {
  it('across payments, refusals, rejections, unknown outcomes, events, receipts, report, logs and the objects themselves', async () => {
    const logged: string[] = [];
    for (const method of ['log', 'info', 'warn', 'error', 'debug', 'trace'] as const) {
      vi.spyOn(console, method).mockImplementation((...args: unknown[]) => void logged.push(args.map((a) => inspect(a, { depth: 8 })).join(' ')));
    }
    const writes: string[] = [];
    const stdout = process.stdout.write.bind(process.stdout);
    const stderr = process.stderr.write.bind(process.stderr);
    vi.spyOn(process.stdout, 'write').mockImplementation(((chunk: unknown, ...rest: unknown[]) => {
      writes.push(String(chunk));
      return (stdout as (...a: unknown[]) => boolean)(chunk, ...rest);
    }) as typeof process.stdout.write);
    vi.spyOn(process.stderr, 'write').mockImplementation(((chunk: unknown, ...rest: unknown[]) => {
      writes.push(String(chunk));
      return (stderr as (...a: unknown[]) => boolean)(chunk, ...rest);
    }) as typeof process.stderr.write);

    const withId = { extensions: { 'payment-identifier': { info: { required: false } } } };
    const v2 = challenge('v2', undefined, withId);
    h.server.route(API, '/ok', paywall((_q, res) => send402v2(res, v2)));
    h.server.route(API, '/rejected', paywall((_q, res) => send402v2(res, v2), (_q, res) => send402v2(res, { ...v2, error: 'nope' })));
    h.server.route(API, '/reset', paywall((_q, res) => send402v2(res, v2), (req) => void req.socket.destroy()));
    h.server.route(API, '/502', paywall((_q, res) => send402v2(res, v2), (_q, res) => void res.writeHead(502).end()));
    h.server.route(API, '/invalid', (_q, res) => void res.writeHead(402, { 'payment-required': '%%%' }).end());
    h.server.route(API, '/dear', (_q, res) => send402v2(res, challenge('v2', [requirement('v2', { amount: '99000000' })])));
    h.server.route(API, '/fake', (_q, res) => send402v2(res, challenge('v2', [requirement('v2', { asset: '0x5555555555555555555555555555555555555555' })])));
    h.server.route(API, '/v1', paywall((_q, res) => send402('v1', res, challenge('v1'))));

    const events: unknown[] = [];
    const wallet = recordingSigner(canaryAccount);
    const options = {
      allowInsecureHttp: true,
      breaker: false as const,
      store: memoryStore(),
      on: { payment: (e: unknown) => events.push(e), denied: (e: unknown) => events.push(e), error: (e: unknown) => events.push(e) },
    };
    const paidFetch = wrapFetch(fetch, wallet, options);
    const denying = wrapFetch(fetch, wallet, { ...options, store: memoryStore(), budget: { approve: () => false } });
    const throwingSigner = { address: canaryAccount.address, signTypedData: () => Promise.reject(new Error('hardware wallet unplugged')) };
    const failing = wrapFetch(fetch, throwingSigner, { ...options, store: memoryStore() });

    const outcomes: unknown[] = [];
    for (const [f, path] of [
      [paidFetch, '/ok'],
      [paidFetch, '/v1'],
      [paidFetch, '/rejected'],
      [paidFetch, '/reset'],
      [paidFetch, '/502'],
      [paidFetch, '/invalid'],
      [paidFetch, '/dear'],
      [paidFetch, '/fake'],
      [denying, '/ok'],
      [failing, '/ok'],
    ] as const) {
      outcomes.push(await f(h.url(path)).then((res) => ({ res, payment: getPayment(res) }), (e: unknown) => e));
    }
    const codes = outcomes.map((o) => (o instanceof Error ? (o as { code?: string }).code : 'ok'));
    expect(codes).toEqual(['ok', 'ok', 'payment_rejected', 'settlement_unknown', 'settlement_unknown', 'invalid_challenge', 'budget_exceeded', 'no_acceptable_option', 'approval_denied', 'wallet_error']);
    expect(wallet.calls).toBeGreaterThanOrEqual(5);

    for (const [i, o] of outcomes.entries()) {
      expectNoKey(`outcome ${i}`, o);
      if (!(o instanceof Error)) {
        const payment = (o as { payment: unknown }).payment;
        expectNoKey(`getPayment ${i}`, payment);
        expect(() => JSON.stringify(payment)).not.toThrow();
      }
    }
    expectNoKey('events', events);
    expectNoKey('the budget report', await paidFetch.budget.report());
    expectNoKey('the remaining budget', await paidFetch.budget.remaining());
    expectNoKey('the wrapped fetch', paidFetch);
    expectNoKey('the budget view', paidFetch.budget);
    expectNoKey('the options', options);
    expectNoKey('the wallet adapter', toWallet(canaryAccount, KNOWN_ASSETS));
    expectNoKey('the viem account', canaryAccount);
    expectNoKey('console', logged);
    expectNoKey('stdout/stderr', writes);
    expect(events.length).toBeGreaterThan(5);
  });
});

describe('I2 the payment header is a bearer token: never shown in full', () => {
  it('v2: a server echoing the payment header back (reason, headers, body): errors and events hold no full header and no signature', async () => {
    let sent = '';
    h.server.route(API, '/echo', paywall(
      (_q, res) => send402('v2', res, challenge('v2')),
      (_q, res, ctx) => {
        sent = ctx.seen.payment!;
        send402v2(res, { ...challenge('v2'), error: `rejected ${sent}` }, { headers: { 'x-echo': sent }, body: JSON.stringify({ error: sent }) });
      },
    ));
    const events: unknown[] = [];
    const c = h.client({ on: { payment: (e) => events.push(e), denied: (e) => events.push(e), error: (e) => events.push(e) } });
    const e = await c.paidFetch(h.url('/echo')).catch((x: unknown) => x);
    expect((e as { code: string }).code).toBe('payment_rejected');
    const signature = JSON.parse(Buffer.from(sent, 'base64').toString()).payload.signature as string;
    // What a log line shows (message, stack, JSON, default inspect, cause chain). The hidden
    // `error.response` is the server's own answer and holds whatever the server echoed.
    for (const text of [...renderings(e, false), ...renderings(events, false)]) {
      expect(text.includes(sent), 'a full payment header was reported').toBe(false);
      expect(text.includes(signature), 'a signature was reported').toBe(false);
    }
    expect((e as { reason: string }).reason).toMatch(/redacted/);
  });

  it('v2: the receipt and the events of a settled payment hold no header and no signature', async () => {
    let sent = '';
    h.server.route(API, '/settled', paywall(
      (_q, res) => send402('v2', res, challenge('v2')),
      (_q, res, ctx) => {
        sent = ctx.seen.payment!;
        sendOk(res, { success: true, transaction: txHash(5), network: 'eip155:84532', payer: recordingSigner().address });
      },
    ));
    const events: unknown[] = [];
    const c = h.client({ on: { payment: (e) => events.push(e) } });
    const res = await c.paidFetch(h.url('/settled'));
    const signature = JSON.parse(Buffer.from(sent, 'base64').toString()).payload.signature as string;
    for (const text of [...renderings(getPayment(res)), ...renderings(events), ...renderings(await c.paidFetch.budget.report())]) {
      expect(text.includes(sent)).toBe(false);
      expect(text.includes(signature)).toBe(false);
    }
    expect(getPayment(res)?.payTo).toBe(PAY_TO);
  });
});

describe('I3 key storage', () => {
  it('the SDK writes nothing to Web Storage (the default store is in memory)', async () => {
    const setItem = vi.fn();
    const storage = { setItem, getItem: vi.fn(() => null), removeItem: vi.fn(), clear: vi.fn(), key: vi.fn(), length: 0 };
    vi.stubGlobal('localStorage', storage);
    vi.stubGlobal('sessionStorage', storage);
    try {
      h.server.route(API, '/storage', paywall((_q, res) => send402('v2', res, challenge('v2'))));
      const paidFetch = wrapFetch(fetch, canaryAccount, { allowInsecureHttp: true });
      expect((await paidFetch(h.url('/storage'))).status).toBe(200);
      expect(setItem).not.toHaveBeenCalled();
    } finally {
      vi.unstubAllGlobals();
    }
  });
});

describe('I4 the SDK never reads keys from the environment', () => {
  it('no library file under src/ reads process.env (the CLI in src/cli is an app: it reads its key explicitly)', () => {
    const files: string[] = [];
    const walk = (dir: string) => {
      for (const name of readdirSync(dir)) {
        const path = join(dir, name);
        if (statSync(path).isDirectory()) {
          if (name !== 'cli') walk(path);
        }
        else if (path.endsWith('.ts')) files.push(path);
      }
    };
    walk(join(import.meta.dirname, '../../src'));
    expect(files.length).toBeGreaterThan(20);
    // Code only: doc comments may show an app reading its own key from the environment.
    const code = (f: string) => readFileSync(f, 'utf8').replace(/\/\*[\s\S]*?\*\//g, '').replace(/\/\/.*$/gm, '');
    const readers = files.filter((f) => /process\s*\.\s*env|process\[['"]env['"]\]/.test(code(f)));
    expect(readers).toEqual([]);
  });
});
