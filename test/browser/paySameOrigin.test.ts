/**
 * The BUILT `x402-autopay/browser` (run `npm run build` first) paying in real headless Chromium
 * against the OFFICIAL x402 servers of the local stack (examples/local-stack: anvil, the
 * `@x402/express` v2 and `x402-express` v1 servers and their facilitators), with the page and
 * the API on ONE origin: the page server reverse-proxies `/api/v2/*` and `/api/v1/*` to the
 * stack, which runs without any CORS headers. Every payment is proved on chain: balances moved
 * by exactly the price, and the receipt's transaction is a mined transfer of that amount.
 *
 * Wallets, all used from inside the page: a viem local account made there from a key; an
 * EIP-1193 provider injected as `window.ethereum` (backed by a viem account in Node, see
 * test/support/browserPay.ts); and a viem `WalletClient` over `custom(window.ethereum)`.
 * Budget persistence across reloads and tabs is covered by browserStore.test.ts.
 */
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { privateKeyToAccount } from 'viem/accounts';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { LOCAL_CHAIN_ID, PRICES, startLocalStack, type LocalPayer, type LocalStack } from '../../examples/local-stack/index.js';
import { describeWithChromium, launchChromium } from '../support/browser.js';
import { injectWallet, payInPage, type InjectedWallet, type PageOutcome, type PageWallet } from '../support/browserPay.js';
import { openTestPage, startBrowserServer, type BrowserServer } from '../support/browserServer.js';
import { proxyRoutes } from '../support/httpProxy.js';
import { loopbackOnly } from '../support/loopbackOnly.js';
import { balances, expectTransfer } from '../support/onChain.js';

const refusedConnections = loopbackOnly();

/** Page errors other than Chromium's console line for every 402 ("Failed to load resource: … 402"). */
const unexpected = (errors: readonly string[]) => errors.filter((e) => !/status of 402 \(Payment Required\)/.test(e));

