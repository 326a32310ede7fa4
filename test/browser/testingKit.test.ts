/**
 * `x402-autopay/testing` in real headless Chromium, from the BUILT package: a page pays the
 * in-page mock server with `wrapFetch` and a viem local account, and the mock verifies the
 * signature there (no Node built-ins, no network: the mock is a `fetch` function).
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeWithChromium, launchChromium } from '../support/browser.js';
import { openTestPage, startBrowserServer, type BrowserServer } from '../support/browserServer.js';

/** What the test page holds (types only: the values live in the page). */
interface PageGlobals {
  x402: typeof import('../../src/browser/index.js');
  x402Testing: typeof import('../../src/testing/index.js');
  viemAccounts: typeof import('viem/accounts');
}

describeWithChromium('x402-autopay/testing in Chromium (built package)', () => {
  let browser: Browser;
  let server: BrowserServer;
  let page: Page;
  let errors: string[];

  beforeAll(async () => {
    [browser, server] = await Promise.all([launchChromium(), startBrowserServer()]);
    page = await browser.newPage();
    errors = await openTestPage(page, server);
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  it('a page pays the mock server: a verified payment, a settled receipt; a tampered one is refused', async () => {
    const result = await page.evaluate(async () => {
      const { x402, x402Testing, viemAccounts } = window as unknown as PageGlobals;
      const account = viemAccounts.privateKeyToAccount(viemAccounts.generatePrivateKey());
      const api = x402Testing.mockX402Server({ routes: { '/weather': { price: '0.01', body: { sunny: true } } } });
      const paidFetch = x402.wrapFetch(api.fetch, account, { store: x402.memoryStore() });
      const response = await paidFetch('https://api.example.com/weather');
      const payment = x402.getPayment(response);
      // A client that changes the amount after signing: the signature no longer matches.
      const liar: typeof fetch = (input, init) => {
        const headers = new Headers(init?.headers);
        const header = headers.get('payment-signature');
        if (header !== null) {
          const decoded = JSON.parse(atob(header));
          decoded.payload.authorization.nonce = `0x${'11'.repeat(32)}`;
          headers.set('payment-signature', btoa(JSON.stringify(decoded)));
        }
        return api.fetch(input, { ...init, headers });
      };
      const refused = await x402.wrapFetch(liar, account, { store: x402.memoryStore() })('https://api.example.com/weather').catch((e: { code?: string }) => e.code);
      return {
        status: response.status,
        body: await response.json(),
        payment: payment && { status: payment.status, amount: String(payment.amount), payer: payment.payer },
        payments: api.payments.map((p) => ({ path: p.path, payer: p.payer, outcome: p.outcome })),
        refused,
        refusedReasons: api.refused.map((r) => r.reason),
        account: account.address,
      };
    });
    expect(result.status).toBe(200);
    expect(result.body).toEqual({ sunny: true });
    expect(result.payment).toEqual({ status: 'settled', amount: '10000', payer: result.account });
    expect(result.payments).toEqual([{ path: '/weather', payer: result.account, outcome: 'settled' }]);
    expect(result.refused).toBe('payment_rejected');
    expect(result.refusedReasons).toEqual(['invalid_exact_evm_payload_signature']);
    expect(errors).toEqual([]);
  });
});
