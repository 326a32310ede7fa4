/**
 * The counter keys and windows the budget asks a store for are a storage format: file ledgers
 * and Redis hold counters under these names, and a key spelled differently after an upgrade
 * would start every limit from zero (the spend already made would no longer count). This pins
 * them, for rolling and UTC-calendar windows, global and per-host limits, amounts and counts.
 */
import { describe, expect, it } from 'vitest';
import { memoryStore, type SpendStore, type WrapFetchOptions } from '../../src/index.js';
import type { CounterCheck } from '../../src/budget/store.js';
import { useMswServer } from '../support/msw.js';
import { outcome, payer, serve, T0, usdc } from '../support/paying.js';

const server = useMswServer();
const API = 'https://api.example.com/data';

/** A memory store that records the checks of every reservation (a price of 0.01 USD, so 10,000 micro-USD). */
function recordingStore(clock: { now: number }) {
  const inner = memoryStore({ clock: () => clock.now });
  const checks: CounterCheck[][] = [];
  const store: SpendStore = {
    ...inner,
    reserve: (request) => {
      checks.push([...request.checks]);
      return inner.reserve(request);
    },
    release: (id) => inner.release(id),
    settle: (...args) => inner.settle(...args),
    usage: (c) => inner.usage(c),
    report: (q) => inner.report(q),
  };
  return { store, checks };
}

const FULL = {
  perRequest: '0.05',
  hourly: '0.5',
  daily: '2',
  total: '10',
  maxPayments: { perMinute: 30, perDay: 500 },
  perHost: { 'api.example.com': { hourly: '0.2', daily: '1', total: '3', maxPayments: { perMinute: 5, perDay: 50 } } },
} as const;

async function keysOf(budget: NonNullable<WrapFetchOptions['budget']>) {
  serve(server, API, [usdc(10_000)]);
  const clock = { now: T0 };
  const { store, checks } = recordingStore(clock);
  const { paidFetch } = payer({ budget, store }, clock);
  expect(await outcome(paidFetch, API)).toBe('HTTP 200');
  expect(checks).toHaveLength(1);
  return checks[0]!.map((c) => [c.key, c.window, c.amount, c.limit]);
}

describe('counter keys (a storage format: never change them without migrating ledgers)', () => {
  it('rolling windows: global and per-host, USD amounts and payment counts', async () => {
    expect(await keysOf(FULL)).toEqual([
      ['global|USD|rolling:3600', { kind: 'rolling', seconds: 3600 }, 10_000n, 500_000n],
      ['global|USD|rolling:86400', { kind: 'rolling', seconds: 86400 }, 10_000n, 2_000_000n],
      ['global|USD|total', { kind: 'total' }, 10_000n, 10_000_000n],
      ['global|count|rolling:60', { kind: 'rolling', seconds: 60 }, 1n, 30n],
      ['global|count|rolling:86400', { kind: 'rolling', seconds: 86400 }, 1n, 500n],
      ['host:api.example.com|USD|rolling:3600', { kind: 'rolling', seconds: 3600 }, 10_000n, 200_000n],
      ['host:api.example.com|USD|rolling:86400', { kind: 'rolling', seconds: 86400 }, 10_000n, 1_000_000n],
      ['host:api.example.com|USD|total', { kind: 'total' }, 10_000n, 3_000_000n],
      ['host:api.example.com|count|rolling:60', { kind: 'rolling', seconds: 60 }, 1n, 5n],
      ['host:api.example.com|count|rolling:86400', { kind: 'rolling', seconds: 86400 }, 1n, 50n],
    ]);
  });

  it("window: 'utc-day' names calendar windows; totals stay 'total'", async () => {
    const keys = (await keysOf({ ...FULL, window: 'utc-day' })).map(([key]) => key);
    expect(keys).toEqual([
      'global|USD|calendar:3600',
      'global|USD|calendar:86400',
      'global|USD|total',
      'global|count|calendar:60',
      'global|count|calendar:86400',
      'host:api.example.com|USD|calendar:3600',
      'host:api.example.com|USD|calendar:86400',
      'host:api.example.com|USD|total',
      'host:api.example.com|count|calendar:60',
      'host:api.example.com|count|calendar:86400',
    ]);
  });
});
