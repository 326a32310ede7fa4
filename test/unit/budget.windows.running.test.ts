/**
 * The running sums of `windows.ts` against the plain definition: random sequences of checks,
 * additions and releases, with the clock moving forward, jumping far ahead and stepping back
 * (past the grace too), on every window kind. After each step, the state and every counter
 * value must be exactly what a full scan of every bucket gives.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  bucketIndex,
  checkAndAdd,
  counterValue,
  oldestCounted,
  oldestKept,
  subtract,
  type BucketAdd,
  type CounterState,
} from '../../src/budget/windows.js';
import type { CounterCheck, CounterWindow } from '../../src/budget/store.js';

const WINDOWS: readonly CounterWindow[] = [
  { kind: 'rolling', seconds: 60 },
  { kind: 'rolling', seconds: 3600 },
  { kind: 'rolling', seconds: 86400 },
  { kind: 'calendar', seconds: 60 },
  { kind: 'calendar', seconds: 86400 },
  { kind: 'total' },
];
const KEYS = WINDOWS.map((w, i) => `k${i}|${w.kind}`);

/** The definition, as the module had it before running sums: scan every bucket. */
function referenceValue(state: CounterState, key: string, window: CounterWindow, now: number): bigint {
  const buckets = state[key];
  if (!buckets) return 0n;
  const oldest = oldestCounted(window, now);
  const kept = oldestKept(window, now);
  let sum = 0n;
  for (const [index, value] of Object.entries(buckets)) {
    if (Number(index) < kept) delete buckets[index];
    else if (Number(index) >= oldest) sum += BigInt(value);
  }
  if (Object.keys(buckets).length === 0) delete state[key];
  return sum;
}

function referenceAdd(state: CounterState, checks: readonly CounterCheck[], now: number): { ok: boolean; adds: BucketAdd[] } {
  for (const check of checks) {
    if (referenceValue(state, check.key, check.window, now) + check.amount > check.limit) return { ok: false, adds: [] };
  }
  const adds: BucketAdd[] = [];
  for (const check of checks) {
    const bucket = bucketIndex(check.window, now);
    const buckets = (state[check.key] ??= {});
    buckets[bucket] = (BigInt(buckets[bucket] ?? '0') + check.amount).toString();
    adds.push({ key: check.key, bucket, amount: check.amount.toString() });
  }
  return { ok: true, adds };
}

function referenceSubtract(state: CounterState, adds: readonly BucketAdd[]): void {
  for (const add of adds) {
    const buckets = state[add.key];
    const current = buckets?.[add.bucket];
    if (!buckets || current === undefined) continue;
    const next = BigInt(current) - BigInt(add.amount);
    if (next > 0n) buckets[add.bucket] = next.toString();
    else delete buckets[add.bucket];
  }
}

type Op =
  | { kind: 'move'; seconds: number }
  | { kind: 'add'; keys: number[]; amount: bigint; limit: bigint }
  | { kind: 'release'; pick: number }
  | { kind: 'read'; key: number };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 4, arbitrary: fc.integer({ min: 0, max: 400 }).map((seconds) => ({ kind: 'move' as const, seconds })) },
  { weight: 2, arbitrary: fc.integer({ min: 400, max: 4 * 3600 }).map((seconds) => ({ kind: 'move' as const, seconds })) },
  { weight: 1, arbitrary: fc.integer({ min: 20 * 3600, max: 30 * 3600 }).map((seconds) => ({ kind: 'move' as const, seconds })) },
  { weight: 2, arbitrary: fc.integer({ min: -3 * 3600, max: -1 }).map((seconds) => ({ kind: 'move' as const, seconds })) },
  { weight: 1, arbitrary: fc.integer({ min: -40 * 3600, max: -3 * 3600 }).map((seconds) => ({ kind: 'move' as const, seconds })) },
  {
    weight: 8,
    arbitrary: fc
      .record({ keys: fc.uniqueArray(fc.nat(KEYS.length - 1), { minLength: 1, maxLength: KEYS.length }), amount: fc.bigInt(1n, 50n), limit: fc.bigInt(50n, 5000n) })
      .map((r) => ({ kind: 'add' as const, ...r })),
  },
  { weight: 3, arbitrary: fc.nat().map((pick) => ({ kind: 'release' as const, pick })) },
  { weight: 3, arbitrary: fc.nat(KEYS.length - 1).map((key) => ({ kind: 'read' as const, key })) },
);

describe('running sums of the windowed counters', () => {
  it('give exactly the full-scan values and state after any sequence of operations', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1_700_000_000, max: 1_800_000_000 }), fc.array(opArb, { minLength: 1, maxLength: 150 }), (start, ops) => {
        const live: CounterState = {};
        const model: CounterState = {};
        const pending: BucketAdd[][] = [];
        let now = start;
        for (const op of ops) {
          if (op.kind === 'move') now = Math.max(0, now + op.seconds);
          else if (op.kind === 'add') {
            const checks = op.keys.map((k) => ({ key: KEYS[k]!, window: WINDOWS[k]!, amount: op.amount, limit: op.limit }));
            const result = checkAndAdd(live, checks, now);
            const expected = referenceAdd(model, checks, now);
            expect(result.ok).toBe(expected.ok);
            if (result.ok) {
              expect(result.adds).toEqual(expected.adds);
              pending.push(result.adds);
            }
          } else if (op.kind === 'release') {
            if (pending.length > 0) {
              const [adds] = pending.splice(op.pick % pending.length, 1);
              subtract(live, adds!);
              referenceSubtract(model, adds!);
            }
          } else {
            expect(counterValue(live, KEYS[op.key]!, WINDOWS[op.key]!, now)).toBe(referenceValue(model, KEYS[op.key]!, WINDOWS[op.key]!, now));
          }
          expect(live).toEqual(model);
        }
        for (const [i, key] of KEYS.entries()) expect(counterValue(live, key, WINDOWS[i]!, now)).toBe(referenceValue(model, key, WINDOWS[i]!, now));
        expect(live).toEqual(model);
      }),
      { numRuns: 300 },
    );
  });

  it('a counter holding the whole grace of buckets reads the same as a full scan', () => {
    const window: CounterWindow = { kind: 'rolling', seconds: 60 };
    const state: CounterState = {};
    let now = 1_750_000_000;
    // Two hours at one payment every 5 s: the minute counter keeps every bucket of the grace.
    for (let i = 0; i < 1440; i++, now += 5) checkAndAdd(state, [{ key: 'm', window, amount: 1n, limit: 1_000_000n }], now);
    const buckets = Object.keys(state['m']!).length;
    expect(buckets).toBeGreaterThan(1400);
    for (const step of [0, 1, 5, 7, 60, 3000, -4000, 9000]) {
      now += step;
      const model = structuredClone(state);
      const expected = referenceValue(model, 'm', window, now);
      expect(counterValue(state, 'm', window, now)).toBe(expected);
      expect(state).toEqual(model);
    }
  });
});
