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
 * A check costs the same whatever the history and however many buckets are kept: each counter
 * carries a running sum that moves with the clock (see {@link counterValue}).
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
  return oldestCounted(window, nowSeconds - CLOCK_JUMP_GRACE_SECONDS);
}

/**
 * Sum of a counter at `nowSeconds`; drops buckets that no clock within the grace would count.
 *
 * Constant work per call whatever the number of buckets kept: each counter object carries a
 * running sum of the buckets that count (in {@link runningSums}, beside the plain state, which
 * stays exactly as before), moved along with the clock by visiting only the buckets that leave
 * or re-enter the window, and kept up to date by {@link checkAndAdd} and {@link subtract}. The
 * first look at a counter object (e.g. a state just read from a file) scans it once.
 */
export function counterValue(state: CounterState, key: string, window: CounterWindow, nowSeconds: number): bigint {
  const buckets = state[key];
  if (!buckets) return 0n;
  const oldest = oldestCounted(window, nowSeconds);
  const kept = oldestKept(window, nowSeconds);
  const running = runningSums.get(buckets);
  const sum = running ? advance(buckets, running, oldest, kept) : scan(buckets, oldest, kept);
  if (sum === undefined) return counterValue(state, key, window, nowSeconds);
  if ((runningSums.get(buckets)?.size ?? Object.keys(buckets).length) === 0) delete state[key];
  return sum;
}

/**
 * The running sum of one counter object: the sum of its buckets at or above `oldest`, how many
 * buckets it holds, and `kept`, below which it holds none. Valid as long as the object is only
 * changed through this module (the stores never touch counters otherwise). It does not depend on
 * the window: moving it to any other bounds is the same walk.
 */
interface RunningSum {
  sum: bigint;
  oldest: number;
  kept: number;
  size: number;
}

/** Running sums by counter object; entries go away with the objects. */
const runningSums = new WeakMap<Record<string, string>, RunningSum>();

/** Full scan: drops the buckets below `kept`, sums those at or above `oldest`, and starts a running sum. */
function scan(buckets: Record<string, string>, oldest: number, kept: number): bigint {
  let sum = 0n;
  let size = 0;
  let canonical = true;
  for (const [index, value] of Object.entries(buckets)) {
    const n = Number(index);
    if (n < kept) delete buckets[index];
    else {
      size++;
      if (n >= oldest) sum += BigInt(value);
      if (String(n) !== index) canonical = false;
    }
  }
  // Bucket keys written by another hand (e.g. "-0" in a file) are not found by index: no running sum for those.
  if (canonical) runningSums.set(buckets, { sum, oldest, kept, size });
  else runningSums.delete(buckets);
  return sum;
}

/**
 * Moves a running sum to new bounds, visiting only the buckets between the old and new bounds;
 * undefined (after forgetting the running sum) when the counted range moved by more than 16
 * indices beyond the number of buckets held, so that the caller scans instead. The kept bound
 * moves with the counted one (exactly, or to within one bucket for calendar days).
 */
function advance(buckets: Record<string, string>, running: RunningSum, oldest: number, kept: number): bigint | undefined {
  if (Math.abs(oldest - running.oldest) > running.size + 16) {
    runningSums.delete(buckets);
    return undefined;
  }
  // Buckets leaving the counted range (the clock moved on), or coming back into it (the clock stepped back).
  for (let i = running.oldest; i < oldest; i++) {
    const value = buckets[i];
    if (value !== undefined) running.sum -= BigInt(value);
  }
  for (let i = oldest; i < running.oldest; i++) {
    const value = buckets[i];
    if (value !== undefined) running.sum += BigInt(value);
  }
  running.oldest = oldest;
  // Buckets no clock within the grace would count: dropped (none is counted, since kept <= oldest).
  for (let i = running.kept; i < kept; i++) {
    if (buckets[i] !== undefined) {
      delete buckets[i];
      running.size--;
    }
  }
  running.kept = kept;
  return running.sum;
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
    const current = buckets[bucket];
    buckets[bucket] = (BigInt(current ?? 0) + check.amount).toString();
    // The check above moved this counter's running sum (if it has one) to `nowSeconds`, so the
    // current bucket lies in its counted range.
    const running = runningSums.get(buckets);
    if (running) {
      if (current === undefined) running.size++;
      running.sum += check.amount;
    }
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
    const running = runningSums.get(buckets);
    if (!running) continue;
    // What left the bucket: the amount, or all it held (a bucket never goes below zero).
    if (add.bucket >= running.oldest) running.sum -= BigInt(current) - BigInt(buckets[add.bucket] ?? 0);
    if (buckets[add.bucket] === undefined) running.size--;
  }
}
