/**
 * `signIn: signInWithX()` in real headless Chromium, with the BUILT `x402-autopay/browser`,
 * against the OFFICIAL sign-in-with-x server extension (test/support/signInServer.ts: an
 * `@x402/express` v2 server settling on the local chain):
 *
 * - same origin (the page server proxies `/api/siwx/*`, and the server binds sign-ins to the
 *   page's origin), with an EIP-1193 wallet injected as `window.ethereum`: the first call pays
 *   on chain, the next signs in with `personal_sign` and moves no money;
 * - cross-origin, a server whose CORS allows `SIGN-IN-WITH-X`: the same, from a viem account in
 *   the page;
 * - cross-origin, a server whose CORS allows only the payment headers: the browser refuses the
 *   signed-in request at its preflight, and the client pays as if no sign-in had been offered.
 */
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { privateKeyToAccount } from 'viem/accounts';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { ARTICLE_PRICE, LOCAL_CHAIN_ID, startLocalStack, startSignInServer, type LocalPayer, type LocalStack, type SignInServer } from '../../examples/local-stack/index.js';
import { describeWithChromium, launchChromium } from '../support/browser.js';
import { injectWallet, payInPage, type InjectedWallet, type PageOutcome, type PageWallet } from '../support/browserPay.js';
import { openTestPage, startBrowserServer, type BrowserServer } from '../support/browserServer.js';
import { proxyRoutes } from '../support/httpProxy.js';
import { loopbackOnly } from '../support/loopbackOnly.js';

const refusedConnections = loopbackOnly();

describeWithChromium('signIn from Chromium (built package, official sign-in extension, local chain)', () => {
  let stack: LocalStack;
  let browser: Browser;
  let page: BrowserServer;
  const servers: { sameOrigin?: SignInServer; signInAllowed?: SignInServer; signInRefused?: SignInServer } = {};
  const contexts: BrowserContext[] = [];

  beforeAll(async () => {
    [stack, browser] = await Promise.all([startLocalStack(), launchChromium()]);
    const base = { facilitatorUrl: stack.v2.facilitatorUrl, usdc: stack.usdc, payTo: stack.payTo };
    // The page server proxies /api/siwx to a server that is started once the page's origin is known.
    let proxy: ReturnType<typeof proxyRoutes> | undefined;
    page = await startBrowserServer({ routes: (request, response) => proxy?.(request, response) ?? false });
    servers.sameOrigin = await startSignInServer({ ...base, origin: page.origin });
    proxy = proxyRoutes({ '/api/siwx': servers.sameOrigin.url });
    [servers.signInAllowed, servers.signInRefused] = await Promise.all([startSignInServer({ ...base, cors: 'sign-in-too' }), startSignInServer({ ...base, cors: 'payment-headers' })]);
  });
  afterAll(async () => {
    await browser?.close();
    await Promise.all(Object.values(servers).map((s) => s.close()));
    await page?.close();
    await stack?.stop();
    expect(refusedConnections).toEqual([]);
  });
  afterEach(async () => {
    for (const context of contexts.splice(0)) await context.close();
  });

  async function openPage(payer: LocalPayer): Promise<{ tab: Page; wallet: InjectedWallet }> {
    const context = await browser.newContext();
    contexts.push(context);
    const tab = await context.newPage();
    const wallet = await injectWallet(tab, privateKeyToAccount(payer.privateKey), LOCAL_CHAIN_ID);
    await openTestPage(tab, page);
    return { tab, wallet };
  }

  /** Two calls to `url` from the page with `signIn`; the payer's balance before and after. */
  async function twice(tab: Page, payer: LocalPayer, url: string, wallet: PageWallet): Promise<{ first: PageOutcome; second: PageOutcome; spent: bigint }> {
    const before = await stack.balanceOf(payer.address);
    const first = await payInPage(tab, { url, wallet, signIn: true });
    const second = await payInPage(tab, { url, wallet, signIn: true });
    return { first, second, spent: before - (await stack.balanceOf(payer.address)) };
  }

  it('same origin, an injected EIP-1193 wallet: pays once on chain, then signs in with personal_sign and pays nothing', async () => {
    const payer = await stack.newPayer(1_000_000n);
    const { tab, wallet } = await openPage(payer);
    const { first, second, spent } = await twice(tab, payer, '/api/siwx/article', { kind: 'eip1193' });
    expect(first, JSON.stringify(first)).toMatchObject({ ok: true, status: 200, payment: { status: 'settled', amount: String(ARTICLE_PRICE) }, signIns: [{ granted: false, status: 402 }] });
    expect(second, JSON.stringify(second)).toMatchObject({ ok: true, status: 200, body: { article: 'x402 in practice' }, payment: null, report: [], signIns: [{ granted: true, status: 200 }] });
    expect(spent).toBe(ARTICLE_PRICE);
    expect(servers.sameOrigin!.paidRequests()).toBe(1);
    const personal = wallet.calls.filter((c) => c.method === 'personal_sign');
    expect(personal).toHaveLength(2);
    const text = Buffer.from(String(personal[0]!.params[0]).slice(2), 'hex').toString('utf8');
    expect(text.split('\n')[0]).toBe(`${new URL(page.origin).host} wants you to sign in with your Ethereum account:`);
    expect(servers.sameOrigin!.events.filter((e) => e.type === 'validation_failed')).toEqual([]);
  });

  it('cross-origin, CORS allowing SIGN-IN-WITH-X: a viem account in the page pays once, then signs in', async () => {
    const payer = await stack.newPayer(1_000_000n);
    const { tab } = await openPage(payer);
    const { first, second, spent } = await twice(tab, payer, `${servers.signInAllowed!.url}/article`, { kind: 'local-account', privateKey: payer.privateKey });
    expect(first, JSON.stringify(first)).toMatchObject({ ok: true, payment: { status: 'settled' } });
    expect(second, JSON.stringify(second)).toMatchObject({ ok: true, body: { article: 'x402 in practice' }, payment: null, signIns: [{ granted: true }] });
    expect(spent).toBe(ARTICLE_PRICE);
  });

  it('cross-origin, CORS allowing only the payment headers: the sign-in never leaves the browser, and every call pays as usual', async () => {
    const payer = await stack.newPayer(1_000_000n);
    const { tab } = await openPage(payer);
    const { first, second, spent } = await twice(tab, payer, `${servers.signInRefused!.url}/article`, { kind: 'local-account', privateKey: payer.privateKey });
    for (const outcome of [first, second]) {
      expect(outcome, JSON.stringify(outcome)).toMatchObject({ ok: true, status: 200, payment: { status: 'settled' } });
      // Refused at the preflight: no status, not let in.
      expect(outcome.ok && outcome.signIns).toEqual([{ granted: false }]);
    }
    expect(spent).toBe(2n * ARTICLE_PRICE);
    // The server never saw a sign-in; it recorded the two payments.
    expect(servers.signInRefused!.events.map((e) => e.type)).toEqual(['payment_recorded', 'payment_recorded']);
  });
});
