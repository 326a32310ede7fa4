/**
 * A keyed job whose worker died mid-payment, with the real parts: the worker pays the official
 * x402 v2 server on anvil through a file ledger and kills itself (SIGKILL) in the middle of the
 * job's payment, which keeps the job's `Idempotency-Key` claimed in the ledger. The next worker
 * (another process: here the test, with the same ledger and key, and the `reconcile` option on
 * the same chain) is refused (`claimed`) while that payment could still be settled; once the
 * chain is past its `validBefore`:
 * - killed after signing, or after recording it as sent, before sending: the chain shows it
 *   expired unused, so it is given back and the job is paid, once;
 * - killed after the server answered (it settled): the chain shows it used, so the job is
 *   refused (`claimed`) and nothing more is paid.
 */
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { privateKeyToAccount } from 'viem/accounts';
import { afterAll, describe, expect, it } from 'vitest';
import { chainChecker, getPayment, wrapFetch, type SpendStatus } from '../../src/index.js';
import { fileStore } from '../../src/node/index.js';
import { useLocalStack } from '../support/localStack.js';
import { advanceChain, quietBalance, runPayingWorker } from '../support/payingProcess.js';
import type { KillPoint } from '../support/payingWorker.js';

const TIMEOUT = 240_000;
const stack = useLocalStack(90_000);
const FUNDED = 10_000_000n; // 10 USDC
const PRICE = 10_000n; // the /weather route: 0.01 USDC
const AHEAD_S = 400;
const dirs: string[] = [];
afterAll(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

/** Where the worker dies, the killed payment's status in the ledger, and whether the job is paid after expiry. */
const POINTS: readonly (readonly [KillPoint, SpendStatus, 'paid' | 'claimed'])[] = [
  ['post-sign', 'reserved', 'paid'],
  ['post-write-ahead', 'unknown', 'paid'],
  ['post-response', 'unknown', 'claimed'],
];

/** The next worker of the job: the same payer, ledger and key, with the reconcile option; its clock `aheadS` seconds ahead (as the chain was moved). */
function nextWorker(run: { privateKey: `0x${string}`; ledger: string; key: string }, aheadS: number) {
  const paidFetch = wrapFetch(fetch, privateKeyToAccount(run.privateKey), {
    store: fileStore(run.ledger),
    reconcile: chainChecker({ 'eip155:84532': stack().publicClient }, { blockTag: 'latest' }),
    clock: () => Date.now() + aheadS * 1000,
    resend: false,
  });
  return (url: string) =>
    paidFetch(url, { headers: { 'Idempotency-Key': run.key } }).then(
      (response) => ({ response, error: undefined }),
      (error: unknown) => ({ response: undefined, error: error as { code?: string; state?: string; authorization?: { nonce: string } } }),
    );
}

describe('a keyed job whose worker died mid-payment (file ledger, official v2 server on anvil, reconcile)', { timeout: TIMEOUT }, () => {
  it('refused while the dead payment can be settled; after its validBefore, paid once if it expired unused, refused if it was settled', async () => {
    const url = `${stack().v2.url}/weather`;
    const runs: { point: KillPoint; after: 'paid' | 'claimed'; ledger: string; key: string; privateKey: `0x${string}`; address: `0x${string}`; nonce: string; spent: bigint }[] = [];
    for (const [point, status, after] of POINTS) {
      const dir = await mkdtemp(join(tmpdir(), 'x402-dead-holder-'));
      dirs.push(dir);
      const payer = await stack().newPayer(FUNDED);
      const ledger = join(dir, 'ledger.json');
      const key = `job-${randomUUID()}`;
      const { signal } = await runPayingWorker({ url, privateKey: payer.privateKey, ledger, concurrency: 1, killAt: point, key });
      expect(signal, `${point}: the worker killed itself`).toBe('SIGKILL');
      const spent = FUNDED - (await quietBalance(() => stack().balanceOf(payer.address)));
      const records = await fileStore(ledger).report();
      // The first payment (unkeyed, before `ready`) settled; the job's is the last record, holding the key.
      expect(records.map((r) => r.status), point).toEqual(['settled', status]);
      expect(records[1]!.id, `${point}: the job's reservation claimed the key`).toMatch(/^pay_[0-9a-f]{24}_[0-9a-f]{32}$/);
      expect(spent, point).toBe(point === 'post-response' ? 2n * PRICE : PRICE);
      const nonce = records[1]!.authorization!.nonce;
      const run = { point, after, ledger, key, privateKey: payer.privateKey, address: payer.address, nonce, spent };
      runs.push(run);

      // Now: the dead payment is still valid (or settled): refused, nothing signed or sent.
      const early = await nextWorker(run, 0)(url);
      expect(early.error, point).toMatchObject({ code: 'duplicate_request', state: 'claimed', authorization: { nonce } });
      expect((await fileStore(ledger).report()).map((r) => r.status), point).toEqual(['settled', status]);
    }

    await advanceChain(stack(), AHEAD_S); // past every validBefore, and every one planned
    for (const run of runs) {
      const outcome = await nextWorker(run, AHEAD_S)(url);
      const balance = await quietBalance(() => stack().balanceOf(run.address));
      const records = await fileStore(run.ledger).report();
      if (run.after === 'paid') {
        expect(outcome.error, run.point).toBeUndefined();
        expect(outcome.response!.status, run.point).toBe(200);
        const payment = getPayment(outcome.response!)!;
        expect(payment.status, run.point).toBe('settled');
        expect(payment.authorization.nonce, run.point).not.toBe(run.nonce);
        expect(FUNDED - balance, `${run.point}: one more transfer, the job's`).toBe(run.spent + PRICE);
        expect(records.map((r) => r.status), run.point).toEqual(['settled', 'released', 'settled']);
        expect(await stack().publicClient.readContract({
          address: records[1]!.asset as `0x${string}`,
          abi: [{ type: 'function', name: 'authorizationState', stateMutability: 'view', inputs: [{ type: 'address' }, { type: 'bytes32' }], outputs: [{ type: 'bool' }] }],
          functionName: 'authorizationState',
          args: [run.address, run.nonce as `0x${string}`],
        }), `${run.point}: the dead nonce is still unused`).toBe(false);
      } else {
        expect(outcome.error, run.point).toMatchObject({ code: 'duplicate_request', state: 'claimed', authorization: { nonce: run.nonce } });
        expect(FUNDED - balance, `${run.point}: nothing more paid`).toBe(run.spent);
        expect(records.map((r) => r.status), run.point).toEqual(['settled', 'unknown']);
      }
    }
  });
});
