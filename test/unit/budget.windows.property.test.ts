/**
 * Property tests of the windowed counters through `memoryStore({ clock })`: random schedules of
 * clock moves (forward, and backward by up to 2 h), reservations, releases and settlements,
 * checked after every step against an independent model of what was reserved and not released.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { memoryStore } from '../../src/index.js';
import type { CounterCheck, CounterWindow, SpendStore } from '../../src/budget/store.js';

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const HOURLY_CAP = 100n;
const DAILY_CAP = 250n;
/** Bucket widths of the rolling windows (the most a rolling window may over-count by, in time). */
const BUCKET = { 3600: 60 * SECOND, 86400: 300 * SECOND } as const;
/** How far below the latest time it showed the clock may step back (the store's guarantee). */
const MAX_STEP_BACK = 2 * HOUR;
/** Pending reservations older than this (by a later successful reserve's clock) can no longer be released. */
const PENDING_TTL = HOUR;

type Mode = 'rolling' | 'utc-day';
type Op =
  | { kind: 'advance'; ms: number }
  | { kind: 'reserve'; amount: bigint }
  | { kind: 'release'; pick: number }
  | { kind: 'settle'; pick: number };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 3, arbitrary: fc.integer({ min: 0, max: 10 * MINUTE }).map((ms) => ({ kind: 'advance' as const, ms })) },
  { weight: 2, arbitrary: fc.integer({ min: 10 * MINUTE, max: 3 * HOUR }).map((ms) => ({ kind: 'advance' as const, ms })) },
  { weight: 1, arbitrary: fc.integer({ min: 20 * HOUR, max: 26 * HOUR }).map((ms) => ({ kind: 'advance' as const, ms })) },
  { weight: 2, arbitrary: fc.integer({ min: -2 * HOUR, max: -1 }).map((ms) => ({ kind: 'advance' as const, ms })) },
  { weight: 8, arbitrary: fc.bigInt({ min: 1n, max: 60n }).map((amount) => ({ kind: 'reserve' as const, amount })) },
  { weight: 2, arbitrary: fc.nat().map((pick) => ({ kind: 'release' as const, pick })) },
  { weight: 1, arbitrary: fc.nat().map((pick) => ({ kind: 'settle' as const, pick })) },
);

/** Start anywhere in a few days of 2025, to the millisecond, so buckets are not aligned. */
const startArb = fc.integer({ min: Date.UTC(2025, 0, 1), max: Date.UTC(2025, 0, 4) });

function checksFor(mode: Mode, amount: bigint): CounterCheck[] {
  const w = (seconds: 3600 | 86400): CounterWindow => (mode === 'rolling' ? { kind: 'rolling', seconds } : { kind: 'calendar', seconds });
  return [
    { key: 'global|usd|hourly', window: w(3600), amount, limit: HOURLY_CAP },
    { key: 'global|usd|daily', window: w(86400), amount, limit: DAILY_CAP },
  ];
}

async function usage(store: SpendStore, mode: Mode): Promise<bigint[]> {
  return store.usage(checksFor(mode, 0n));
}

/** The reference model: every reservation, with what became of it. */
interface Entry {
  readonly id: string;
  readonly time: number;
  readonly amount: bigint;
  /** Still counted (not released). */
  live: boolean;
  /** Can still be released (not settled, not purged). */
  releasable: boolean;
}

const sum = (entries: readonly Entry[]) => entries.reduce((s, e) => s + e.amount, 0n);

/** The budget invariant, on the model alone: no window over the reservation times holds more than its cap. */
function assertWindowsHold(mode: Mode, entries: readonly Entry[]) {
  const live = entries.filter((e) => e.live);
  if (mode === 'rolling') {
    // The sum over (t - S, t] is largest at some t that is a reservation time.
    for (const end of live) {
      const hour = sum(live.filter((e) => e.time > end.time - HOUR && e.time <= end.time));
      const day = sum(live.filter((e) => e.time > end.time - DAY && e.time <= end.time));
      expect(hour, `rolling hour ending ${new Date(end.time).toISOString()}`).toBeLessThanOrEqual(HOURLY_CAP);
      expect(day, `rolling day ending ${new Date(end.time).toISOString()}`).toBeLessThanOrEqual(DAILY_CAP);
    }
  } else {
    const byHour = new Map<number, bigint>();
    const byDay = new Map<number, bigint>();
    for (const e of live) {
      byHour.set(Math.floor(e.time / HOUR), (byHour.get(Math.floor(e.time / HOUR)) ?? 0n) + e.amount);
      byDay.set(Math.floor(e.time / DAY), (byDay.get(Math.floor(e.time / DAY)) ?? 0n) + e.amount);
    }
    for (const [hour, total] of byHour) expect(total, `UTC hour ${new Date(hour * HOUR).toISOString()}`).toBeLessThanOrEqual(HOURLY_CAP);
    for (const [day, total] of byDay) expect(total, `UTC day ${new Date(day * DAY).toISOString()}`).toBeLessThanOrEqual(DAILY_CAP);
  }
}

