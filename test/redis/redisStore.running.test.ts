/**
 * The running sums of the Redis counters (`running-sum` in each counter hash, see
 * `src/redis/luaPrelude.ts`) and the batched eviction of report records: random schedules with
 * the clock moving forward and back (past the grace too) give exactly what `windows.ts` gives,
 * every running sum equals a recount of its hash, hashes without one (older versions, other
 * tools) read right, malformed ones fail closed with nothing written, and a check on a counter
 * holding a full grace of buckets reads none of them in full.
 */
import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import type { Redis } from 'ioredis';
import { beforeAll, describe, expect, it } from 'vitest';
import { redisStore, type RedisScriptClient } from '../../src/redis/index.js';
import { checkAndAdd, oldestCounted, subtract, type BucketAdd, type CounterState } from '../../src/budget/windows.js';
import type { CounterCheck, CounterWindow, ReserveRequest } from '../../src/index.js';
import { useRedisServer } from '../support/redisClient.js';
import { skipWithoutRedis, type RedisServer } from '../support/redisServer.js';

const RUNNING = 'running-sum';
const TIME_CALL = "redis.call('TIME')";
const RECORD = { host: 'h.example', payee: '0xpayee', amount: '1', asset: '0xasset', network: 'eip155:1' };
const PENDING_TTL_MS = 3_600_000;

const WINDOWS: readonly CounterWindow[] = [
  { kind: 'rolling', seconds: 60 },
  { kind: 'rolling', seconds: 3600 },
  { kind: 'rolling', seconds: 86400 },
  { kind: 'calendar', seconds: 3600 },
  { kind: 'calendar', seconds: 86400 },
  { kind: 'total' },
];
const KEYS = WINDOWS.map((w, i) => `k${i}|${w.kind}:${'seconds' in w ? w.seconds : ''}`);

/**
 * Test-only: runs the store's real scripts with the server clock read from a hash that the test
 * sets (`TIME` replaced by two HGETs), so that the rewritten source stays the same and Redis
 * caches it once. Nothing like it exists in the store.
 */
function clockedClient(client: Redis, clockKey: string): RedisScriptClient {
  const rewrite = (script: string) => {
    if (script.split(TIME_CALL).length !== 2) throw new Error('test clock: expected exactly one TIME call in the script');
    return script.replace(TIME_CALL, `{ redis.call('HGET', '${clockKey}', 's'), redis.call('HGET', '${clockKey}', 'us') }`);
  };
  return {
    evalsha: async () => {
      throw new Error('NOSCRIPT (test clock: always send the rewritten source)');
    },
    eval: (script, numkeys, ...rest) => client.eval(rewrite(script), numkeys, ...rest),
  };
}

/** The plain definition: the sum of the buckets that count at `now` (seconds), reading only. */
function referenceValue(state: CounterState, key: string, window: CounterWindow, now: number): bigint {
  const oldest = oldestCounted(window, now);
  let sum = 0n;
  for (const [index, value] of Object.entries(state[key] ?? {})) if (Number(index) >= oldest) sum += BigInt(value);
  return sum;
}

/** The buckets of a counter hash (without its running sum), and its running sum parsed. */
async function readHash(client: Redis, key: string): Promise<{ buckets: Record<string, string>; running?: { oldest: number; kept: number; sum: bigint } }> {
  const { [RUNNING]: text, ...buckets } = await client.hgetall(key);
  if (text === undefined) return { buckets };
  const match = /^(-?\d+):(-?\d+):(\d+)$/.exec(text);
  if (!match) throw new Error(`malformed running sum ${text}`);
  return { buckets, running: { oldest: Number(match[1]), kept: Number(match[2]), sum: BigInt(match[3]!) } };
}

