/**
 * Testing code that pays, offline: `mockX402Server` (from `x402-autopay/testing`) is an x402 API
 * inside a `fetch` function. It answers real 402 challenges, verifies each payment like a
 * facilitator (signature, payee, amount, time window, nonce), and can fail in the ways real
 * payments fail. No chain, no server, no network: this is what your unit tests can do. Three
 * checks: the budget stops an agent at its cap; a lost answer stays one counted payment; a call
 * retried with the same Idempotency-Key pays once.
 *
 *   npx tsx examples/testing.ts
 *
 * Needs `npm run build` first (the example imports the package from dist/).
 */
import assert from 'node:assert/strict';
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts';
import { wrapFetch, isX402Error } from 'x402-autopay';
import { mockX402Server } from 'x402-autopay/testing';

/** The code under test: an "agent" that buys reports until its budget says no. */
async function buyReports(paidFetch: typeof fetch, count: number): Promise<{ bought: number; refusedWith?: string }> {
  for (let bought = 0; bought < count; bought++) {
    try {
      const response = await paidFetch('https://api.example.com/report');
      await response.json();
    } catch (error) {
      if (isX402Error(error) && error.moneyMoved === 'no') return { bought, refusedWith: error.code };
      throw error;
    }
  }
  return { bought: count };
}

const wallet = privateKeyToAccount(generatePrivateKey()); // a throwaway key: nothing real is signed

// 1. The budget stops the agent at the daily cap: 5 reports at 0.02 USD under a 0.10 cap.
const api = mockX402Server({ routes: { '/report': { price: '0.02', body: { report: 'ok' } } } });
const result = await buyReports(wrapFetch(api.fetch, wallet, { budget: { daily: '0.10' } }), 10);
assert.deepEqual(result, { bought: 5, refusedWith: 'budget_exceeded' });
assert.equal(api.settledTotal(), 100_000n); // 0.10 USDC, in atomic units
console.log(`budget: bought ${result.bought}, then ${result.refusedWith}; the API was paid ${api.settledTotal()} atomic units`);

// 2. A lost answer: the API settles, then the connection drops. The client sends the same payment
//    once more (never a second signature); the API refuses the used nonce; the call reports
//    settlement_unknown, and the payment stays counted.
const flaky = mockX402Server({ routes: { '/report': '0.02' }, outcome: () => 'lost' });
const paidFetch = wrapFetch(flaky.fetch, wallet, { resend: { delayMs: 0 } });
const lost = await paidFetch('https://api.example.com/report').catch((error: unknown) => error);
assert.ok(isX402Error(lost) && lost.code === 'settlement_unknown');
assert.equal(flaky.payments.length, 1);
const used = (await paidFetch.budget.remaining()).find((l) => l.limit === 'daily')?.used;
assert.equal(used, '0.02');
console.log(`lost answer: ${lost.code} (money moved: ${lost.moneyMoved}); one payment, counted: ${used} USD`);

// 3. The caller retries with the same Idempotency-Key after the API answered 502 (it had not
//    settled): the retry sends the same payment again, which the API now settles. One signature,
//    one settlement, however often the call is repeated.
let first = true;
const recovering = mockX402Server({ routes: { '/report': '0.02' }, outcome: () => (first ? ((first = false), 'server_error') : 'settled') });
const keyed = wrapFetch(recovering.fetch, wallet, { resend: false });
const headers = { 'Idempotency-Key': 'report-2026-11-21' };
const failed = await keyed('https://api.example.com/report', { headers }).catch((error: unknown) => error);
assert.ok(isX402Error(failed) && failed.code === 'settlement_unknown');
const retried = await keyed('https://api.example.com/report', { headers });
assert.equal(retried.status, 200);
assert.equal(new Set(recovering.payments.map((p) => p.nonce)).size, 1);
assert.equal(recovering.settledTotal(), 20_000n);
const again = await keyed('https://api.example.com/report', { headers }).catch((error: unknown) => error);
assert.ok(isX402Error(again) && again.code === 'duplicate_request');
console.log(`keyed retry: ${failed.code}, then 200 with the same nonce; a third call: ${again.code} (nothing signed)`);

console.log('\nAll checks passed.');