/**
 * What the store must report at `now`: never less than what is live inside the window (or in
 * the future, after a backward jump), and for rolling windows at most one bucket more.
 */
function assertUsage(mode: Mode, entries: readonly Entry[], now: number, [hourly, daily]: bigint[]) {
  const live = entries.filter((e) => e.live);
  const sec = (ms: number) => Math.floor(ms / SECOND);
  for (const [seconds, value] of [
    [3600, hourly!],
    [86400, daily!],
  ] as const) {
    if (mode === 'rolling') {
      const lower = sum(live.filter((e) => e.time > now - seconds * SECOND));
      const upper = sum(live.filter((e) => sec(e.time) > sec(now) - seconds - BUCKET[seconds] / SECOND));
      expect(value, `rolling ${seconds}s usage at ${new Date(now).toISOString()} is never under-counted`).toBeGreaterThanOrEqual(lower);
      expect(value, `rolling ${seconds}s usage at ${new Date(now).toISOString()} over-counts by at most one bucket`).toBeLessThanOrEqual(upper);
    } else {
      const bucket = (ms: number) => Math.floor(ms / (seconds * SECOND));
      const exact = sum(live.filter((e) => bucket(e.time) >= bucket(now)));
      expect(value, `UTC ${seconds}s usage at ${new Date(now).toISOString()}`).toBe(exact);
    }
  }
}

async function runSchedule(mode: Mode, start: number, ops: readonly Op[]) {
  const clock = { now: start };
  const store = memoryStore({ clock: () => clock.now });
  const entries: Entry[] = [];
  let serial = 0;
  let latest = start;
  for (const op of ops) {
    if (op.kind === 'advance') {
      // Steps back add up; the clock never goes more than 2 h below the latest time it showed.
      clock.now = Math.max(clock.now + op.ms, latest - MAX_STEP_BACK);
      latest = Math.max(latest, clock.now);
    } else if (op.kind === 'reserve') {
      const before = await usage(store, mode);
      const reportBefore = (await store.report()).length;
      const id = `r${serial++}`;
      const result = await store.reserve({
        id,
        checks: checksFor(mode, op.amount),
        record: { host: 'h', payee: 'p', amount: op.amount.toString(), asset: 'a', network: 'n' },
      });
      if (result.ok) {
        expect(result.time).toBe(clock.now);
        for (const e of entries) if (e.releasable && e.time < clock.now - PENDING_TTL) e.releasable = false;
        entries.push({ id, time: clock.now, amount: op.amount, live: true, releasable: true });
      } else {
        // A refusal changes nothing, and names a check that really is full (as the store counts it).
        expect(await usage(store, mode)).toEqual(before);
        expect((await store.report()).length).toBe(reportBefore);
        expect(result.used).toBe(before[result.failed]);
        expect(result.used + op.amount).toBeGreaterThan(result.failed === 0 ? HOURLY_CAP : DAILY_CAP);
      }
    } else {
      const candidates = entries.filter((e) => e.live && (op.kind === 'settle' ? e.releasable : true));
      if (candidates.length === 0) continue;
      const target = candidates[op.pick % candidates.length]!;
      if (op.kind === 'settle') {
        await store.settle(target.id, 'settled');
        target.releasable = false;
      } else {
        await store.release(target.id);
        const status = (await store.report()).find((r) => r.id === target.id)?.status;
        if (target.releasable) {
          expect(status).toBe('released');
          target.live = false;
          target.releasable = false;
        } else {
          expect(status).not.toBe('released');
        }
      }
    }
    assertWindowsHold(mode, entries);
    assertUsage(mode, entries, clock.now, await usage(store, mode));
  }
  return entries;
}

const RUNS = 300;

