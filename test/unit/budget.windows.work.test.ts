/**
 * The cost promise of `windows.ts`: a check costs the same whatever the history (issue #6, a
 * million past payments within 1.2× of ten). A counter's buckets are enumerated once, when it is
 * first read; after that a read visits only the buckets that leave or re-enter the window, and
 * adding or releasing keeps the running sum without a rescan. The work is counted by a Proxy
 * around the counter object (what it is asked for), not timed. Every value is also checked
 * against a plain full scan, so a shortcut that saves work by being wrong fails too.
 */
import { describe, expect, it } from 'vitest';
import { bucketIndex, checkAndAdd, counterValue, oldestCounted, oldestKept, subtract, type CounterState } from '../../src/budget/windows.js';
import type { CounterWindow } from '../../src/budget/store.js';

const MINUTE: CounterWindow = { kind: 'rolling', seconds: 60 };
const START = 1_750_000_000;

/** A counter object that counts its enumerations (`Object.entries`/`Object.keys`) and its property reads. */
function watched(buckets: Record<string, string>): { buckets: Record<string, string>; seen: { enumerations: number; reads: number }; reset(): void } {
  const seen = { enumerations: 0, reads: 0 };
  const proxy = new Proxy(buckets, {
    ownKeys(target) {
      seen.enumerations++;
      return Reflect.ownKeys(target);
    },
    get(target, property, receiver) {
      seen.reads++;
      return Reflect.get(target, property, receiver);
    },
  });
  return {
    buckets: proxy,
    seen,
    reset() {
      seen.enumerations = 0;
      seen.reads = 0;
    },
  };
}

/** The definition: every bucket at or above the oldest counted one. */
function fullScan(buckets: Record<string, string>, window: CounterWindow, now: number): bigint {
  const oldest = oldestCounted(window, now);
  let sum = 0n;
  for (const [index, value] of Object.entries(buckets)) if (Number(index) >= oldest) sum += BigInt(value);
  return sum;
}

/** A minute counter holding one bucket of `amount` every 5 s for `count` buckets, ending at the returned time. */
function history(count: number, amount = 1n): { buckets: Record<string, string>; now: number } {
  const state: CounterState = {};
  let now = START;
  for (let i = 0; i < count; i++, now += 5) checkAndAdd(state, [{ key: 'm', window: MINUTE, amount, limit: 1n << 60n }], now);
  return { buckets: { ...state['m']! }, now: now - 5 };
}

