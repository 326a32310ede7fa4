/**
 * Helpers of the crash tests: run `payingWorker.ts` in a child process and kill it (or let it
 * kill itself), then read what the chain and the ledger say.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { privateKeyToAccount } from 'viem/accounts';
import { chainChecker, wrapFetch, type ReconciledPayment, type SpendRecord } from '../../src/index.js';
import { fileStore } from '../../src/node/index.js';
import { rpcRequest, type LocalStack } from '../../examples/local-stack/index.js';
import type { KillPoint } from './payingWorker.js';

const WORKER = join(import.meta.dirname, 'payingWorker.ts');

/** What the worker is told: see `payingWorker.ts`. */
export interface PayingWorkerSpec {
  readonly url: string;
  readonly privateKey: `0x${string}`;
  readonly ledger: string;
  readonly concurrency: number;
  readonly killAt?: KillPoint;
  /** The `Idempotency-Key` of the calls after `ready`, if any. */
  readonly key?: string;
}

/**
 * Runs the worker until it has paid once (`ready`), then kills it with SIGKILL `killAfterMs`
 * later, or, with `spec.killAt`, waits until it has killed itself there. Resolves with how many
 * lines (calls) it reported and the signal it died of.
 */
export async function runPayingWorker(spec: PayingWorkerSpec, killAfterMs?: number): Promise<{ lines: number; signal: NodeJS.Signals | null }> {
  const child = spawn(process.execPath, ['--import', 'tsx', WORKER, JSON.stringify(spec)], { stdio: ['ignore', 'pipe', 'pipe'] });
  let lines = 0;
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<NodeJS.Signals | null>((resolve) => child.once('exit', (_code, signal) => resolve(signal)));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the paying worker did not get ready: ${stderr.slice(0, 500)}`)), 60_000);
    createInterface({ input: child.stdout }).on('line', (line) => {
      lines++;
      if (line === 'ready') {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once('exit', (code) => reject(new Error(`the paying worker exited (${String(code)}) before it was ready: ${stderr.slice(0, 500)}`)));
  });
  if (killAfterMs !== undefined) {
    await new Promise((resolve) => setTimeout(resolve, killAfterMs));
    child.kill('SIGKILL');
  } else {
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    exited.finally(() => clearTimeout(timer)).catch(() => undefined);
  }
  return { lines, signal: await exited };
}

/** Waits until `balance()` has not changed for `quietMs` (the server finishes settling what it received); returns it. */
export async function quietBalance(balance: () => Promise<bigint>, quietMs = 2_000): Promise<bigint> {
  let last = await balance();
  let since = Date.now();
  while (Date.now() - since < quietMs) {
    await new Promise((resolve) => setTimeout(resolve, 200));
    const now = await balance();
    if (now !== last) [last, since] = [now, Date.now()];
  }
  return last;
}

/** The sum of the amounts of the records whose status passes `which`. */
export function countedAmount(records: readonly { status: string; amount: string }[], which: (status: string) => boolean): bigint {
  return records.filter((r) => which(r.status)).reduce((sum, r) => sum + BigInt(r.amount), 0n);
}

/**
 * Moves the chain's time `seconds` ahead (past every `validBefore` of the runs so far) and mines
 * a block; {@link reconcileLater} then moves this machine's clock as far.
 */
export async function advanceChain(stack: LocalStack, seconds: number): Promise<void> {
  await rpcRequest(stack.rpcUrl, 'evm_increaseTime', [`0x${seconds.toString(16)}`]);
  await rpcRequest(stack.rpcUrl, 'anvil_mine', ['0x1']);
}

/**
 * Reconciles a worker's file ledger `seconds` later (the clock moved as the chain was by
 * {@link advanceChain}), at the latest block; resolves with the outcomes and the report after.
 */
export async function reconcileLater(
  stack: LocalStack,
  run: { readonly privateKey: `0x${string}`; readonly ledger: string },
  seconds: number,
): Promise<{ outcomes: ReconciledPayment[]; records: SpendRecord[] }> {
  const paidFetch = wrapFetch(fetch, privateKeyToAccount(run.privateKey), {
    store: fileStore(run.ledger),
    reconcile: chainChecker({ 'eip155:84532': stack.publicClient }, { blockTag: 'latest' }),
    clock: () => Date.now() + seconds * 1000,
  });
  const outcomes = await paidFetch.budget.reconcile();
  return { outcomes, records: await paidFetch.budget.report() };
}