/** A running sum is the sum of the buckets at or above its `oldest`, and no bucket lies below its `kept`. */
function expectRunningRight(hash: Awaited<ReturnType<typeof readHash>>, what: string): void {
  if (!hash.running) return;
  const { oldest, kept, sum } = hash.running;
  let recount = 0n;
  for (const [index, value] of Object.entries(hash.buckets)) {
    expect(String(Number(index)), `${what}: bucket index ${index} as the scripts write it`).toBe(index);
    expect(Number(index), `${what}: bucket ${index} below kept ${kept}`).toBeGreaterThanOrEqual(kept);
    if (Number(index) >= oldest) recount += BigInt(value);
  }
  expect(sum, `${what}: running sum against a recount`).toBe(recount);
  expect(kept, what).toBeLessThanOrEqual(oldest);
}

type Op =
  | { kind: 'move'; ms: number }
  | { kind: 'reserve'; keys: number[]; amount: bigint; limit: bigint }
  | { kind: 'release'; pick: number }
  | { kind: 'forget'; key: number };

const SECOND = 1000;
const HOUR = 3600 * SECOND;
// Clock moves of a few buckets (the running sums move along), of about a window (buckets leave,
// and come back when the clock steps back), and far (a full scan instead), both ways.
const move = (min: number, max: number) => fc.integer({ min, max }).map((ms) => ({ kind: 'move' as const, ms }));
const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 5, arbitrary: move(0, 30 * SECOND) },
  { weight: 2, arbitrary: move(30 * SECOND, 400 * SECOND) },
  { weight: 1, arbitrary: move(55 * 60 * SECOND, 65 * 60 * SECOND) },
  { weight: 1, arbitrary: move(400 * SECOND, 4 * HOUR) },
  { weight: 1, arbitrary: move(20 * HOUR, 30 * HOUR) },
  { weight: 3, arbitrary: move(-120 * SECOND, -1) },
  { weight: 1, arbitrary: move(-65 * 60 * SECOND, -55 * 60 * SECOND) },
  { weight: 1, arbitrary: move(-3 * HOUR, -1) },
  { weight: 1, arbitrary: move(-40 * HOUR, -3 * HOUR) },
  {
    weight: 10,
    arbitrary: fc
      .record({ keys: fc.uniqueArray(fc.nat(KEYS.length - 1), { minLength: 1, maxLength: KEYS.length }), amount: fc.bigInt(1n, 50n), limit: fc.bigInt(50n, 3000n) })
      .map((r) => ({ kind: 'reserve' as const, ...r })),
  },
  { weight: 3, arbitrary: fc.nat().map((pick) => ({ kind: 'release' as const, pick })) },
  { weight: 1, arbitrary: fc.nat(KEYS.length - 1).map((key) => ({ kind: 'forget' as const, key })) },
);

let server: RedisServer;
let client: Redis;

