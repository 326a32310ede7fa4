/**
 * The CLI's stderr line of a payment (`paymentLine`), for payments made end to end against the
 * testing kit's mock server: what was paid and how it ended, plus a warning when the answer
 * does not look like a delivery (THREATS F6).
 */
import { describe, expect, it } from 'vitest';
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts';
import { getPayment, wrapFetch } from '../../src/index.js';
import { mockX402Server, type MockOutcome } from '../../src/testing/index.js';
import { paymentLine } from '../../src/cli/format.js';

const account = privateKeyToAccount(generatePrivateKey());

async function lineFor(outcome: MockOutcome): Promise<string> {
  const api = mockX402Server({ routes: { '/x': '0.01' }, outcome: () => outcome });
  const payment = getPayment(await wrapFetch(api.fetch, account)('https://api.example.com/x'));
  if (!payment) throw new Error('nothing was paid');
  return paymentLine(payment);
}

describe('paymentLine', () => {
  it('a settled delivery: one line, the price, the payee, the transaction; no warning', async () => {
    const line = await lineFor('settled');
    expect(line).toMatch(/^paid 0\.01 USD \(0\.01 USDC on eip155:84532\) to 0x[0-9a-fA-F]{40} for api\.example\.com \(x402 v2\): settled in transaction 0x[0-9a-f]{64}$/);
  });

  it('a settled payment answered with no content: a second line warns (paid_no_delivery) and says nothing more was paid', async () => {
    const [first, warning, ...rest] = (await lineFor('empty')).split('\n');
    expect(first).toMatch(/: settled in transaction 0x[0-9a-f]{64}$/);
    expect(warning).toBe(
      'warning: the server answered the payment with no content (paid_no_delivery). Nothing more was paid; keep this line (and the transaction) to dispute it with the seller.',
    );
    expect(rest).toEqual([]);
  });
});
