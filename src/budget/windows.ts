import type { CounterCheck, CounterWindow } from './store.js';

/**
 * Bucketed counters, shared by the stores that hold their state as a plain object (memory,
 * file, browser); the Redis store runs the same arithmetic in Lua.
 *
 * A rolling window of S seconds is kept in buckets of S/12 (minute), S/60 (hour) or S/288 (day)
 * seconds; a check counts every bucket that overlaps the window, so the sum can only
 * over-count (by at most one bucket) and never under-count. Calendar windows keep one bucket per
 * UTC minute/hour/day. Buckets from the future (a clock that moved back) always count, and a
 * bucket is dropped only {@link CLOCK_JUMP_GRACE_SECONDS} after it stopped counting, so a clock
 * that steps back by up to that much finds every bucket it needs again (no double spending).
 * The cost of a check is bounded by the number of buckets, whatever the history.
 */

/** How far back the clock may step without freeing anything already spent: 2 h. */
export const CLOCK_JUMP_GRACE_SECONDS = 7200;

/** Counter values by counter key, then by bucket index (as a string key), in integer units. */
export type CounterState = Record<string, Record<string, string>>;

/** Width in seconds of one bucket of a window. */
export function bucketSeconds(window: CounterWindow): number {
  if (window.kind === 'total') return 0;
  if (window.kind === 'calendar') return window.seconds;
  return window.seconds === 60 ? 5 : window.seconds === 3600 ? 60 : 300;
}

/** Index of the bucket `nowSeconds` falls in (0 for totals). */
export function bucketIndex(window: CounterWindow, nowSeconds: number): number {
  const width = bucketSeconds(window);
  return width === 0 ? 0 : Math.floor(nowSeconds / width);
}

/**
 * Oldest bucket index that still counts at `nowSeconds`. A rolling window (now - S, now] reaches
 * back into the bucket S/width before the current one (unless `now` starts a bucket), so that
 * bucket counts too: S/width + 1 buckets in all, never under-counting.
 */
export function oldestCounted(window: CounterWindow, nowSeconds: number): number {
  if (window.kind === 'total') return 0;
  const current = bucketIndex(window, nowSeconds);
  return window.kind === 'calendar' ? current : current - window.seconds / bucketSeconds(window);
}

/** Oldest bucket index kept at `nowSeconds`: those counted, and those a clock stepping back by the grace would count again. */
export function oldestKept(window: CounterWindow, nowSeconds: number): number {
  if (window.kind === 'total') return 0;
  return oldestCounted(window, nowSeconds - CLOCK_JUMP_GRACE_SECONDS);
}

/** Sum of a counter at `nowSeconds`; drops buckets that no clock within the grace would count. */
export function counterValue(state: CounterState, key: string, window: CounterWindow, nowSeconds: number): bigint {
  const buckets = state[key];
  if (!buckets) return 0n;
  const oldest = oldestCounted(window, nowSeconds);
  const kept = oldestKept(window, nowSeconds);
  let sum = 0n;
  for (const [index, value] of Object.entries(buckets)) {
    if (Number(index) < kept) delete buckets[index];
    else if (Number(index) >= oldest) sum += BigInt(value);
  }
  if (Object.keys(buckets).length === 0) delete state[key];
  return sum;
}

/** One amount added to one bucket, remembered so that a release can take it back. */
export interface BucketAdd {
  readonly key: string;
  readonly bucket: number;
  readonly amount: string;
}

/**
 * Checks every counter with its amount added against its limit; if all hold, adds them and
 * returns what was added; otherwise returns the first failing check. Synchronous, so atomic
 * for the caller that holds the state.
 */
export function checkAndAdd(
  state: CounterState,
  checks: readonly CounterCheck[],
  nowSeconds: number,
): { ok: true; adds: BucketAdd[] } | { ok: false; failed: number; used: bigint } {
  for (const [i, check] of checks.entries()) {
    const used = counterValue(state, check.key, check.window, nowSeconds);
    if (used + check.amount > check.limit) return { ok: false, failed: i, used };
  }
  const adds: BucketAdd[] = [];
  for (const check of checks) {
    const bucket = bucketIndex(check.window, nowSeconds);
    const buckets = (state[check.key] ??= {});
    buckets[bucket] = (BigInt(buckets[bucket] ?? '0') + check.amount).toString();
    adds.push({ key: check.key, bucket, amount: check.amount.toString() });
  }
  return { ok: true, adds };
}

/** Takes back what {@link checkAndAdd} added (buckets already dropped stay dropped). */
export function subtract(state: CounterState, adds: readonly BucketAdd[]): void {
  for (const add of adds) {
    const buckets = state[add.key];
    const current = buckets?.[add.bucket];
    if (!buckets || current === undefined) continue;
    const next = BigInt(current) - BigInt(add.amount);
    if (next > 0n) buckets[add.bucket] = next.toString();
    else delete buckets[add.bucket];
  }
}
