/**
 * The BUILT `x402-autopay/browser` paying CROSS-ORIGIN from real headless Chromium: the page on
 * one origin (the test page server), the paid API on another (another port). The API is the
 * local stack's OFFICIAL servers (examples/local-stack) on a real local chain, either directly
 * (started with `cors: true`: they expose `PAYMENT-REQUIRED`, `PAYMENT-RESPONSE` and
 * `X-PAYMENT-RESPONSE`) or behind a front on a third origin that lets the page read the answer
 * (`Access-Control-Allow-Origin`) but does NOT expose the x402 headers — what a plain CORS
 * middleware in front of the official servers gives (test/support/httpProxy.ts).
 *
 * What the browser hides decides what the client can do; each case asserts what was paid on chain.
 * Last, examples/browser/ itself is loaded (on the page server's origin) and pays the stack
 * cross-origin with an injected wallet, as its README describes.
 */
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { privateKeyToAccount } from 'viem/accounts';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { LOCAL_CHAIN_ID, PRICES, startLocalStack, type LocalPayer, type LocalStack } from '../../examples/local-stack/index.js';
import { describeWithChromium, launchChromium } from '../support/browser.js';
import { examplePageRoutes, injectWallet, payInPage, type PageOutcome } from '../support/browserPay.js';
import { openTestPage, startBrowserServer, type BrowserServer } from '../support/browserServer.js';
import { startCorsFront, type CorsFront } from '../support/httpProxy.js';
import { loopbackOnly } from '../support/loopbackOnly.js';
import { balances, expectTransfer } from '../support/onChain.js';

const refusedConnections = loopbackOnly();

