/**
 * Conformance suite of the {@link SpendStore} interface. Every store runs it:
 *
 * ```ts
 * import { describeSpendStore } from '../support/storeContract.js';
 * describeSpendStore('memoryStore', async (clock) => ({ store: memoryStore({ clock: () => clock.now }) }));
 * ```
 *
 * `make` is called once per case and must return an EMPTY store (fresh file, fresh Redis prefix…)
 * whose clock reads `clock.now` (ms since the epoch) when it can; `cleanup` runs after the case.
 * A store whose clock cannot be controlled (Redis uses the server's TIME) passes
 * `{ controllableClock: false }`: the cases that move the clock are then skipped, every other
 * case still runs.
 *
 * The window cases pin the bucket arithmetic shared by every store (see `src/budget/windows.ts`):
 * a rolling window of S seconds never under-counts, and forgets an amount at the latest one
 * bucket (S/12, S/60 or S/288 seconds) after S seconds; calendar windows reset on UTC
 * minute/hour/day boundaries; buckets from the future (clock moved back) still count; and a
 * clock stepping back by up to 2 h (`CLOCK_JUMP_GRACE_SECONDS`) after the window moved on finds
 * what was spent there still counted (buckets are kept that long after they stop counting).
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { CounterCheck, CounterWindow, ReserveRequest, SpendStore } from '../../src/budget/store.js';
import { keyClaimCheck } from '../../src/budget/keyClaimCheck.js';

/** The clock a store under test reads: ms since the epoch, moved by the cases. */
export interface ContractClock {
  now: number;
}

/** What `make` returns. */
export interface ContractStore {
  store: SpendStore;
  cleanup?: () => Promise<void>;
}

/** Options of {@link describeSpendStore}. */
export interface ContractOptions {
  /** Whether the store reads `clock.now` (default true). False skips the cases that move the clock. */
  controllableClock: boolean;
}

const MINUTE = 60_000;
const HOUR = 3_600_000;
const DAY = 86_400_000;
/** 2025-03-10T10:20:30.000Z: in the middle of a minute, an hour and a day. */
const START = Date.UTC(2025, 2, 10, 10, 20, 30);

const TOTAL: CounterWindow = { kind: 'total' };
const rolling = (seconds: 60 | 3600 | 86400): CounterWindow => ({ kind: 'rolling', seconds });
const calendar = (seconds: 60 | 3600 | 86400): CounterWindow => ({ kind: 'calendar', seconds });

/** Bucket width in ms of a rolling window (the tolerance of its expiry). */
const bucketMs = (seconds: 60 | 3600 | 86400) => (seconds === 60 ? 5_000 : seconds === 3600 ? 60_000 : 300_000);

const check = (key: string, window: CounterWindow, amount: bigint, limit: bigint): CounterCheck => ({ key, window, amount, limit });

let serial = 0;
/** A reserve request with a unique id (unless given) and a plain record. */
function request(checks: CounterCheck[], id = `r${++serial}_${Math.random().toString(36).slice(2, 8)}`): ReserveRequest {
  return {
    id,
    checks,
    record: { host: 'api.example.com', payee: '0x1111111111111111111111111111111111111111', amount: '10000', asset: '0x036CbD53842c5426634e7929541eC2318f3dCF7e', network: 'eip155:84532' },
  };
}