// Skips (with a loud warning) only outside CI when redis-server is not installed; in CI a
// missing redis-server makes beforeAll fail with what to install.
describe.skipIf(skipWithoutRedis('test/redis/redisStore.running.test.ts'))('redisStore running sums and record eviction', () => {
  useRedisServer((started) => ({ server, client } = started));

  /** A store on its own prefix whose scripts read `setClock`'s time. */
  function clockedStore(options: { maxRecords?: number } = {}) {
    const prefix = `x402running:${randomUUID()}:`;
    const clockKey = `${prefix}clock`;
    const store = redisStore(clockedClient(client, clockKey), { prefix, ...options });
    const setClock = async (ms: number) => {
      const seconds = Math.floor(ms / 1000);
      await client.hset(clockKey, { s: String(seconds), us: String((ms - seconds * 1000) * 1000) });
    };
    return { prefix, store, setClock, counterKey: (key: string) => `${prefix}c:${key}` };
  }

  it('random schedules, the clock moving forward and back: windows.ts results, and every running sum equals a recount', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1_700_000_000, max: 1_800_000_000 }), fc.nat(999), fc.array(opArb, { minLength: 1, maxLength: 80 }), async (startSeconds, startMs, ops) => {
        const { store, setClock, counterKey } = clockedStore();
        const model: CounterState = {};
        const pending: { id: string; time: number; adds: BucketAdd[] }[] = [];
        let now = startSeconds * 1000 + startMs;
        await setClock(now);
        for (const [n, op] of ops.entries()) {
          if (op.kind === 'move') {
            now = Math.max(0, now + op.ms);
            await setClock(now);
          } else if (op.kind === 'reserve') {
            const checks: CounterCheck[] = op.keys.map((k) => ({ key: KEYS[k]!, window: WINDOWS[k]!, amount: op.amount, limit: op.limit }));
            const id = `id${n}`;
            const got = await store.reserve({ id, checks, record: RECORD });
            const expected = checkAndAdd(model, checks, Math.floor(now / 1000));
            if (expected.ok) {
              expect(got).toEqual({ ok: true, time: now });
              pending.push({ id, time: now, adds: expected.adds });
            } else {
              expect(got).toEqual({ ok: false, failed: expected.failed, used: expected.used });
            }
          } else if (op.kind === 'release') {
            if (pending.length === 0) continue;
            const at = op.pick % pending.length;
            const { id, time, adds } = pending[at]!;
            await store.release(id);
            // Redis releases a reservation only within the pending TTL by its clock (which may have stepped back).
            if (now - time <= PENDING_TTL_MS) {
              subtract(model, adds);
              pending.splice(at, 1);
            }
          } else {
            // As if an older version had written the hash: no running sum.
            await client.hdel(counterKey(KEYS[op.key]!), RUNNING);
          }
          expect(await store.usage(WINDOWS.map((window, i) => ({ key: KEYS[i]!, window })))).toEqual(
            WINDOWS.map((window, i) => referenceValue(model, KEYS[i]!, window, Math.floor(now / 1000))),
          );
          for (const key of KEYS) {
            const hash = await readHash(client, counterKey(key));
            expectRunningRight(hash, `${key} after op ${n}`);
            expect(hash.buckets, `${key} buckets after op ${n}`).toEqual(model[key] ?? {});
          }
        }
      }),
      { numRuns: 100 },
    );
  }, 120_000);

  it('a clock stepping back within the grace counts again the buckets its running sum had let go (moved, not rescanned)', async () => {
    const { store, setClock, counterKey } = clockedStore();
    const window: CounterWindow = { kind: 'rolling', seconds: 60 };
    const t0 = 1_750_000_000;
    const check: CounterCheck = { key: 'm', window, amount: 7n, limit: 1000n };
    for (const [i, t] of [t0, t0 + 30, t0 + 70].entries()) {
      await setClock(t * 1000);
      expect(await store.reserve({ id: `s${i}`, checks: [check], record: RECORD })).toMatchObject({ ok: true });
    }
    // At t0 + 70 the first bucket no longer counts, and the running sum moved past it.
    expect(await store.usage([{ key: 'm', window }])).toEqual([14n]);
    expect((await readHash(client, counterKey('m'))).running).toMatchObject({ oldest: Math.floor((t0 + 70) / 5) - 12, sum: 14n });
    await client.config('RESETSTAT');
    await setClock((t0 + 50) * 1000);
    expect(await store.usage([{ key: 'm', window }])).toEqual([21n]);
    expect(await store.reserve({ id: 's3', checks: [check], record: RECORD })).toMatchObject({ ok: true });
    expect(await store.usage([{ key: 'm', window }])).toEqual([28n]);
    expect(/cmdstat_hgetall:/.test(await client.info('commandstats'))).toBe(false);
    const hash = await readHash(client, counterKey('m'));
    expectRunningRight(hash, 'after stepping back');
    expect(hash.running).toMatchObject({ oldest: Math.floor((t0 + 50) / 5) - 12, sum: 28n });
  });

  it('reads a counter written without running sum (an older version, a filler) right, and stores one on the first reserve', async () => {
    const { store, setClock, counterKey } = clockedStore();
    const window: CounterWindow = { kind: 'rolling', seconds: 60 };
    const now = 1_750_000_000;
    await setClock(now * 1000);
    const current = Math.floor(now / 5);
    // Two hours of 5 s buckets (the grace), plus a few from the future and a few already stale.
    const buckets: Record<string, string> = {};
    for (let i = current - 1460; i <= current + 3; i++) buckets[String(i)] = String((i % 7) + 1);
    await client.hset(counterKey('m'), buckets);
    const model: CounterState = { m: { ...buckets } };
    const expected = referenceValue(model, 'm', window, now);
    expect(await store.usage([{ key: 'm', window }])).toEqual([expected]);
    // usage is read-only: still no running sum, nothing deleted.
    expect(await client.hlen(counterKey('m'))).toBe(Object.keys(buckets).length);
    expect(await client.hexists(counterKey('m'), RUNNING)).toBe(0);

    const check: CounterCheck = { key: 'm', window, amount: 1n, limit: 10n ** 9n };
    expect(await store.reserve({ id: 'a', checks: [check], record: RECORD })).toMatchObject({ ok: true });
    checkAndAdd(model, [check], now);
    const hash = await readHash(client, counterKey('m'));
    expect(hash.running).toBeDefined();
    expectRunningRight(hash, 'after the first reserve');
    expect(hash.buckets).toEqual(model['m']);
    expect(await store.usage([{ key: 'm', window }])).toEqual([expected + 1n]);
    await store.release('a');
    expect(await store.usage([{ key: 'm', window }])).toEqual([expected]);
    expectRunningRight(await readHash(client, counterKey('m')), 'after the release');
  });

  it('a reserve on a counter holding a full grace of buckets reads none of them in full (no HGETALL) once it has a running sum', async () => {
    const { store, setClock, counterKey } = clockedStore();
    const window: CounterWindow = { kind: 'rolling', seconds: 60 };
    let now = 1_760_000_000;
    const current = Math.floor(now / 5);
    const buckets: Record<string, string> = {};
    for (let i = current - 1450; i <= current; i++) buckets[String(i)] = '1';
    await client.hset(counterKey('m'), buckets);
    const model: CounterState = { m: { ...buckets } };
    const check: CounterCheck = { key: 'm', window, amount: 1n, limit: 10n ** 9n };
    await client.config('RESETSTAT');
    for (let i = 0; i < 100; i++, now += 5) {
      await setClock(now * 1000);
      expect(await store.reserve({ id: `p${i}`, checks: [check], record: RECORD })).toMatchObject({ ok: true });
      checkAndAdd(model, [check], now);
    }
    const stats = await client.info('commandstats');
    const calls = (command: string) => Number(new RegExp(`cmdstat_${command}:calls=(\\d+)`).exec(stats)?.[1] ?? 0);
    // One full scan: the first touch of the hash, which had no running sum.
    expect(calls('hgetall')).toBe(1);
    const hash = await readHash(client, counterKey('m'));
    expectRunningRight(hash, 'after 100 reserves');
    expect(hash.buckets).toEqual(model['m']);
    expect(await store.usage([{ key: 'm', window }])).toEqual([referenceValue(model, 'm', window, now - 5)]);
  });

  it('fails closed on a malformed running sum, in reserve, usage and release, with nothing written', async () => {
    const window: CounterWindow = { kind: 'rolling', seconds: 3600 };
    const bad = ['', 'abc', '1:2', '1:2:3:4', '1:2:-3', '1:2:0x10', '1:2: 3', '1.5:2:3', 'x:1:0', `1:2:${'9'.repeat(121)}`, `${'1'.repeat(16)}:2:3`];
    for (const text of bad) {
      const { prefix, store, setClock, counterKey } = clockedStore();
      const now = 1_750_000_000;
      await setClock(now * 1000);
      const check: CounterCheck = { key: 'h', window, amount: 5n, limit: 100n };
      // A pending reservation, then the running sum spoiled.
      expect(await store.reserve({ id: 'a', checks: [check], record: RECORD })).toMatchObject({ ok: true });
      await client.hset(counterKey('h'), RUNNING, text);
      const before = await Promise.all([client.hgetall(counterKey('h')), client.hgetall(`${prefix}r:a`), client.hgetall(`${prefix}records`), client.zrange(`${prefix}report`, 0, -1), client.get(`${prefix}seq`)]);
      await expect(store.reserve({ id: 'b', checks: [check], record: RECORD }), text).rejects.toThrow(/running sum/);
      await expect(store.usage([{ key: 'h', window }]), text).rejects.toThrow(/running sum/);
      await expect(store.release('a'), text).rejects.toThrow(/running sum/);
      const after = await Promise.all([client.hgetall(counterKey('h')), client.hgetall(`${prefix}r:a`), client.hgetall(`${prefix}records`), client.zrange(`${prefix}report`, 0, -1), client.get(`${prefix}seq`)]);
      expect(after, text).toEqual(before);
      expect(await client.exists(`${prefix}r:b`), text).toBe(0);
    }
  });

  it('a running sum below what leaves it (not kept by these scripts) is not trusted: the counter is scanned', async () => {
    const { store, setClock, counterKey } = clockedStore();
    const window: CounterWindow = { kind: 'rolling', seconds: 60 };
    let now = 1_750_000_000;
    await setClock(now * 1000);
    const check: CounterCheck = { key: 'm', window, amount: 7n, limit: 100n };
    await store.reserve({ id: 'a', checks: [check], record: RECORD });
    now += 30;
    await setClock(now * 1000);
    await store.reserve({ id: 'b', checks: [check], record: RECORD });
    const { running } = await readHash(client, counterKey('m'));
    // A sum of 0 where 14 is counted: when the older bucket leaves, it cannot be subtracted.
    await client.hset(counterKey('m'), RUNNING, `${running!.oldest}:${running!.kept}:0`);
    now += 40;
    await setClock(now * 1000);
    expect(await store.usage([{ key: 'm', window }])).toEqual([7n]);
    expect(await store.reserve({ id: 'c', checks: [check], record: RECORD })).toMatchObject({ ok: true });
    const hash = await readHash(client, counterKey('m'));
    expectRunningRight(hash, 'rescanned');
    expect(hash.running!.sum).toBe(14n);
  });

  it('evicts report records in batches: the index stays within maxRecords + slack, report() within maxRecords, newest kept', async () => {
    const maxRecords = 320; // slack: 320 / 64 = 5
    const slack = 5;
    const { prefix, store, setClock } = clockedStore({ maxRecords });
    let now = 1_750_000_000_000;
    const request = (id: string): ReserveRequest => ({ id, checks: [{ key: 'g', window: { kind: 'total' }, amount: 1n, limit: 10n ** 6n }], record: RECORD });
    const sizes: number[] = [];
    for (let i = 0; i < 400; i++, now += 10) {
      await setClock(now);
      await store.reserve(request(`m${i}`));
      const size = await client.zcard(`${prefix}report`);
      expect(await client.hlen(`${prefix}records`)).toBe(size);
      sizes.push(size);
    }
    expect(Math.max(...sizes)).toBe(maxRecords + slack);
    // Up to maxRecords one by one, then one trim back to maxRecords every slack + 1 reservations.
    expect(sizes.slice(0, maxRecords)).toEqual(Array.from({ length: maxRecords }, (_, i) => i + 1));
    expect(sizes.slice(maxRecords)).toEqual(Array.from({ length: 400 - maxRecords }, (_, i) => maxRecords + ((i + 1) % (slack + 1))));
    const all = await store.report();
    expect(all.map((r) => r.id)).toEqual(Array.from({ length: maxRecords }, (_, i) => `m${400 - maxRecords + i}`));
    expect((await store.report({ limit: 2 })).map((r) => r.id)).toEqual(['m398', 'm399']);
    expect((await store.report({ limit: 10_000 })).length).toBe(maxRecords);
    expect((await store.report({ since: all[10]!.time })).map((r) => r.id)).toEqual(all.slice(10).map((r) => r.id));
    // Limits are unaffected by eviction.
    expect(await store.usage([{ key: 'g', window: { kind: 'total' } }])).toEqual([400n]);
  });
});