describeWithChromium('paying from Chromium: page and paid API on one origin (built package, official servers, local chain)', () => {
  let stack: LocalStack;
  let browser: Browser;
  let server: BrowserServer;
  const contexts: BrowserContext[] = [];

  beforeAll(async () => {
    [stack, browser] = await Promise.all([startLocalStack(), launchChromium()]);
    server = await startBrowserServer({ routes: proxyRoutes({ '/api/v2': stack.v2.url, '/api/v1': stack.v1.url }) });
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
    await stack?.stop();
    expect(refusedConnections).toEqual([]);
  });
  afterEach(async () => {
    for (const context of contexts.splice(0)) await context.close();
  });

  /** A fresh context and page on the test page, with `window.ethereum` backed by `payer` when asked. */
  async function openPage(payer?: LocalPayer): Promise<{ page: Page; errors: string[]; wallet?: InjectedWallet }> {
    const context = await browser.newContext();
    contexts.push(context);
    const page = await context.newPage();
    const wallet = payer ? await injectWallet(page, privateKeyToAccount(payer.privateKey), LOCAL_CHAIN_ID) : undefined;
    const errors = await openTestPage(page, server);
    return { page, errors, ...(wallet ? { wallet } : {}) };
  }

  /**
   * Pays `/api/<version>/weather` from the page and checks the receipt and the chain. The URL is
   * relative, as pages write them (it once failed after the 402 with "Failed to construct 'URL'").
   */
  async function paysWeather(page: Page, payer: LocalPayer, version: 'v1' | 'v2', wallet: PageWallet): Promise<void> {
    const { payTo } = stack[version];
    const before = await balances(stack, payer.address, payTo);
    const paidBefore = stack[version].server.requests.filter((r) => r.paymentHeader).length;
    const outcome: PageOutcome = await payInPage(page, { url: `/api/${version}/weather`, wallet });
    expect(outcome, JSON.stringify(outcome)).toMatchObject({
      ok: true,
      status: 200,
      body: { report: { city: 'Localhost' }, x402Version: version === 'v2' ? 2 : 1 },
      payment: { status: 'settled', amount: String(PRICES.weather), network: 'eip155:84532', payTo, payer: payer.address },
      readable: version === 'v2' ? { paymentResponse: true } : { xPaymentResponse: true },
      report: ['settled'],
    });
    if (!outcome.ok) return;
    expect(await before.moved()).toEqual({ paid: PRICES.weather, received: PRICES.weather });
    await expectTransfer(stack, outcome.payment?.transaction, { token: stack.usdc, from: payer.address, to: payTo, amount: PRICES.weather });
    // Exactly one paid request reached the official server, and it was accepted.
    const paid = stack[version].server.requests.filter((r) => r.paymentHeader).slice(paidBefore);
    expect(paid).toEqual([{ method: 'GET', path: '/weather', paymentHeader: version === 'v2' ? 'PAYMENT-SIGNATURE' : 'X-PAYMENT', status: 200 }]);
  }

  it('a viem local account made in the page pays the v2 and the v1 server; the receipt names the real transaction', async () => {
    const payer = await stack.newPayer();
    const { page, errors } = await openPage();
    expect(new URL(page.url()).origin).toBe(server.origin);
    await paysWeather(page, payer, 'v2', { kind: 'local-account', privateKey: payer.privateKey });
    await paysWeather(page, payer, 'v1', { kind: 'local-account', privateKey: payer.privateKey });
    expect(unexpected(errors)).toEqual([]);
  });

  it('an injected EIP-1193 provider (window.ethereum) pays: it is asked to connect, then signs the typed-data JSON the page sent', async () => {
    const payer = await stack.newPayer();
    const { page, errors, wallet } = await openPage(payer);
    await paysWeather(page, payer, 'v2', { kind: 'eip1193' });
    await paysWeather(page, payer, 'v1', { kind: 'eip1193' });
    expect(wallet!.calls.map((c) => c.method)).toEqual(['eth_accounts', 'eth_requestAccounts', 'eth_signTypedData_v4', 'eth_accounts', 'eth_signTypedData_v4']);
    const signed = wallet!.calls.filter((c) => c.method === 'eth_signTypedData_v4');
    for (const call of signed) {
      expect(call.params[0]).toBe(payer.address);
      const typed = JSON.parse(call.params[1] as string) as Record<string, Record<string, unknown>>;
      expect(typed['domain']).toEqual({ name: 'USDC', version: '2', chainId: LOCAL_CHAIN_ID, verifyingContract: stack.usdc });
      expect(typed['primaryType']).toBe('TransferWithAuthorization');
      expect(typed['types']?.['EIP712Domain']).toHaveLength(4);
      expect(typed['message']).toMatchObject({ from: payer.address, to: stack.payTo, value: String(PRICES.weather) });
    }
    expect(unexpected(errors)).toEqual([]);
  });

  it('a viem WalletClient over custom(window.ethereum) (a JSON-RPC account) pays the v2 and the v1 server', async () => {
    const payer = await stack.newPayer();
    const { page, errors, wallet } = await openPage(payer);
    await paysWeather(page, payer, 'v2', { kind: 'wallet-client' });
    await paysWeather(page, payer, 'v1', { kind: 'wallet-client' });
    // viem connected, then sent the signature requests to the injected wallet.
    expect(wallet!.calls.map((c) => c.method)).toEqual(['eth_requestAccounts', 'eth_signTypedData_v4', 'eth_requestAccounts', 'eth_signTypedData_v4']);
    expect(unexpected(errors)).toEqual([]);
  });

  it('the user rejects the signature in the wallet: wallet_error, nothing sent, nothing paid, the reservation released', async () => {
    const payer = await stack.newPayer();
    const { page, wallet } = await openPage(payer);
    const before = await balances(stack, payer.address, stack.v2.payTo);
    const paidBefore = stack.v2.server.requests.filter((r) => r.paymentHeader).length;
    wallet!.rejectNextSignature();
    const outcome = await payInPage(page, { url: '/api/v2/weather', wallet: { kind: 'eip1193' } });
    expect(outcome).toMatchObject({ ok: false, error: { x402: true, code: 'wallet_error', moneyMoved: 'no' }, report: ['released'] });
    expect(outcome.ok ? '' : outcome.error.message).toMatch(/User rejected the request/);
    expect(stack.v2.server.requests.filter((r) => r.paymentHeader).length).toBe(paidBefore);
    expect(await before.moved()).toEqual({ paid: 0n, received: 0n });
  });
});