/** Reads one counter. */
async function used(store: SpendStore, key: string, window: CounterWindow): Promise<bigint> {
  const [value] = await store.usage([{ key, window }]);
  return value!;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Declares the conformance suite of a {@link SpendStore}.
 *
 * @param name Shown in the test names.
 * @param make Builds an empty store reading `clock.now`, once per case.
 * @param options `{ controllableClock: false }` skips the cases that move the clock.
 */
export function describeSpendStore(
  name: string,
  make: (clock: ContractClock) => Promise<ContractStore>,
  options: ContractOptions = { controllableClock: true },
): void {
  describe(`SpendStore contract: ${name}`, () => {
    const cleanups: (() => Promise<void>)[] = [];
    afterEach(async () => {
      for (const cleanup of cleanups.splice(0)) await cleanup();
    });
    const open = async (start = START) => {
      const clock: ContractClock = { now: start };
      const made = await make(clock);
      if (made.cleanup) cleanups.push(made.cleanup);
      return { clock, store: made.store };
    };
    const timed = options.controllableClock ? it : it.skip;

    describe('reserve', () => {
      it('reserves within the limits, adds to every counter and records the reservation', async () => {
        const { store } = await open();
        const result = await store.reserve(request([check('a|usd|total', TOTAL, 30n, 100n), check('a|count|calendar:60', calendar(60), 1n, 5n)], 'one'));
        expect(result.ok).toBe(true);
        expect(await store.usage([{ key: 'a|usd|total', window: TOTAL }, { key: 'a|count|calendar:60', window: calendar(60) }])).toEqual([30n, 1n]);
        const report = await store.report();
        expect(report).toHaveLength(1);
        expect(report[0]).toMatchObject({
          id: 'one',
          status: 'reserved',
          host: 'api.example.com',
          payee: '0x1111111111111111111111111111111111111111',
          amount: '10000',
          asset: '0x036CbD53842c5426634e7929541eC2318f3dCF7e',
          network: 'eip155:84532',
        });
        expect(report[0]!.transaction).toBeUndefined();
        if (result.ok) expect(report[0]!.time).toBe(result.time);
      });

      it('accepts a reservation with no checks (nothing to count)', async () => {
        const { store } = await open();
        expect((await store.reserve(request([]))).ok).toBe(true);
        expect(await store.report()).toHaveLength(1);
      });

      it('accepts exactly up to the limit and refuses one unit more, naming the failed check and its usage', async () => {
        const { store } = await open();
        expect((await store.reserve(request([check('b|usd|total', TOTAL, 60n, 100n)]))).ok).toBe(true);
        expect((await store.reserve(request([check('b|usd|total', TOTAL, 40n, 100n)]))).ok).toBe(true);
        expect(await used(store, 'b|usd|total', TOTAL)).toBe(100n);
        const refused = await store.reserve(request([check('other|usd|total', TOTAL, 1n, 1000n), check('b|usd|total', TOTAL, 1n, 100n)]));
        expect(refused).toEqual({ ok: false, failed: 1, used: 100n });
      });

      it('refuses a single amount over the limit on an empty counter', async () => {
        const { store } = await open();
        expect(await store.reserve(request([check('c|usd|total', TOTAL, 101n, 100n)]))).toEqual({ ok: false, failed: 0, used: 0n });
        expect((await store.reserve(request([check('c|usd|total', TOTAL, 100n, 100n)]))).ok).toBe(true);
      });

      it('reports the first failing check when several would overflow', async () => {
        const { store } = await open();
        await store.reserve(request([check('d1|usd|total', TOTAL, 10n, 10n), check('d2|usd|total', TOTAL, 10n, 10n)]));
        expect(await store.reserve(request([check('d0|usd|total', TOTAL, 1n, 10n), check('d1|usd|total', TOTAL, 1n, 10n), check('d2|usd|total', TOTAL, 1n, 10n)]))).toEqual({
          ok: false,
          failed: 1,
          used: 10n,
        });
      });

      it('a refused reservation changes nothing: no counter moves, no record, the id stays free', async () => {
        const { store } = await open();
        await store.reserve(request([check('e|usd|total', TOTAL, 90n, 100n)], 'first'));
        const reportBefore = await store.report();
        const refused = await store.reserve(request([check('e2|usd|total', TOTAL, 5n, 100n), check('e3|count|rolling:60', rolling(60), 1n, 10n), check('e|usd|total', TOTAL, 11n, 100n)], 'refused'));
        expect(refused).toEqual({ ok: false, failed: 2, used: 90n });
        expect(await store.usage([{ key: 'e|usd|total', window: TOTAL }, { key: 'e2|usd|total', window: TOTAL }, { key: 'e3|count|rolling:60', window: rolling(60) }])).toEqual([90n, 0n, 0n]);
        expect(await store.report()).toEqual(reportBefore);
        // Releasing or settling the refused id is a no-op too.
        await store.release('refused');
        expect(await used(store, 'e|usd|total', TOTAL)).toBe(90n);
        // The same id may be used again once it fits.
        expect((await store.reserve(request([check('e|usd|total', TOTAL, 10n, 100n)], 'refused'))).ok).toBe(true);
        expect(await used(store, 'e|usd|total', TOTAL)).toBe(100n);
      });

      it('is idempotent by id: reserving the same id again counts it once and records it once', async () => {
        const { store } = await open();
        const first = await store.reserve(request([check('f|usd|total', TOTAL, 40n, 100n)], 'same'));
        const again = await store.reserve(request([check('f|usd|total', TOTAL, 40n, 100n)], 'same'));
        expect(first.ok && again.ok).toBe(true);
        if (first.ok && again.ok) expect(again.time).toBe(first.time);
        expect(await used(store, 'f|usd|total', TOTAL)).toBe(40n);
        expect((await store.report()).map((r) => r.id)).toEqual(['same']);
        // Even when a repeat would not fit any more, the existing reservation stands.
        await store.reserve(request([check('f|usd|total', TOTAL, 60n, 100n)]));
        expect((await store.reserve(request([check('f|usd|total', TOTAL, 40n, 100n)], 'same'))).ok).toBe(true);
        expect(await used(store, 'f|usd|total', TOTAL)).toBe(100n);
        // One release undoes it once.
        await store.release('same');
        expect(await used(store, 'f|usd|total', TOTAL)).toBe(60n);
      });

      it('is idempotent by id under concurrency: the same id reserved 20 times at once counts once', async () => {
        const { store } = await open();
        const results = await Promise.all(Array.from({ length: 20 }, () => store.reserve(request([check('g|usd|total', TOTAL, 7n, 1000n)], 'dup'))));
        expect(results.every((r) => r.ok)).toBe(true);
        expect(await used(store, 'g|usd|total', TOTAL)).toBe(7n);
        expect((await store.report()).filter((r) => r.id === 'dup')).toHaveLength(1);
      });

      it('200 concurrent reservations against a limit of 50 accept exactly 50', async () => {
        const { store } = await open();
        const results = await Promise.all(
          Array.from({ length: 200 }, () => store.reserve(request([check('h|usd|total', TOTAL, 1n, 50n), check('h|count|calendar:86400', calendar(86400), 1n, 1000n)]))),
        );
        expect(results.filter((r) => r.ok)).toHaveLength(50);
        for (const r of results) if (!r.ok) expect(r).toEqual({ ok: false, failed: 0, used: 50n });
        expect(await store.usage([{ key: 'h|usd|total', window: TOTAL }, { key: 'h|count|calendar:86400', window: calendar(86400) }])).toEqual([50n, 50n]);
        expect(await store.report()).toHaveLength(50);
      });

      it('keeps counters apart by key', async () => {
        const { store } = await open();
        await store.reserve(request([check('k1|usd|total', TOTAL, 7n, 10n)]));
        await store.reserve(request([check('k2|usd|total', TOTAL, 5n, 10n)]));
        expect(await store.usage([{ key: 'k1|usd|total', window: TOTAL }, { key: 'k2|usd|total', window: TOTAL }, { key: 'k3|usd|total', window: TOTAL }])).toEqual([7n, 5n, 0n]);
      });

      it('amounts and limits beyond 2^53 are exact, or refused with an error (never rounded)', async () => {
        const { store } = await open();
        const big = 2n ** 70n + 3n;
        try {
          await store.reserve(request([check('k1|usd|total', TOTAL, big, 2n ** 80n)]));
        } catch {
          // Failing closed is allowed; nothing may have been counted.
          return;
        }
        expect(await used(store, 'k1|usd|total', TOTAL)).toBe(big);
        expect(await store.reserve(request([check('k1|usd|total', TOTAL, 2n ** 80n - big + 1n, 2n ** 80n)]))).toEqual({ ok: false, failed: 0, used: big });
        expect((await store.reserve(request([check('k1|usd|total', TOTAL, 2n ** 80n - big, 2n ** 80n)]))).ok).toBe(true);
        expect(await used(store, 'k1|usd|total', TOTAL)).toBe(2n ** 80n);
      });
    });

    describe('release and settle', () => {
      it('release subtracts the reservation from every counter and marks it released', async () => {
        const { store } = await open();
        await store.reserve(request([check('r|usd|total', TOTAL, 30n, 100n)], 'keep'));
        await store.reserve(request([check('r|usd|total', TOTAL, 50n, 100n), check('r|count|rolling:3600', rolling(3600), 1n, 10n), check('r|usd|calendar:86400', calendar(86400), 50n, 100n)], 'undo'));
        await store.release('undo');
        expect(await store.usage([{ key: 'r|usd|total', window: TOTAL }, { key: 'r|count|rolling:3600', window: rolling(3600) }, { key: 'r|usd|calendar:86400', window: calendar(86400) }])).toEqual([30n, 0n, 0n]);
        expect((await store.report()).map((r) => [r.id, r.status])).toEqual([
          ['keep', 'reserved'],
          ['undo', 'released'],
        ]);
        // The room is back.
        expect((await store.reserve(request([check('r|usd|total', TOTAL, 70n, 100n)]))).ok).toBe(true);
      });

      it('release twice subtracts once', async () => {
        const { store } = await open();
        await store.reserve(request([check('rr|usd|total', TOTAL, 30n, 100n)]));
        await store.reserve(request([check('rr|usd|total', TOTAL, 20n, 100n)], 'twice'));
        expect(await store.release('twice')).toBe(true);
        expect(await store.release('twice')).toBe(false);
        expect(await used(store, 'rr|usd|total', TOTAL)).toBe(30n);
      });

      it('release of an unknown id is a no-op', async () => {
        const { store } = await open();
        await store.reserve(request([check('u|usd|total', TOTAL, 30n, 100n)], 'known'));
        const before = await store.report();
        await expect(store.release('never-reserved')).resolves.toBe(false);
        expect(await used(store, 'u|usd|total', TOTAL)).toBe(30n);
        expect(await store.report()).toEqual(before);
      });

      it('settle keeps the amount counted and records status and transaction', async () => {
        const { store } = await open();
        const tx = `0x${'ab'.repeat(32)}`;
        await store.reserve(request([check('s|usd|total', TOTAL, 10n, 100n)], 'ok'));
        await store.reserve(request([check('s|usd|total', TOTAL, 20n, 100n)], 'bad'));
        await store.reserve(request([check('s|usd|total', TOTAL, 30n, 100n)], 'lost'));
        await store.settle('ok', 'settled', tx);
        await store.settle('bad', 'failed');
        await store.settle('lost', 'unknown');
        expect(await used(store, 's|usd|total', TOTAL)).toBe(60n);
        const report = await store.report();
        expect(report.map((r) => [r.id, r.status, r.transaction])).toEqual([
          ['ok', 'settled', tx],
          ['bad', 'failed', undefined],
          ['lost', 'unknown', undefined],
        ]);
        expect(report[0]).toMatchObject({ host: 'api.example.com', amount: '10000', network: 'eip155:84532' });
      });

      it('a settled reservation can no longer be released', async () => {
        const { store } = await open();
        await store.reserve(request([check('sr|usd|total', TOTAL, 10n, 100n)], 'paid'));
        await store.settle('paid', 'settled', '0x01');
        expect(await store.release('paid')).toBe(false);
        expect(await used(store, 'sr|usd|total', TOTAL)).toBe(10n);
        expect((await store.report())[0]).toMatchObject({ id: 'paid', status: 'settled', transaction: '0x01' });
      });

      it('a failed or unknown payment stays counted, and can still be released (a reconciliation found it expired unused), once', async () => {
        const { store } = await open();
        await store.reserve(request([check('h|usd|total', TOTAL, 10n, 100n)], 'keep'));
        await store.reserve(request([check('h|usd|total', TOTAL, 20n, 100n), check('h|count|rolling:3600', rolling(3600), 1n, 10n)], 'lost'));
        await store.reserve(request([check('h|usd|total', TOTAL, 30n, 100n)], 'refused'));
        await store.settle('keep', 'settled', '0x01');
        await store.settle('lost', 'unknown');
        await store.settle('refused', 'failed');
        expect(await used(store, 'h|usd|total', TOTAL)).toBe(60n);
        expect(await store.release('lost')).toBe(true);
        expect(await store.release('lost')).toBe(false);
        expect(await store.release('refused')).toBe(true);
        expect(await store.usage([{ key: 'h|usd|total', window: TOTAL }, { key: 'h|count|rolling:3600', window: rolling(3600) }])).toEqual([10n, 0n]);
        expect((await store.report()).map((r) => [r.id, r.status])).toEqual([
          ['keep', 'settled'],
          ['lost', 'released'],
          ['refused', 'released'],
        ]);
      });

      it('an unknown payment found settled later can no longer be released', async () => {
        const { store } = await open();
        await store.reserve(request([check('hs|usd|total', TOTAL, 25n, 100n)], 'late'));
        await store.settle('late', 'unknown');
        await store.settle('late', 'settled', '0x02');
        expect(await store.release('late')).toBe(false);
        expect(await used(store, 'hs|usd|total', TOTAL)).toBe(25n);
        expect((await store.report())[0]).toMatchObject({ id: 'late', status: 'settled', transaction: '0x02' });
      });

      it('settle keeps where the authorization can be looked up, in the report, across a later settle', async () => {
        const { store } = await open();
        const authorization = { from: '0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266', nonce: `0x${'5a'.repeat(32)}`, validBefore: '1750000060' };
        await store.reserve(request([check('a|usd|total', TOTAL, 10n, 100n)], 'auth'));
        await store.reserve(request([check('a|usd|total', TOTAL, 10n, 100n)], 'none'));
        expect((await store.report())[0]).not.toHaveProperty('authorization');
        await store.settle('auth', 'unknown', undefined, authorization);
        await store.settle('none', 'failed');
        expect((await store.report()).map((r) => [r.id, r.authorization])).toEqual([
          ['auth', authorization],
          ['none', undefined],
        ]);
        await store.settle('auth', 'settled', '0x03');
        expect((await store.report())[0]).toMatchObject({ status: 'settled', transaction: '0x03', authorization });
      });

      it('reserve keeps the planned authorization in the report; the signed one replaces it; a release keeps it (crash recovery, H4)', async () => {
        const { store } = await open();
        const planned = { from: '0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266', nonce: `0x${'6b'.repeat(32)}`, validBefore: '1750000090' };
        const base = request([check('a|usd|total', TOTAL, 10n, 100n)], 'planned');
        await store.reserve({ ...base, record: { ...base.record, authorization: planned } });
        await store.reserve({ ...base, id: 'left', record: { ...base.record, authorization: { ...planned, nonce: `0x${'7c'.repeat(32)}` } } });
        expect((await store.report()).map((r) => [r.id, r.status, r.authorization])).toEqual([
          ['planned', 'reserved', planned],
          ['left', 'reserved', { ...planned, nonce: `0x${'7c'.repeat(32)}` }],
        ]);
        const signed = { ...planned, validBefore: '1750000060' };
        await store.settle('planned', 'unknown', undefined, signed);
        expect(await store.release('left')).toBe(true);
        expect(await used(store, 'a|usd|total', TOTAL)).toBe(10n);
        expect((await store.report()).map((r) => [r.id, r.status, r.authorization])).toEqual([
          ['planned', 'unknown', signed],
          ['left', 'released', { ...planned, nonce: `0x${'7c'.repeat(32)}` }],
        ]);
      });

      it('a release is final: a settle arriving after it (a late answer) changes neither the counters nor the report', async () => {
        const { store } = await open();
        await store.reserve(request([check('rf|usd|total', TOTAL, 40n, 100n)], 'late-answer'));
        await store.settle('late-answer', 'unknown');
        expect(await store.release('late-answer')).toBe(true);
        await store.settle('late-answer', 'settled', '0x04');
        expect(await used(store, 'rf|usd|total', TOTAL)).toBe(0n);
        expect((await store.report())[0]).toMatchObject({ id: 'late-answer', status: 'released' });
        expect((await store.report())[0]).not.toHaveProperty('transaction');
      });

      it('settle of an unknown id is a no-op', async () => {
        const { store } = await open();
        await expect(store.settle('never-reserved', 'settled', '0x01')).resolves.toBeUndefined();
        expect(await store.report()).toEqual([]);
      });
    });

    describe('usage and report', () => {
      it('usage returns one value per counter asked, in order, 0 for unknown counters', async () => {
        const { store } = await open();
        await store.reserve(request([check('x|usd|rolling:3600', rolling(3600), 5n, 100n), check('x|usd|calendar:3600', calendar(3600), 6n, 100n), check('x|usd|total', TOTAL, 7n, 100n)]));
        expect(
          await store.usage([
            { key: 'x|usd|total', window: TOTAL },
            { key: 'nope', window: TOTAL },
            { key: 'x|usd|calendar:3600', window: calendar(3600) },
            { key: 'x|usd|rolling:3600', window: rolling(3600) },
          ]),
        ).toEqual([7n, 0n, 6n, 5n]);
        expect(await store.usage([])).toEqual([]);
      });

      it('report lists oldest first; since keeps records at or after a time; limit keeps the newest', async () => {
        const { clock, store } = await open();
        const times: number[] = [];
        for (const id of ['p1', 'p2', 'p3', 'p4']) {
          const result = await store.reserve(request([check('rep|usd|total', TOTAL, 1n, 100n)], id));
          if (!result.ok) throw new Error('reserve refused');
          times.push(result.time);
          clock.now += 1_000;
          if (!options.controllableClock) await sleep(5);
        }
        expect(times).toEqual([...times].sort((a, b) => a - b));
        expect((await store.report()).map((r) => r.id)).toEqual(['p1', 'p2', 'p3', 'p4']);
        expect((await store.report({ since: times[2]! })).map((r) => r.id)).toEqual(['p3', 'p4']);
        expect((await store.report({ since: times[3]! + 1 })).map((r) => r.id)).toEqual([]);
        expect((await store.report({ limit: 2 })).map((r) => r.id)).toEqual(['p3', 'p4']);
        expect((await store.report({ limit: 10 })).map((r) => r.id)).toEqual(['p1', 'p2', 'p3', 'p4']);
        expect((await store.report({ since: times[1]!, limit: 1 })).map((r) => r.id)).toEqual(['p4']);
        expect((await store.report({ since: times[0]! })).map((r) => r.time)).toEqual(times);
      });

      it('report keeps released and settled records with their status', async () => {
        const { store } = await open();
        await store.reserve(request([], 'a'));
        await store.reserve(request([], 'b'));
        await store.release('a');
        await store.settle('b', 'settled', '0x02');
        expect((await store.report()).map((r) => [r.id, r.status])).toEqual([
          ['a', 'released'],
          ['b', 'settled'],
        ]);
      });
    });

    describe('key claims (an Idempotency-Key held by one payment at a time, across everything sharing the store)', () => {
      it('a claim is taken once, with the limits, atomically: 20 reservations of one claim at once accept exactly 1; a release frees it', async () => {
        const { store } = await open();
        const claim = keyClaimCheck(`0${'7'.repeat(31)}`);
        const limit = check('g|usd|rolling:86400', rolling(86400), 10n, 1_000n);
        const results = await Promise.all(Array.from({ length: 20 }, () => store.reserve(request([claim, limit]))));
        expect(results.filter((r) => r.ok)).toHaveLength(1);
        expect(results.filter((r) => !r.ok)).toEqual(Array.from({ length: 19 }, () => ({ ok: false, failed: 0, used: 1n })));
        // The refused ones added nothing to the limit.
        expect(await used(store, limit.key, limit.window)).toBe(10n);
        const holder = (await store.report())[0]!;
        await store.release(holder.id);
        expect((await store.reserve(request([claim, limit]))).ok).toBe(true);
      });

      timed('a claim lapses a day (and one bucket) after its payment; other claims are apart', async () => {
        const { clock, store } = await open();
        const t0 = clock.now;
        const claim = keyClaimCheck(`0${'8'.repeat(31)}`);
        expect((await store.reserve(request([claim]))).ok).toBe(true);
        expect((await store.reserve(request([keyClaimCheck(`f${'8'.repeat(31)}`)]))).ok).toBe(true);
        clock.now = t0 + DAY - MINUTE;
        expect(await store.reserve(request([claim]))).toEqual({ ok: false, failed: 0, used: 1n });
        clock.now = t0 + DAY + bucketMs(86400);
        expect((await store.reserve(request([claim]))).ok).toBe(true);
      });
    });

    describe('windows', () => {
      timed('a total counter never expires', async () => {
        const { clock, store } = await open();
        await store.reserve(request([check('t|usd|total', TOTAL, 100n, 100n)]));
        clock.now += 400 * DAY;
        expect(await used(store, 't|usd|total', TOTAL)).toBe(100n);
        expect(await store.reserve(request([check('t|usd|total', TOTAL, 1n, 100n)]))).toEqual({ ok: false, failed: 0, used: 100n });
      });

      for (const seconds of [60, 3600, 86400] as const) {
        timed(`a rolling ${seconds}s window counts for ${seconds}s and forgets after ${seconds}s + one bucket`, async () => {
          const { clock, store } = await open();
          const key = `roll|usd|rolling:${seconds}`;
          const w = rolling(seconds);
          const t0 = clock.now;
          expect((await store.reserve(request([check(key, w, 100n, 100n)]))).ok).toBe(true);
          clock.now = t0 + seconds * 1000 - 1;
          expect(await used(store, key, w)).toBe(100n);
          expect(await store.reserve(request([check(key, w, 1n, 100n)]))).toEqual({ ok: false, failed: 0, used: 100n });
          clock.now = t0 + seconds * 1000 + bucketMs(seconds);
          expect(await used(store, key, w)).toBe(0n);
          expect((await store.reserve(request([check(key, w, 100n, 100n)]))).ok).toBe(true);
        });

        timed(`a rolling ${seconds}s window sums what falls inside it`, async () => {
          const { clock, store } = await open();
          const key = `rsum|usd|rolling:${seconds}`;
          const w = rolling(seconds);
          const t0 = clock.now;
          const step = Math.floor((seconds * 1000) / 4);
          for (let i = 0; i < 4; i++) {
            expect((await store.reserve(request([check(key, w, 10n, 1000n)]))).ok).toBe(true);
            clock.now += step;
          }
          // Now at t0 + seconds: the first is at most one bucket from falling out, the others count.
          clock.now = t0 + seconds * 1000 + bucketMs(seconds);
          expect(await used(store, key, w)).toBe(30n);
          clock.now = t0 + 2 * seconds * 1000 + 2 * bucketMs(seconds);
          expect(await used(store, key, w)).toBe(0n);
        });
      }

      const calendarCases = [
        { seconds: 60, label: 'minute', boundary: Date.UTC(2025, 2, 10, 10, 21, 0) },
        { seconds: 3600, label: 'hour', boundary: Date.UTC(2025, 2, 10, 11, 0, 0) },
        { seconds: 86400, label: 'day', boundary: Date.UTC(2025, 2, 11, 0, 0, 0) },
      ] as const;
      for (const { seconds, label, boundary } of calendarCases) {
        timed(`a calendar ${label} resets exactly at the UTC ${label} boundary`, async () => {
          const { clock, store } = await open(boundary - seconds * 1000);
          const key = `cal|usd|calendar:${seconds}`;
          const w = calendar(seconds);
          expect((await store.reserve(request([check(key, w, 60n, 100n)]))).ok).toBe(true);
          clock.now = boundary - 1;
          expect((await store.reserve(request([check(key, w, 40n, 100n)]))).ok).toBe(true);
          expect(await store.reserve(request([check(key, w, 1n, 100n)]))).toEqual({ ok: false, failed: 0, used: 100n });
          clock.now = boundary;
          expect(await used(store, key, w)).toBe(0n);
          expect((await store.reserve(request([check(key, w, 100n, 100n)]))).ok).toBe(true);
        });
      }

      timed('the calendar day is the UTC day: 23:59:59.999 and 00:00 are different days', async () => {
        const midnight = Date.UTC(2025, 11, 31, 24, 0, 0);
        const { clock, store } = await open(midnight - 1);
        const w = calendar(86400);
        expect((await store.reserve(request([check('day|usd|calendar:86400', w, 100n, 100n)]))).ok).toBe(true);
        clock.now = midnight;
        expect((await store.reserve(request([check('day|usd|calendar:86400', w, 100n, 100n)]))).ok).toBe(true);
        clock.now = midnight + DAY - 1;
        expect(await used(store, 'day|usd|calendar:86400', w)).toBe(100n);
      });

      for (const w of [rolling(60), rolling(3600), rolling(86400), calendar(60), calendar(3600), calendar(86400)]) {
        timed(`after the clock moves back 2 h, future buckets still count (${w.kind}:${'seconds' in w ? w.seconds : ''})`, async () => {
          const { clock, store } = await open();
          const key = `back|usd|${w.kind}`;
          expect((await store.reserve(request([check(key, w, 100n, 100n)]))).ok).toBe(true);
          for (const back of [1_000, MINUTE, HOUR, 2 * HOUR]) {
            clock.now = START - back;
            expect(await used(store, key, w)).toBe(100n);
            expect(await store.reserve(request([check(key, w, 1n, 100n)]))).toEqual({ ok: false, failed: 0, used: 100n });
          }
          clock.now = START;
          expect(await used(store, key, w)).toBe(100n);
        });
      }

      for (const w of [rolling(60), rolling(3600), rolling(86400), calendar(60), calendar(3600), calendar(86400)]) {
        const seconds = (w as { seconds: number }).seconds;
        timed(`a clock stepping back after the window moved on still counts what was spent (${w.kind}:${seconds})`, async () => {
          const { clock, store } = await open();
          const key = `again|usd|${w.kind}:${seconds}`;
          const t0 = clock.now;
          expect((await store.reserve(request([check(key, w, 100n, 100n)]))).ok).toBe(true);
          // The first window ends at t0 + S (rolling) or at the next UTC boundary (calendar).
          const end = w.kind === 'rolling' ? t0 + seconds * 1000 : (Math.floor(t0 / (seconds * 1000)) + 1) * seconds * 1000;
          // Move on past it (and a bucket), read and reserve there: old buckets may be tidied.
          clock.now = end + 10 * MINUTE;
          expect(await used(store, key, w)).toBe(0n);
          expect((await store.reserve(request([check(key, w, 100n, 100n), check('again|other|total', TOTAL, 1n, 1000n)]))).ok).toBe(true);
          // Step back 10 min into the first window: both count again (the second is in the future).
          clock.now = end - 1_000;
          expect(await used(store, key, w)).toBe(200n);
          expect(await store.reserve(request([check(key, w, 1n, 200n)]))).toEqual({ ok: false, failed: 0, used: 200n });
        });
      }

      timed('a release after the clock moved back gives back exactly what was added', async () => {
        const { clock, store } = await open();
        const w = rolling(3600);
        await store.reserve(request([check('rb|usd|rolling:3600', w, 30n, 100n)], 'before'));
        clock.now -= 2 * HOUR;
        await store.reserve(request([check('rb|usd|rolling:3600', w, 50n, 100n)], 'after'));
        expect(await used(store, 'rb|usd|rolling:3600', w)).toBe(80n);
        await store.release('before');
        expect(await used(store, 'rb|usd|rolling:3600', w)).toBe(50n);
        await store.release('after');
        expect(await used(store, 'rb|usd|rolling:3600', w)).toBe(0n);
      });

      timed('a reservation released after its window passed does not drive the counter below zero', async () => {
        const { clock, store } = await open();
        const w = rolling(60);
        await store.reserve(request([check('late|usd|rolling:60', w, 30n, 100n), check('late|usd|total', TOTAL, 30n, 100n)], 'late'));
        clock.now += 2 * MINUTE;
        await store.reserve(request([check('late|usd|rolling:60', w, 40n, 100n)], 'fresh'));
        await store.release('late');
        expect(await store.usage([{ key: 'late|usd|rolling:60', window: w }, { key: 'late|usd|total', window: TOTAL }])).toEqual([40n, 0n]);
      });

      timed('record times come from the store clock', async () => {
        const { clock, store } = await open();
        clock.now = START + 12_345;
        const result = await store.reserve(request([], 'when'));
        expect(result).toEqual({ ok: true, time: START + 12_345 });
        expect((await store.report())[0]!.time).toBe(START + 12_345);
        expect((await store.report({ since: START + 12_346 })).length).toBe(0);
      });
    });
  });
}
