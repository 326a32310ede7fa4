/**
 * Crash consistency (THREATS H4: "kill -9 at each point; the ledger never undercounts the chain;
 * it converges after validBefore + grace"). A worker process pays the official v2 server on anvil
 * in a loop, three calls at a time, through a file ledger, and is killed with SIGKILL after a
 * random delay: mid-signature, mid-write, mid-flight, mid-settlement. Then:
 *
 * - the ledger opens and verifies (a kill never bricks it), and counts at least what the chain
 *   moved, once the server has finished what it was settling;
 * - after the chain's time passes every authorization's `validBefore` (for a reservation never
 *   recorded as sent: the latest one planned for it), `reconcile()` gives back what was never
 *   settled, signed or not, and records as settled what was: the ledger then counts exactly
 *   what the chain moved (THREATS §3: "after validBefore + grace, |ledger − chain| = 0").
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { privateKeyToAccount } from 'viem/accounts';
import { wrapFetch } from '../../src/index.js';
import { fileStore } from '../../src/node/index.js';
import { useLocalStack } from '../support/localStack.js';
import { advanceChain, countedAmount, quietBalance, reconcileLater, runPayingWorker } from '../support/payingProcess.js';

const TIMEOUT = 240_000;
const stack = useLocalStack(90_000);
const KILLS = 6;
const FUNDED = 10_000_000n; // 10 USDC
const dirs: string[] = [];
afterAll(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

/** A small deterministic PRNG (mulberry32), so a failing run can be replayed. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('kill -9 while paying (file ledger, official v2 server on anvil)', { timeout: TIMEOUT }, () => {
  it(`${KILLS} kills at random points: the ledger survives and never undercounts the chain; reconciled, it counts exactly what the chain moved`, async () => {
    const random = prng(0x402);
    const runs: { ledger: string; address: `0x${string}`; privateKey: `0x${string}`; delayMs: number; calls: number }[] = [];
    for (let i = 0; i < KILLS; i++) {
      const dir = await mkdtemp(join(tmpdir(), 'x402-crash-'));
      dirs.push(dir);
      const payer = await stack().newPayer(FUNDED);
      const ledger = join(dir, 'ledger.json');
      const delayMs = Math.floor(random() * 1_500);
      const { lines: calls } = await runPayingWorker({ url: `${stack().v2.url}/weather`, privateKey: payer.privateKey, ledger, concurrency: 3 }, delayMs);
      runs.push({ ledger, address: payer.address, privateKey: payer.privateKey, delayMs, calls });

      const spent = FUNDED - (await quietBalance(() => stack().balanceOf(payer.address)));
      const store = fileStore(ledger);
      await store.verify(); // the whole journal: hashes, chain, replay
      const records = await store.report();
      const inLedger = countedAmount(records, (s) => s !== 'released');
      const statuses = records.reduce<Record<string, number>>((acc, r) => ({ ...acc, [r.status]: (acc[r.status] ?? 0) + 1 }), {});
      console.log(`[crash] kill ${i} after ${delayMs} ms: ledger ${JSON.stringify(statuses)}, counts ${inLedger}, chain moved ${spent}`);
      expect(inLedger, `kill ${i} after ${delayMs} ms: the ledger counts ${inLedger}, the chain moved ${spent}`).toBeGreaterThanOrEqual(spent);
      expect(spent).toBeGreaterThan(0n); // the worker paid at least once before each kill
      // And the ledger still pays: the kill did not brick it.
      const again = wrapFetch(fetch, privateKeyToAccount(payer.privateKey), { store: fileStore(ledger) });
      expect((await again(`${stack().v2.url}/weather`)).status).toBe(200);
    }

    // Let the chain's time pass every authorization's validBefore (at most maxAuthSeconds, 300 s,
    // plus 30 s of slack for a reservation's plan), and this machine's clock with it.
    await advanceChain(stack(), 400);
    for (const run of runs) {
      const { outcomes, records } = await reconcileLater(stack(), run, 400);
      console.log(`[crash] reconciled after the expiry: ${JSON.stringify(outcomes.map((o) => [o.state, o.released ?? null]))}`);
      expect(outcomes.every((o) => o.state === 'used' || o.state === 'expired'), JSON.stringify(outcomes.map((o) => o.state))).toBe(true);
      const spent = FUNDED - (await stack().balanceOf(run.address));
      const inLedger = countedAmount(records, (s) => s !== 'released');
      expect(records.filter((r) => r.status === 'reserved' || r.status === 'unknown' || r.status === 'failed'), 'nothing left undecided').toEqual([]);
      expect(inLedger, `after ${run.delayMs} ms (${run.calls} lines): ledger = chain`).toBe(spent);
    }
  });
});
