/**
 * Crash consistency at each point of a payment (THREATS H4 and §3: "kill -9 at 6 points …
 * ledger < chain-settled at any sample: 0; after validBefore + grace, |ledger − chain| = 0").
 * The worker pays the official v2 server on anvil through a file ledger and kills itself with
 * SIGKILL at one point of a payment: reserved; signed; recorded as sent; sent; answered; settled.
 * Each time the ledger verifies, counts at least what the chain moved, and holds the payment in
 * the state that point implies; after the chain passes every `validBefore` (and the latest one
 * planned for a reservation), `reconcile()` leaves the ledger equal to the chain with nothing
 * undecided. (`crash.test.ts` kills at random moments of a busier loop.)
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { SpendStatus } from '../../src/index.js';
import { fileStore } from '../../src/node/index.js';
import { useLocalStack } from '../support/localStack.js';
import { advanceChain, countedAmount, quietBalance, reconcileLater, runPayingWorker } from '../support/payingProcess.js';
import type { KillPoint } from '../support/payingWorker.js';

const TIMEOUT = 240_000;
const stack = useLocalStack(90_000);
const FUNDED = 10_000_000n; // 10 USDC
const dirs: string[] = [];
afterAll(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

/** Each point, and the status the killed payment has in the ledger right after. */
const POINTS: readonly (readonly [KillPoint, SpendStatus])[] = [
  ['post-reserve', 'reserved'],
  ['post-sign', 'reserved'],
  ['post-write-ahead', 'unknown'],
  ['in-flight', 'unknown'],
  ['post-response', 'unknown'],
  ['post-settle', 'settled'],
];

describe('kill -9 at each point of a payment (file ledger, official v2 server on anvil)', { timeout: TIMEOUT }, () => {
  it('the ledger never undercounts the chain; reconciled after expiry, it equals the chain at every point', async () => {
    const runs: { point: KillPoint; ledger: string; address: `0x${string}`; privateKey: `0x${string}` }[] = [];
    for (const [point, status] of POINTS) {
      const dir = await mkdtemp(join(tmpdir(), 'x402-crash-point-'));
      dirs.push(dir);
      const payer = await stack().newPayer(FUNDED);
      const ledger = join(dir, 'ledger.json');
      const { signal } = await runPayingWorker({ url: `${stack().v2.url}/weather`, privateKey: payer.privateKey, ledger, concurrency: 1, killAt: point });
      expect(signal, `${point}: the worker killed itself`).toBe('SIGKILL');
      runs.push({ point, ledger, address: payer.address, privateKey: payer.privateKey });

      const spent = FUNDED - (await quietBalance(() => stack().balanceOf(payer.address)));
      const store = fileStore(ledger);
      await store.verify();
      const records = await store.report();
      // The first payment (before `ready`) settled; the killed one is the last record.
      expect(records.map((r) => r.status), point).toEqual(['settled', status]);
      expect(records[1]!.authorization, `${point}: the killed payment's record says where to look on chain`).toBeDefined();
      expect(countedAmount(records, (s) => s !== 'released'), `${point}: ledger ≥ chain`).toBeGreaterThanOrEqual(spent);
    }

    await advanceChain(stack(), 400); // past every validBefore, and every one planned
    for (const run of runs) {
      const { outcomes, records } = await reconcileLater(stack(), run, 400);
      const spent = FUNDED - (await stack().balanceOf(run.address));
      expect(records.filter((r) => r.status !== 'settled' && r.status !== 'released'), `${run.point}: nothing undecided`).toEqual([]);
      expect(countedAmount(records, (s) => s !== 'released'), `${run.point}: ledger = chain`).toBe(spent);
      // Only the killed payment was asked about (settled ones are taken as given without { receipts: true }).
      expect(outcomes.map((o) => o.state), run.point).toEqual(run.point === 'post-settle' ? [] : [expect.stringMatching(/^(used|expired)$/)]);
    }
  });
});