describe.each(['rolling', 'utc-day'] as const)('windows hold under random schedules (%s)', (mode) => {
  it(`every ${mode === 'rolling' ? 'rolling hour and day' : 'UTC hour and day'} holds at most its cap; usage never under-counts`, async () => {
    let reservations = 0;
    let refusals = 0;
    await fc.assert(
      fc.asyncProperty(startArb, fc.array(opArb, { minLength: 1, maxLength: 60, size: 'max' }), async (start, ops) => {
        const entries = await runSchedule(mode, start, ops);
        reservations += entries.length;
        refusals += ops.filter((o) => o.kind === 'reserve').length - entries.length;
      }),
      { numRuns: RUNS },
    );
    // The schedules did exercise the store: many reservations, and the caps did bind.
    expect(reservations).toBeGreaterThan(RUNS * 5);
    expect(refusals).toBeGreaterThan(RUNS);
  }, 60_000);

  it('a backward jump right after the window moved on does not free what was spent (double-dip)', async () => {
    // Spend the hourly cap, let the clock run past the window and read (which drops old buckets),
    // then move it back into the window: the cap must still be spent.
    const start = Date.UTC(2025, 0, 1, 10, 0, 0);
    const entries = await runSchedule(mode, start, [
      { kind: 'reserve', amount: 60n },
      { kind: 'reserve', amount: 40n },
      { kind: 'advance', ms: HOUR + 5 * MINUTE },
      { kind: 'reserve', amount: 1n },
      { kind: 'advance', ms: -(30 * MINUTE) },
      { kind: 'reserve', amount: 50n },
    ]);
    expect(entries.map((e) => e.amount)).toEqual([60n, 40n, 1n]);
  });
});

describe('a refused reservation never changes usage()', () => {
  const windowArb: fc.Arbitrary<CounterWindow> = fc.oneof(
    fc.constant<CounterWindow>({ kind: 'total' }),
    fc.constantFrom<60 | 3600 | 86400>(60, 3600, 86400).chain((seconds) => fc.constantFrom<CounterWindow>({ kind: 'rolling', seconds }, { kind: 'calendar', seconds })),
  );
  const checkArb = fc.record({
    key: fc.constantFrom('a', 'b', 'c', 'd'),
    window: windowArb,
    amount: fc.bigInt({ min: 0n, max: 50n }),
    limit: fc.bigInt({ min: 0n, max: 120n }),
  });

  it('whatever the checks, a refusal leaves every counter and the report as they were', async () => {
    await fc.assert(
      fc.asyncProperty(
        startArb,
        fc.array(fc.tuple(fc.integer({ min: -2 * HOUR, max: 2 * HOUR }), fc.array(checkArb, { minLength: 1, maxLength: 5 })), { minLength: 1, maxLength: 30 }),
        async (start, steps) => {
          const clock = { now: start };
          const store = memoryStore({ clock: () => clock.now });
          // Counter keys are (key, window): the same key with two windows is two counters.
          const probe = (checks: readonly CounterCheck[]) => checks.map((c) => ({ key: `${c.key}|${JSON.stringify(c.window)}`, window: c.window }));
          const all = steps.flatMap(([, checks]) => probe(checks));
          let i = 0;
          for (const [move, raw] of steps) {
            clock.now += move;
            const checks = raw.map((c) => ({ ...c, key: `${c.key}|${JSON.stringify(c.window)}` }));
            const before = await store.usage(all);
            const report = await store.report();
            const result = await store.reserve({ id: `r${i++}`, checks, record: { host: 'h', payee: 'p', amount: '1', asset: 'a', network: 'n' } });
            const after = await store.usage(all);
            if (result.ok) {
              // Every counter named grew by its amount (a key may appear twice in one request).
              for (const [j, c] of all.entries()) {
                const added = checks.filter((x) => x.key === c.key).reduce((s, x) => s + x.amount, 0n);
                expect(after[j]).toBe(before[j]! + added);
              }
            } else {
              expect(after).toEqual(before);
              expect(await store.report()).toEqual(report);
              const failed = checks[result.failed]!;
              expect(result.used + failed.amount).toBeGreaterThan(failed.limit);
              // Every check before the failed one did fit.
              for (const c of checks.slice(0, result.failed)) {
                const [value] = await store.usage([c]);
                expect(value! + c.amount).toBeLessThanOrEqual(c.limit);
              }
            }
          }
        },
      ),
      { numRuns: 200 },
    );
  }, 60_000);
});
