import { afterAll, beforeAll, expect, it } from 'vitest';
import { startLocalStack, type LocalStack } from '../../examples/local-stack/index.js';
import { runBurst } from '../support/burst.js';

let stack: LocalStack;
beforeAll(async () => {
  stack = await startLocalStack();
});
afterAll(() => stack?.stop());

it('memory store, one process: 1,000 concurrent paid calls under a daily cap of 100× the price pay exactly 100', async () => {
  const started = performance.now();
  const totals = await runBurst({ stack, processes: 1, totalCalls: 1000, daily: '1.00', store: { kind: 'memory' } });
  console.log(`[burst] memory, 1 process: ${totals.paid} paid, ${totals.budgetExceeded} refused in ${Math.round(performance.now() - started)} ms`);
  expect(totals.other).toEqual([]);
  expect(totals.paid).toBe(100);
  expect(totals.budgetExceeded).toBe(900);
  expect(totals.serverPayments).toBe(100);
  expect(new Set(totals.transactions).size).toBe(100);
  expect(totals.spent).toBe(100n * 10_000n);
}, 180_000);
