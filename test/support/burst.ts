import { spawn } from 'node:child_process';
import { expect } from 'vitest';
import { join } from 'node:path';
import { burst, type BurstOutcome, type StoreSpec } from './burstWorker.js';
import type { LocalStack } from '../../examples/local-stack/index.js';

const WORKER = join(import.meta.dirname, 'burstWorker.ts');

/** Totals of a burst across its processes, plus what the paid server saw. */
export interface BurstTotals extends BurstOutcome {
  /** Paid requests (carrying a payment header) the server received during the burst. */
  serverPayments: number;
  /** Payer balance change on chain, in atomic units. */
  spent: bigint;
}

/**
 * Runs `totalCalls` concurrent paid calls of `${stack.v2.url}/weather` ($0.01) split over
 * `processes` processes (1 = in this process), all sharing one budget through `store`, with a
 * daily cap of `daily` USD.
 */
export async function runBurst(args: {
  stack: LocalStack;
  processes: number;
  totalCalls: number;
  daily: string;
  store: StoreSpec;
  /** When set, every call carries this `Idempotency-Key`. */
  idempotencyKey?: string;
}): Promise<BurstTotals> {
  const payer = await args.stack.newPayer(100_000_000n);
  const before = await args.stack.balanceOf(payer.address);
  const paidBefore = args.stack.v2.server.requests.filter((r) => r.paymentHeader).length;
  const perProcess = Math.ceil(args.totalCalls / args.processes);
  const spec = (calls: number) => ({
    url: `${args.stack.v2.url}/weather`,
    key: payer.privateKey,
    calls,
    daily: args.daily,
    store: args.store,
    ...(args.idempotencyKey === undefined ? {} : { idempotencyKey: args.idempotencyKey }),
  });
  const outcomes =
    args.processes === 1
      ? [await burst(spec(args.totalCalls))]
      : await Promise.all(Array.from({ length: args.processes }, (_, i) => child(spec(Math.min(perProcess, args.totalCalls - i * perProcess)))));
  const totals: BurstTotals = { paid: 0, budgetExceeded: 0, duplicates: {}, other: [], transactions: [], serverPayments: 0, spent: 0n };
  for (const o of outcomes) {
    totals.paid += o.paid;
    totals.budgetExceeded += o.budgetExceeded;
    for (const [state, n] of Object.entries(o.duplicates)) totals.duplicates[state] = (totals.duplicates[state] ?? 0) + n;
    totals.other.push(...o.other);
    totals.transactions.push(...o.transactions);
  }
  totals.serverPayments = args.stack.v2.server.requests.filter((r) => r.paymentHeader).length - paidBefore;
  totals.spent = before - (await args.stack.balanceOf(payer.address));
  return totals;
}

function child(spec: object): Promise<BurstOutcome> {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, ['--import', 'tsx', WORKER, JSON.stringify(spec)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    proc.stdout.on('data', (d: Buffer) => (out += d.toString()));
    proc.stderr.on('data', (d: Buffer) => (err += d.toString()));
    proc.on('error', reject);
    // 'close', not 'exit': on 'exit' the child's stdout may not have been read to its end yet, and
    // a loaded machine then loses the outcome line of a worker that did everything right.
    proc.on('close', (code) => {
      const line = out.trim().split('\n').pop() ?? '';
      if (code !== 0 || !line.startsWith('{')) reject(new Error(`burst worker exited ${code}: ${err.slice(-2000)}`));
      else resolve(JSON.parse(line) as BurstOutcome);
    });
  });
}

/**
 * Runs {@link runBurst} with 1,000 calls under a daily cap of 1.00 USD (100× the $0.01 price),
 * logs the timing under `label`, and asserts the burst's guarantee in full: exactly 100 paid and
 * settled in 100 distinct transactions, 900 refused with `budget_exceeded`, nothing else, 100
 * payments at the server, and 100 × the price spent on chain.
 */
export async function expectExactBurst(args: { stack: LocalStack; processes: number; store: StoreSpec; label: string }): Promise<BurstTotals> {
  const started = performance.now();
  const totals = await runBurst({ stack: args.stack, processes: args.processes, totalCalls: 1000, daily: '1.00', store: args.store });
  console.log(`[burst] ${args.label}: ${totals.paid} paid, ${totals.budgetExceeded} refused in ${Math.round(performance.now() - started)} ms`);
  expect(totals.other).toEqual([]);
  expect(totals.duplicates).toEqual({});
  expect(totals.paid).toBe(100);
  expect(totals.budgetExceeded).toBe(900);
  expect(totals.serverPayments).toBe(100);
  expect(new Set(totals.transactions).size).toBe(100);
  expect(totals.spent).toBe(100n * 10_000n);
  return totals;
}