describeWithChromium('paying cross-origin from Chromium: what CORS lets the page read (built package, official servers, local chain)', () => {
  let stack: LocalStack;
  let browser: Browser;
  let server: BrowserServer;
  /** Fronts on origins of their own, none exposing the x402 headers. */
  let fronts: { v2Hidden: CorsFront; v2HiddenBodyFallback: CorsFront; v1Hidden: CorsFront; v2NoCors: CorsFront };
  const contexts: BrowserContext[] = [];

  beforeAll(async () => {
    [stack, browser, server] = await Promise.all([startLocalStack({ cors: true }), launchChromium(), examplePageRoutes().then((routes) => startBrowserServer({ routes }))]);
    const [v2Hidden, v2HiddenBodyFallback, v1Hidden, v2NoCors] = await Promise.all([
      startCorsFront({ target: stack.v2.url, cors: 'allow-origin' }),
      startCorsFront({ target: stack.v2.url, cors: 'allow-origin', bodyFallback: true }),
      startCorsFront({ target: stack.v1.url, cors: 'allow-origin' }),
      startCorsFront({ target: stack.v2.url, cors: 'none' }),
    ]);
    fronts = { v2Hidden, v2HiddenBodyFallback, v1Hidden, v2NoCors };
  });
  afterAll(async () => {
    await browser?.close();
    await Promise.all(Object.values(fronts ?? {}).map((front) => front.close()));
    await server?.close();
    await stack?.stop();
    expect(refusedConnections).toEqual([]);
  });
  afterEach(async () => {
    for (const context of contexts.splice(0)) await context.close();
  });

  async function openPage(): Promise<Page> {
    const context = await browser.newContext();
    contexts.push(context);
    const page = await context.newPage();
    await openTestPage(page, server);
    return page;
  }

  /** Pays `url` from the page with a viem local account of `payer`. */
  const pay = (page: Page, payer: LocalPayer, url: string): Promise<PageOutcome> =>
    payInPage(page, { url, wallet: { kind: 'local-account', privateKey: payer.privateKey } });

  it('a cross-origin server that exposes PAYMENT-REQUIRED / PAYMENT-RESPONSE (the stack with cors: true): v2 and v1 pay, the receipt reads settled', async () => {
    const page = await openPage();
    for (const version of ['v2', 'v1'] as const) {
      const { url: api, payTo } = stack[version];
      expect(new URL(api).origin).not.toBe(server.origin);
      const payer = await stack.newPayer();
      const before = await balances(stack, payer.address, payTo);
      const outcome = await pay(page, payer, `${api}/weather`);
      expect(outcome, JSON.stringify(outcome)).toMatchObject({
        ok: true,
        status: 200,
        body: { report: { city: 'Localhost' } },
        payment: { status: 'settled', amount: String(PRICES.weather), network: 'eip155:84532', payTo, payer: payer.address },
        readable: version === 'v2' ? { paymentResponse: true } : { xPaymentResponse: true },
        report: ['settled'],
      });
      expect(await before.moved()).toEqual({ paid: PRICES.weather, received: PRICES.weather });
      await expectTransfer(stack, outcome.ok ? outcome.payment?.transaction : undefined, { token: stack.usdc, from: payer.address, to: payTo, amount: PRICES.weather });
    }
  });

  it('v2 without Access-Control-Expose-Headers and the official `{}` body: invalid_challenge (not_x402) that names CORS; nothing sent, nothing paid', async () => {
    const page = await openPage();
    const payer = await stack.newPayer();
    const before = await balances(stack, payer.address, stack.v2.payTo);
    const outcome = await pay(page, payer, `${fronts.v2Hidden.url}/weather`);
    expect(outcome, JSON.stringify(outcome)).toMatchObject({
      ok: false,
      error: { x402: true, name: 'InvalidChallengeError', code: 'invalid_challenge', reason: 'not_x402', moneyMoved: 'no' },
      report: [],
    });
    expect(outcome.ok ? '' : outcome.error.message).toMatch(/PAYMENT-REQUIRED.*Access-Control-Expose-Headers/);
    // The server did send the header: the browser hid it.
    expect(fronts.v2Hidden.requests).toEqual([{ method: 'GET', path: '/weather', payment: undefined }]);
    expect(await before.moved()).toEqual({ paid: 0n, received: 0n });
  });

  it('v2 without exposure but with the PaymentRequired in the body: pays through the body fallback; PAYMENT-RESPONSE is hidden, so the receipt reads unknown (the chain shows the exact amount)', async () => {
    const page = await openPage();
    const payer = await stack.newPayer();
    const before = await balances(stack, payer.address, stack.v2.payTo);
    const outcome = await pay(page, payer, `${fronts.v2HiddenBodyFallback.url}/weather`);
    expect(outcome, JSON.stringify(outcome)).toMatchObject({
      ok: true,
      status: 200,
      body: { report: { city: 'Localhost' } },
      payment: { status: 'unknown', amount: String(PRICES.weather), payTo: stack.v2.payTo, payer: payer.address },
      readable: { paymentResponse: false },
      report: ['unknown'],
    });
    expect(outcome.ok && outcome.payment?.transaction).toBeFalsy();
    // Preflight, the unpaid request, the paid one (PAYMENT-SIGNATURE is not a CORS-safelisted header).
    expect(fronts.v2HiddenBodyFallback.requests.map((r) => `${r.method} ${r.payment ?? '-'}`)).toEqual(['GET -', 'OPTIONS -', 'GET payment-signature']);
    expect(await before.moved()).toEqual({ paid: PRICES.weather, received: PRICES.weather });
  });

  it('v1 without exposure: the v1 challenge is in the body, so it pays; X-PAYMENT-RESPONSE is hidden, so the receipt reads unknown (the chain shows the exact amount)', async () => {
    const page = await openPage();
    const payer = await stack.newPayer();
    const before = await balances(stack, payer.address, stack.v1.payTo);
    const outcome = await pay(page, payer, `${fronts.v1Hidden.url}/weather`);
    expect(outcome, JSON.stringify(outcome)).toMatchObject({
      ok: true,
      status: 200,
      body: { report: { city: 'Localhost' }, x402Version: 1 },
      payment: { status: 'unknown', amount: String(PRICES.weather), payTo: stack.v1.payTo, payer: payer.address },
      readable: { xPaymentResponse: false },
      report: ['unknown'],
    });
    expect(await before.moved()).toEqual({ paid: PRICES.weather, received: PRICES.weather });
  });

  it('no CORS headers at all (the official servers as they ship): the browser hides the 402 itself; fetch rejects with a TypeError, nothing paid', async () => {
    const page = await openPage();
    const payer = await stack.newPayer();
    const before = await balances(stack, payer.address, stack.v2.payTo);
    const outcome = await pay(page, payer, `${fronts.v2NoCors.url}/weather`);
    expect(outcome, JSON.stringify(outcome)).toMatchObject({ ok: false, error: { x402: false, name: 'TypeError' }, report: [] });
    expect(fronts.v2NoCors.requests).toEqual([{ method: 'GET', path: '/weather', payment: undefined }]);
    expect(await before.moved()).toEqual({ paid: 0n, received: 0n });
  });

  it('examples/browser/ (its index.html and main.ts, bundled) pays the stack cross-origin with the injected wallet, and shows the receipt', async () => {
    const payer = await stack.newPayer();
    const context = await browser.newContext();
    contexts.push(context);
    const page = await context.newPage();
    const wallet = await injectWallet(page, privateKeyToAccount(payer.privateKey), LOCAL_CHAIN_ID);
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(error.message));
    const before = await balances(stack, payer.address, stack.v2.payTo);
    await page.goto(`${server.url('/example/')}?api=${encodeURIComponent(`${stack.v2.url}/weather`)}`);
    await page.click('#go');
    await page.waitForFunction(() => !/^(Nothing yet\.|Paying…)$/.test(document.querySelector('#out')?.textContent ?? ''), undefined, { timeout: 20_000 });
    const shown = (await page.textContent('#out')) ?? '';
    expect(shown).toMatch(/^HTTP 200\npaid 10000 atomic units to 0x[0-9a-fA-F]{40} on eip155:84532: settled, transaction 0x[0-9a-f]{64}\ndaily budget used: 0\.01 of 0\.5\n/);
    expect(shown).toContain('"city":"Localhost"');
    expect(wallet.calls.map((c) => c.method)).toEqual(['eth_requestAccounts', 'eth_signTypedData_v4']);
    expect(await before.moved()).toEqual({ paid: PRICES.weather, received: PRICES.weather });
    await expectTransfer(stack, /transaction (0x[0-9a-f]{64})/.exec(shown)?.[1], { token: stack.usdc, from: payer.address, to: stack.v2.payTo, amount: PRICES.weather });
    expect(errors).toEqual([]);
  });
});