describe('windowed counters: work per check', () => {
  it('the first read enumerates the buckets once; later reads, the clock moving a little either way, enumerate nothing', () => {
    const { buckets, now } = history(1200);
    const counter = watched(buckets);
    const state: CounterState = { m: counter.buckets };
    expect(counterValue(state, 'm', MINUTE, now)).toBe(fullScan(buckets, MINUTE, now));
    expect(counter.seen.enumerations).toBe(1);
    let last = now;
    for (const step of [0, 1, 5, 12, 60, -30, -60, 300, 0]) {
      const at = now + step;
      counter.reset();
      const value = counterValue(state, 'm', MINUTE, at);
      expect(counter.seen.enumerations, `read at ${step} s`).toBe(0);
      // Constant work: a lookup or two per bucket the window moved over, never one per bucket held.
      expect(counter.seen.reads, `read at ${step} s`).toBeLessThanOrEqual(2 * Math.ceil(Math.abs(at - last) / 5) + 2);
      expect(value, `value at ${step} s`).toBe(fullScan(buckets, MINUTE, at));
      last = at;
    }
  });

  it('adding to a counter and releasing from it keeps the running sum: no read after either enumerates', () => {
    const { buckets, now } = history(600, 3n);
    const counter = watched(buckets);
    const state: CounterState = { m: counter.buckets };
    counterValue(state, 'm', MINUTE, now);
    const check = { key: 'm', window: MINUTE, amount: 7n, limit: 1n << 60n };
    for (const at of [now, now + 2, now + 5, now + 61]) {
      counter.reset();
      const added = checkAndAdd(state, [check], at);
      expect(added.ok).toBe(true);
      expect(counterValue(state, 'm', MINUTE, at)).toBe(fullScan(buckets, MINUTE, at));
      if (!added.ok) continue;
      subtract(state, added.adds);
      expect(counterValue(state, 'm', MINUTE, at)).toBe(fullScan(buckets, MINUTE, at));
      expect(counter.seen.enumerations, `add and release at ${at - now} s`).toBe(0);
    }
  });

  it('a release from a bucket that already left the window does not lower the sum', () => {
    const state: CounterState = {};
    const check = { key: 'm', window: MINUTE, amount: 5n, limit: 100n };
    const first = checkAndAdd(state, [check], START);
    checkAndAdd(state, [check], START + 100);
    expect(first.ok).toBe(true);
    if (!first.ok) return;
    expect(counterValue(state, 'm', MINUTE, START + 100)).toBe(5n);
    subtract(state, first.adds);
    expect(state['m']![String(bucketIndex(MINUTE, START))]).toBeUndefined();
    expect(counterValue(state, 'm', MINUTE, START + 100)).toBe(5n);
    // The limit still sees the 5 in the window: 95 more fit, 96 do not.
    expect(checkAndAdd(state, [{ ...check, amount: 96n }], START + 100).ok).toBe(false);
    expect(checkAndAdd(state, [{ ...check, amount: 95n }], START + 100).ok).toBe(true);
  });

  it('the window moving up to 16 buckets beyond the number held is walked; further, the counter is scanned once', () => {
    for (const direction of [1, -1]) {
      const { buckets, now } = history(3);
      // Three buckets held: a move of 3 + 16 buckets (of 5 s) is walked, 3 + 17 rescans.
      for (const [buckets_, expected] of [
        [19, 0],
        [20, 1],
      ] as const) {
        const counter = watched({ ...buckets });
        const state: CounterState = { m: counter.buckets };
        counterValue(state, 'm', MINUTE, now);
        counter.reset();
        const at = now + direction * buckets_ * 5;
        expect(counterValue(state, 'm', MINUTE, at)).toBe(fullScan(buckets, MINUTE, at));
        expect(counter.seen.enumerations, `move of ${direction * buckets_} buckets`).toBe(expected);
      }
    }
  });

  it('a running sum holds whatever the window: the same counter read as another window gives that window\'s full-scan value', () => {
    const { buckets, now } = history(50);
    const state: CounterState = { m: { ...buckets } };
    const HOUR: CounterWindow = { kind: 'rolling', seconds: 3600 };
    expect(counterValue(state, 'm', MINUTE, now)).toBe(fullScan(buckets, MINUTE, now));
    // Read as an hour counter, the same keys are taken as hour-bucket indices (a counter key has one window in the budget).
    expect(counterValue(state, 'm', HOUR, now)).toBe(fullScan(buckets, HOUR, now));
    expect(counterValue(state, 'm', MINUTE, now)).toBe(fullScan(buckets, MINUTE, now));
  });

  it('a counter whose bucket keys were written by another hand ("01") is scanned on every read, and stays right as the clock moves', () => {
    const now = START;
    const current = bucketIndex(MINUTE, now);
    const counter = watched({ [`0${current}`]: '40' });
    const state: CounterState = { m: counter.buckets };
    expect(counterValue(state, 'm', MINUTE, now)).toBe(40n);
    counter.reset();
    expect(counterValue(state, 'm', MINUTE, now)).toBe(40n);
    expect(counter.seen.enumerations).toBeGreaterThanOrEqual(1);
    // An add writes the canonical key beside it; a minute later both have left the window.
    expect(checkAndAdd(state, [{ key: 'm', window: MINUTE, amount: 2n, limit: 100n }], now).ok).toBe(true);
    expect(counterValue(state, 'm', MINUTE, now)).toBe(42n);
    expect(counterValue(state, 'm', MINUTE, now + 65)).toBe(0n);
    // Past the grace both are dropped, and the emptied counter with them.
    expect(counterValue(state, 'm', MINUTE, now + 65 + 7200)).toBe(0n);
    expect(state).toEqual({});
  });

  it('the kept range trails the counted one by the grace: buckets are dropped exactly when no clock within 2 h would count them', () => {
    const state: CounterState = {};
    checkAndAdd(state, [{ key: 'm', window: MINUTE, amount: 1n, limit: 10n }], START);
    const bucket = bucketIndex(MINUTE, START);
    // The last moment the bucket could count again after a 2 h step back: it is kept.
    let at = START;
    while (oldestKept(MINUTE, at + 5) <= bucket) at += 5;
    expect(counterValue(state, 'm', MINUTE, at)).toBe(0n);
    expect(state['m']?.[String(bucket)]).toBe('1');
    expect(counterValue(state, 'm', MINUTE, at - 7200)).toBe(1n);
    // One bucket later it is dropped for good.
    expect(counterValue(state, 'm', MINUTE, at + 5)).toBe(0n);
    expect(state['m']).toBeUndefined();
    expect(counterValue(state, 'm', MINUTE, at + 5 - 7200)).toBe(0n);
  });
});
