/**
 * The bucket layout of the windowed counters, as `windows.ts` documents it and as the Redis store
 * passes it to its Lua script: rolling windows of S seconds in buckets of S/12 (minute), S/60
 * (hour) or S/288 (day), calendar windows one bucket per UTC minute/hour/day, totals one bucket.
 * And what the layout means for a payment: it counts for the whole window, and stops counting
 * at most one bucket after the window has passed it (over-counting, never under-counting).
 */
import { describe, expect, it } from 'vitest';
import { bucketIndex, bucketSeconds, checkAndAdd, counterValue, oldestCounted, oldestKept, type CounterState } from '../../src/budget/windows.js';
import type { CounterWindow } from '../../src/budget/store.js';

const ROLLING: readonly [CounterWindow, number][] = [
  [{ kind: 'rolling', seconds: 60 }, 5],
  [{ kind: 'rolling', seconds: 3600 }, 60],
  [{ kind: 'rolling', seconds: 86400 }, 300],
];
const CALENDAR: readonly CounterWindow[] = [
  { kind: 'calendar', seconds: 60 },
  { kind: 'calendar', seconds: 3600 },
  { kind: 'calendar', seconds: 86400 },
];
const T = 1_750_000_000;

describe('windowed counters: bucket layout', () => {
  it('rolling windows use buckets of 5 s, 60 s and 300 s, and count the current bucket and the S/width before it', () => {
    for (const [window, width] of ROLLING) {
      const seconds = (window as { seconds: number }).seconds;
      expect(bucketSeconds(window), `width of ${seconds} s`).toBe(width);
      expect(bucketIndex(window, T + 1), `index at ${seconds} s`).toBe(Math.floor((T + 1) / width));
      expect(bucketIndex(window, T + 1) - oldestCounted(window, T + 1)).toBe(seconds / width);
      expect(oldestKept(window, T + 1)).toBe(oldestCounted(window, T + 1 - 7200));
    }
  });

  it('calendar windows keep one bucket per UTC minute, hour or day, and count only the current one', () => {
    for (const window of CALENDAR) {
      const seconds = (window as { seconds: number }).seconds;
      expect(bucketSeconds(window)).toBe(seconds);
      const dayStart = Math.floor(T / 86400) * 86400;
      expect(bucketIndex(window, dayStart)).toBe(dayStart / seconds);
      expect(bucketIndex(window, dayStart - 1)).toBe(dayStart / seconds - 1);
      expect(oldestCounted(window, T)).toBe(bucketIndex(window, T));
    }
  });

  it('a total is one bucket, counted and kept whatever the time', () => {
    const total: CounterWindow = { kind: 'total' };
    expect(bucketSeconds(total)).toBe(0);
    for (const at of [0, 59, T, 4_000_000_000]) {
      expect(bucketIndex(total, at)).toBe(0);
      expect(oldestCounted(total, at)).toBe(0);
      expect(oldestKept(total, at)).toBe(0);
    }
  });

  it('a payment counts for the whole rolling window, and stops counting within one bucket after it', () => {
    for (const [window, width] of ROLLING) {
      const seconds = (window as { seconds: number }).seconds;
      // Paid in the middle of a bucket: it counts up to the last second of the window...
      const paidAt = Math.floor(T / width) * width + Math.floor(width / 2);
      const state: CounterState = {};
      expect(checkAndAdd(state, [{ key: 'c', window, amount: 7n, limit: 100n }], paidAt).ok).toBe(true);
      expect(counterValue(state, 'c', window, paidAt + seconds - 1), `${seconds} s window, last second`).toBe(7n);
      // ...over-counts for less than one bucket after that...
      expect(counterValue(state, 'c', window, paidAt + seconds + width - Math.floor(width / 2) - 1)).toBe(7n);
      // ...and no more once the window has left its bucket.
      expect(counterValue(state, 'c', window, paidAt + seconds + width - Math.floor(width / 2)), `${seconds} s window, one bucket on`).toBe(0n);
    }
  });

  it('a calendar payment counts until the UTC period ends, not a second longer', () => {
    for (const window of CALENDAR) {
      const seconds = (window as { seconds: number }).seconds;
      const periodStart = Math.floor(T / seconds) * seconds;
      const state: CounterState = {};
      expect(checkAndAdd(state, [{ key: 'c', window, amount: 3n, limit: 100n }], periodStart).ok).toBe(true);
      expect(counterValue(state, 'c', window, periodStart + seconds - 1)).toBe(3n);
      expect(counterValue(state, 'c', window, periodStart + seconds), `${seconds} s period over`).toBe(0n);
    }
  });
});
