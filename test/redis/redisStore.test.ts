import { randomUUID } from 'node:crypto';
import type { Cluster, Redis } from 'ioredis';
import fc from 'fast-check';
import { beforeAll, describe, expect, expectTypeOf, it, vi } from 'vitest';
import { redisStore, type RedisScriptClient } from '../../src/redis/index.js';
import { LUA_PRELUDE } from '../../src/redis/luaPrelude.js';
import { RESERVE_SCRIPT } from '../../src/redis/reserveScript.js';
import { REPORT_SCRIPT } from '../../src/redis/reportScript.js';
import { CLOCK_JUMP_GRACE_SECONDS } from '../../src/budget/windows.js';
import type { CounterCheck, ReserveRequest, SpendStore } from '../../src/index.js';
import { connectRedis, useRedisServer } from '../support/redisClient.js';
import { skipWithoutRedis, type RedisServer } from '../support/redisServer.js';

const DAY: CounterCheck['window'] = { kind: 'rolling', seconds: 86400 };
const TOTAL: CounterCheck['window'] = { kind: 'total' };
const RECORD = { host: 'api.example.com', payee: '0x209693Bc6afc0C5328bA36FaF03C514EF312287C', amount: '10000', asset: '0xasset', network: 'eip155:84532' };

function request(id: string, checks: { key: string; window?: CounterCheck['window']; amount: bigint; limit: bigint }[]): ReserveRequest {
  return { id, checks: checks.map((c) => ({ window: DAY, ...c })), record: RECORD };
}

let server: RedisServer;
let client: Redis;
const fresh = () => `x402test:${randomUUID()}:`;

// Skips (with a loud warning) only outside CI when redis-server is not installed; in CI a
// missing redis-server makes beforeAll fail with what to install.
describe.skipIf(skipWithoutRedis('test/redis/redisStore.test.ts'))('redisStore on a real redis-server', () => {
  useRedisServer((started) => ({ server, client } = started));

  describe('reserve, release, settle, usage', () => {
    it('reserves within the limit, refuses past it with the failing check and its usage', async () => {
      const store = redisStore(client, { prefix: fresh() });
      expect(await store.reserve(request('a', [{ key: 'g', amount: 60n, limit: 100n }]))).toMatchObject({ ok: true });
      expect(await store.reserve(request('b', [{ key: 'h', amount: 1n, limit: 5n }, { key: 'g', amount: 50n, limit: 100n }]))).toEqual({
        ok: false,
        failed: 1,
        used: 60n,
      });
      // A refused reservation adds nothing, to any counter.
      expect(await store.usage([{ key: 'g', window: DAY }, { key: 'h', window: DAY }])).toEqual([60n, 0n]);
      expect(await store.reserve(request('c', [{ key: 'g', amount: 40n, limit: 100n }]))).toMatchObject({ ok: true });
      expect(await store.usage([{ key: 'g', window: DAY }])).toEqual([100n]);
    });

    it('release gives the amount back once; settle keeps it counted and makes release a no-op', async () => {
      const store = redisStore(client, { prefix: fresh() });
      const checks = [{ key: 'g', amount: 30n, limit: 100n }];
      await store.reserve(request('a', checks));
      await store.reserve(request('b', checks));
      await store.release('a');
      await store.release('a');
      expect(await store.usage([{ key: 'g', window: DAY }])).toEqual([30n]);
      await store.settle('b', 'settled', '0xtx');
      await store.release('b');
      expect(await store.usage([{ key: 'g', window: DAY }])).toEqual([30n]);
      await store.release('unknown');
      await store.settle('unknown', 'failed');
      expect((await store.report()).map((r) => [r.id, r.status, r.transaction])).toEqual([
        ['a', 'released', undefined],
        ['b', 'settled', '0xtx'],
      ]);
    });

    it('a failed or unknown outcome keeps its adds for a reconciliation; one settled by an earlier version (adds dropped) stays counted', async () => {
      const prefix = fresh();
      const store = redisStore(client, { prefix });
      const checks = [{ key: 'g', amount: 30n, limit: 100n }];
      await store.reserve(request('now', checks));
      await store.reserve(request('before', checks));
      await store.settle('now', 'unknown');
      expect(await client.hget(`${prefix}r:now`, 'adds')).not.toBeNull();
      // What the previous settle script left: the status, and no adds.
      await client.hset(`${prefix}r:before`, 'status', 'unknown');
      await client.hdel(`${prefix}r:before`, 'adds');
      await store.release('before');
      expect(await store.usage([{ key: 'g', window: DAY }])).toEqual([60n]);
      await store.release('now');
      expect(await store.usage([{ key: 'g', window: DAY }])).toEqual([30n]);
      expect(await client.hget(`${prefix}r:now`, 'adds')).toBeNull();
    });

    it('a retried reserve with the same id counts once (THREATS H7), also after settle; a released id is refused', async () => {
      const store = redisStore(client, { prefix: fresh() });
      const checks = [{ key: 'g', amount: 40n, limit: 100n }];
      const first = await store.reserve(request('same', checks));
      const again = await Promise.all([store.reserve(request('same', checks)), store.reserve(request('same', checks))]);
      expect(again).toEqual([first, first]);
      expect(await store.usage([{ key: 'g', window: DAY }])).toEqual([40n]);
      await store.settle('same', 'unknown');
      expect(await store.reserve(request('same', checks))).toEqual(first);
      expect(await store.usage([{ key: 'g', window: DAY }])).toEqual([40n]);
      expect(await store.report()).toHaveLength(1);

      await store.reserve(request('gone', checks));
      await store.release('gone');
      await expect(store.reserve(request('gone', checks))).rejects.toThrow(/released/);
      expect(await store.usage([{ key: 'g', window: DAY }])).toEqual([40n]);
    });

    it('every window kind counts what it should right after a reservation', async () => {
      const store = redisStore(client, { prefix: fresh() });
      const windows: CounterCheck['window'][] = [
        { kind: 'rolling', seconds: 60 },
        { kind: 'rolling', seconds: 3600 },
        { kind: 'rolling', seconds: 86400 },
        { kind: 'calendar', seconds: 86400 },
        { kind: 'total' },
      ];
      const checks = windows.map((window, i) => ({ key: `k${i}`, window, amount: 7n, limit: 10n }));
      expect(await store.reserve({ id: 'x', checks, record: RECORD })).toMatchObject({ ok: true });
      expect(await store.usage(checks)).toEqual(windows.map(() => 7n));
      expect(await store.reserve({ id: 'y', checks, record: RECORD })).toEqual({ ok: false, failed: 0, used: 7n });
    });

    it('takes its time from the Redis server, not from the host clock', async () => {
      const store = redisStore(client, { prefix: fresh() });
      const [seconds] = (await client.time()) as [number, number];
      const spy = vi.spyOn(Date, 'now').mockReturnValue(0);
      try {
        const result = await store.reserve(request('t', [{ key: 'g', amount: 1n, limit: 10n }]));
        expect(result.ok && result.time).toBeGreaterThanOrEqual(seconds * 1000);
        expect((await store.report())[0]!.time).toBe(result.ok && result.time);
      } finally {
        spy.mockRestore();
      }
    });

    it('adds, subtracts and compares amounts exactly beyond 2^53 and 2^63 (decimal strings, not doubles or HINCRBY)', async () => {
      const store = redisStore(client, { prefix: fresh() });
      const safe = BigInt(Number.MAX_SAFE_INTEGER);
      expect(await store.reserve(request('a', [{ key: 'g', window: TOTAL, amount: safe - 1n, limit: safe }]))).toMatchObject({ ok: true });
      expect(await store.reserve(request('b', [{ key: 'g', window: TOTAL, amount: 2n, limit: safe }]))).toEqual({ ok: false, failed: 0, used: safe - 1n });
      expect(await store.reserve(request('c', [{ key: 'g', window: TOTAL, amount: 1n, limit: safe }]))).toMatchObject({ ok: true });
      const huge = 10n ** 40n + 7n;
      expect(await store.reserve(request('d', [{ key: 'g', window: TOTAL, amount: huge, limit: huge + safe }]))).toMatchObject({ ok: true });
      expect(await store.reserve(request('e', [{ key: 'g', window: TOTAL, amount: 1n, limit: huge + safe }]))).toEqual({ ok: false, failed: 0, used: huge + safe });
      expect(await store.usage([{ key: 'g', window: TOTAL }])).toEqual([huge + safe]);
      await store.release('c');
      expect(await store.usage([{ key: 'g', window: TOTAL }])).toEqual([huge + safe - 1n]);
      await store.release('d');
      expect(await store.usage([{ key: 'g', window: TOTAL }])).toEqual([safe - 1n]);
      await expect(store.reserve(request('f', [{ key: 'x', amount: 10n ** 100n, limit: 10n ** 100n }]))).rejects.toThrow(RangeError);
      await expect(store.reserve(request('g', [{ key: 'x', amount: 1n, limit: -1n }]))).rejects.toThrow(RangeError);
      await expect(store.reserve(request('h', [{ key: 'x', amount: -1n, limit: 1n }]))).rejects.toThrow(RangeError);
    });

    it('the Lua decimal arithmetic agrees with BigInt', async () => {
      const digits = fc.oneof(fc.bigInt({ min: 0n, max: 10n ** 16n }), fc.bigInt({ min: 0n, max: 10n ** 100n - 1n }));
      const script = `${LUA_PRELUDE}
local a, b = decimal(ARGV[1], 'a'), decimal(ARGV[2], 'b')
local sub = ''
if cmpDec(a, b) >= 0 then sub = subDec(a, b) end
return { addDec(a, b), sub, tostring(cmpDec(a, b)) }`;
      await fc.assert(
        fc.asyncProperty(digits, digits, async (a, b) => {
          const [sum, difference, order] = (await client.eval(script, 0, a.toString(), b.toString())) as string[];
          expect(sum).toBe((a + b).toString());
          expect(difference).toBe(a >= b ? (a - b).toString() : '');
          expect(order).toBe(String(a === b ? 0 : a < b ? -1 : 1));
        }),
        { numRuns: 500, examples: [[10n ** 15n - 1n, 1n], [10n ** 21n, 1n], [9_999_999n, 1n], [10n ** 30n, 10n ** 30n - 1n]] },
      );
    });

    it('many clients reserving at once never pass the limit', async () => {
      const prefix = fresh();
      const clients = await Promise.all(Array.from({ length: 4 }, () => connectRedis(server.url)));
      try {
        const stores = clients.map((c) => redisStore(c, { prefix }));
        const results = await Promise.all(
          Array.from({ length: 400 }, (_, i) => stores[i % 4]!.reserve(request(`p${i}`, [{ key: 'g', amount: 3n, limit: 300n }, { key: 'n', amount: 1n, limit: 1000n }]))),
        );
        expect(results.filter((r) => r.ok)).toHaveLength(100);
        expect(await stores[0]!.usage([{ key: 'g', window: DAY }, { key: 'n', window: DAY }])).toEqual([300n, 100n]);
      } finally {
        for (const c of clients) c.disconnect();
      }
    });
  });

  describe('keys and the report', () => {
    it('keeps everything under the prefix, with TTLs on window counters and reservations, none on totals', async () => {
      const prefix = fresh();
      const store = redisStore(client, { prefix, reservationTtlSeconds: 500 });
      await store.reserve({
        id: 'a',
        checks: [
          { key: 'global|USD|rolling:3600', window: { kind: 'rolling', seconds: 3600 }, amount: 1n, limit: 10n },
          { key: 'global|USD|calendar:86400', window: { kind: 'calendar', seconds: 86400 }, amount: 1n, limit: 10n },
          { key: 'global|USD|total', window: TOTAL, amount: 1n, limit: 10n },
        ],
        record: RECORD,
      });
      expect((await client.keys(`${prefix}*`)).sort()).toEqual(
        ['c:global|USD|calendar:86400', 'c:global|USD|rolling:3600', 'c:global|USD|total', 'r:a', 'records', 'report', 'seq'].map((k) => prefix + k),
      );
      // The window, plus the time buckets are kept for a clock stepping back, plus a minute.
      expect(await client.ttl(`${prefix}c:global|USD|rolling:3600`)).toBeGreaterThan(3600 + CLOCK_JUMP_GRACE_SECONDS);
      expect(await client.ttl(`${prefix}c:global|USD|rolling:3600`)).toBeLessThanOrEqual(3600 + CLOCK_JUMP_GRACE_SECONDS + 60);
      expect(await client.ttl(`${prefix}c:global|USD|calendar:86400`)).toBeGreaterThan(86400 + CLOCK_JUMP_GRACE_SECONDS);
      expect(await client.ttl(`${prefix}c:global|USD|total`)).toBe(-1);
      expect(await client.ttl(`${prefix}r:a`)).toBeGreaterThan(490);
      expect(await client.ttl(`${prefix}r:a`)).toBeLessThanOrEqual(500);
      // Stores with another prefix are another budget.
      expect(await redisStore(client, { prefix: fresh() }).usage([{ key: 'global|USD|total', window: TOTAL }])).toEqual([0n]);
    });

    it('report: oldest first in reservation order, since, limit (newest kept), and readable JSON in Redis', async () => {
      const prefix = fresh();
      const store = redisStore(client, { prefix });
      for (const id of ['r1', 'r2', 'r3', 'r4']) await store.reserve(request(id, [{ key: 'g', amount: 1n, limit: 100n }]));
      await store.settle('r2', 'settled', '0xabc');
      const all = await store.report();
      expect(all.map((r) => r.id)).toEqual(['r1', 'r2', 'r3', 'r4']);
      expect(all[1]).toEqual({ ...RECORD, id: 'r2', time: all[1]!.time, status: 'settled', transaction: '0xabc' });
      expect((await store.report({ limit: 2 })).map((r) => r.id)).toEqual(['r3', 'r4']);
      expect(await store.report({ limit: 0 })).toEqual([]);
      expect(await store.report({ since: all[3]!.time + 1 })).toEqual([]);
      expect((await store.report({ since: all[0]!.time })).map((r) => r.id)).toEqual(['r1', 'r2', 'r3', 'r4']);
      // Any tool can read the report: a hash of JSON records indexed by a sorted set.
      expect(JSON.parse((await client.hget(`${prefix}records`, 'r2'))!)).toMatchObject({ id: 'r2', status: 'settled', amount: '10000' });
      expect(await client.zcard(`${prefix}report`)).toBe(4);
      // Another process (another client, same prefix) sees the same report.
      const other = await connectRedis(server.url);
      try {
        expect(await redisStore(other, { prefix }).report()).toEqual(all);
      } finally {
        other.disconnect();
      }
    });

    it('keeps at most maxRecords report records, newest kept, without touching the limits', async () => {
      const prefix = fresh();
      const store = redisStore(client, { prefix, maxRecords: 3 });
      for (let i = 0; i < 5; i++) await store.reserve(request(`m${i}`, [{ key: 'g', amount: 1n, limit: 100n }]));
      expect((await store.report()).map((r) => r.id)).toEqual(['m2', 'm3', 'm4']);
      expect(await client.hlen(`${prefix}records`)).toBe(3);
      expect(await store.usage([{ key: 'g', window: DAY }])).toEqual([5n]);
    });

    it('sends each script once (EVAL), then only its SHA-1 (EVALSHA), and again after NOSCRIPT', async () => {
      const seen: string[] = [];
      const shas = new Set<string>();
      const spy: RedisScriptClient = {
        evalsha: (...args) =>
          shas.add(args[0]) && client.evalsha(...args).then((r) => (seen.push('evalsha ok'), r), (e: unknown) => (seen.push('evalsha failed'), Promise.reject(e))),
        eval: (...args) => (seen.push('eval'), client.eval(...args)),
      };
      await client.script('FLUSH');
      const store = redisStore(spy, { prefix: fresh() });
      await store.reserve(request('a', [{ key: 'g', amount: 1n, limit: 100n }]));
      await store.reserve(request('b', [{ key: 'g', amount: 1n, limit: 100n }]));
      await store.report();
      await store.report();
      expect(seen).toEqual(['eval', 'evalsha ok', 'eval', 'evalsha ok']);
      seen.length = 0;
      await client.script('FLUSH');
      await store.report();
      await store.report();
      expect(seen).toEqual(['evalsha failed', 'eval', 'evalsha ok']);
      // The SHA-1s it sends are the ones Redis computes.
      expect(new Set(await Promise.all([RESERVE_SCRIPT, REPORT_SCRIPT].map((sc) => client.script('LOAD', sc.source))))).toEqual(shas);
    });

    it('runs again after the script cache is flushed (NOSCRIPT → EVAL)', async () => {
      const store = redisStore(client, { prefix: fresh() });
      await store.reserve(request('a', [{ key: 'g', amount: 1n, limit: 100n }]));
      await client.script('FLUSH');
      expect(await store.reserve(request('b', [{ key: 'g', amount: 1n, limit: 100n }]))).toMatchObject({ ok: true });
      await client.script('FLUSH');
      expect(await store.usage([{ key: 'g', window: DAY }])).toEqual([2n]);
      await client.script('FLUSH');
      await store.release('b');
      await client.script('FLUSH');
      await store.settle('a', 'settled');
      await client.script('FLUSH');
      expect((await store.report()).map((r) => r.status)).toEqual(['settled', 'released']);
    });
  });

  describe('fails closed', () => {
    let store: SpendStore;
    let prefix: string;
    const checks = [{ key: 'g', amount: 1n, limit: 100n }];
    const reset = () => {
      prefix = fresh();
      store = redisStore(client, { prefix });
    };

    it('when a counter key holds another type, and changes nothing', async () => {
      reset();
      await client.set(`${prefix}c:g`, 'not a hash');
      await expect(store.reserve(request('a', checks))).rejects.toThrow(/c:g holds a string/);
      await expect(store.usage([{ key: 'g', window: DAY }])).rejects.toThrow(/holds a string/);
      expect(await client.exists(`${prefix}r:a`, `${prefix}records`, `${prefix}report`)).toBe(0);
    });

    it('when a bucket holds a value that is not a plain non-negative integer', async () => {
      for (const bad of ['abc', '-5', '0x10', '1.5', ' 7', '', '9'.repeat(101)]) {
        reset();
        await client.hset(`${prefix}c:g`, String(Math.floor(Date.now() / 1000 / 300)), bad);
        await expect(store.reserve(request('a', checks)), bad).rejects.toThrow(/redisStore: reserve failed/);
        await expect(store.usage([{ key: 'g', window: DAY }]), bad).rejects.toThrow();
      }
    });

    it('when the reservation, records, report or sequence key holds another type, before counting anything', async () => {
      for (const key of ['r:a', 'records', 'report', 'seq']) {
        reset();
        await client.sadd(`${prefix}${key}`, 'x');
        await expect(store.reserve(request('a', checks)), key).rejects.toThrow(/holds a set/);
        expect(await client.exists(`${prefix}c:g`), key).toBe(0);
      }
    });

    /** Every key under the prefix with its type and content, to show an operation changed nothing. */
    const dump = async () => {
      const out: Record<string, unknown> = {};
      for (const key of (await client.keys(`${prefix}*`)).sort()) {
        const type = await client.type(key);
        out[key] = [type, type === 'hash' ? await client.hgetall(key) : type === 'zset' ? await client.zrange(key, 0, -1, 'WITHSCORES') : await client.get(key), await client.ttl(key)];
      }
      return out;
    };

    it('when the keys are in a newer format (a newer x402-autopay wrote its number to <prefix>format): every operation refuses, reading and writing nothing', async () => {
      reset();
      await store.reserve(request('a', checks));
      await store.reserve(request('b', checks));
      await store.settle('b', 'unknown', undefined, { from: `0x${'11'.repeat(20)}`, nonce: `0x${'22'.repeat(32)}`, validBefore: '1' });
      await client.set(`${prefix}format`, '2');
      const before = await dump();
      const newer = /redisStore: \w+ failed: ERR x402-autopay: newer_format: the keys under this prefix are in format 2, written by a newer x402-autopay; this version reads format 1\. Nothing was read or written\. Upgrade x402-autopay/;
      await expect(store.reserve(request('c', checks))).rejects.toThrow(newer);
      await expect(store.reserve(request('a', checks))).rejects.toThrow(newer);
      await expect(store.release('a')).rejects.toThrow(newer);
      await expect(store.release('b')).rejects.toThrow(newer);
      await expect(store.settle('a', 'settled', '0xtx')).rejects.toThrow(newer);
      await expect(store.usage([{ key: 'g', window: DAY }])).rejects.toThrow(newer);
      await expect(store.report()).rejects.toThrow(newer);
      expect(await dump()).toEqual(before);
      // Format 1 said out loud is this version's own: everything works again.
      await client.set(`${prefix}format`, '1');
      expect(await store.usage([{ key: 'g', window: DAY }])).toEqual([2n]);
      expect(await store.reserve(request('c', checks))).toMatchObject({ ok: true });
      expect((await store.report()).map((r) => r.id)).toEqual(['a', 'b', 'c']);
    });

    it('when the format key holds something else than a format number, before counting anything', async () => {
      for (const [bad, expected] of [
        ['abc', /format holds abc, not a format version/],
        ['-2', /format holds -2, not a format version/],
        ['1.5', /format holds 1\.5, not a format version/],
        ['9'.repeat(12), /not a format version/],
      ] as const) {
        reset();
        await client.set(`${prefix}format`, bad);
        await expect(store.reserve(request('a', checks)), bad).rejects.toThrow(expected);
        await expect(store.report(), bad).rejects.toThrow(expected);
        expect(await client.exists(`${prefix}c:g`, `${prefix}r:a`, `${prefix}records`), bad).toBe(0);
      }
      reset();
      await client.hset(`${prefix}format`, 'version', '2');
      await expect(store.reserve(request('a', checks))).rejects.toThrow(/format holds a hash where a string was expected/);
      expect(await client.exists(`${prefix}c:g`, `${prefix}r:a`)).toBe(0);
    });

    it('when the report sequence is not a number, before counting anything', async () => {
      reset();
      await client.set(`${prefix}seq`, 'abc');
      await expect(store.reserve(request('a', checks))).rejects.toThrow(/report sequence/);
      expect(await client.exists(`${prefix}c:g`, `${prefix}r:a`)).toBe(0);
    });

    it('when a report record is not what the store wrote', async () => {
      reset();
      await store.reserve(request('a', checks));
      await client.hset(`${prefix}records`, 'a', '{"id":"a","time":"soon"}');
      await expect(store.report()).rejects.toThrow(/malformed at time/);
      await client.hset(`${prefix}records`, 'a', 'not json');
      await expect(store.report()).rejects.toThrow(/not valid JSON/);
    });

    it('when a client returns something unexpected, or fails', async () => {
      const odd = (reply: unknown): RedisScriptClient => ({ evalsha: async () => reply, eval: async () => reply });
      for (const reply of [null, 'OK', ['ok'], ['ok', '1.5'], ['exceeded', '7', '0'], ['exceeded', '0', '-1'], ['maybe', '1']]) {
        await expect(redisStore(odd(reply)).reserve(request('a', checks)), JSON.stringify(reply)).rejects.toThrow(/malformed reply/);
      }
      await expect(redisStore(odd(['1'])).usage([{ key: 'g', window: DAY }, { key: 'h', window: DAY }])).rejects.toThrow(/malformed/);
      const broken: RedisScriptClient = {
        evalsha: async () => {
          throw new Error('ECONNRESET');
        },
        eval: async () => {
          throw new Error('ECONNRESET');
        },
      };
      await expect(redisStore(broken).reserve(request('a', checks))).rejects.toThrow(/reserve failed: ECONNRESET/);
    });

    it('after timeoutMs when Redis does not answer', async () => {
      const hanging: RedisScriptClient = { evalsha: () => new Promise(() => undefined), eval: () => new Promise(() => undefined) };
      const slow = redisStore(hanging, { timeoutMs: 100 });
      const started = performance.now();
      await expect(slow.reserve(request('a', checks))).rejects.toThrow(/no answer from Redis within 100 ms/);
      expect(performance.now() - started).toBeLessThan(1_000);
      await expect(slow.usage([{ key: 'g', window: DAY }])).rejects.toThrow(/usage failed/);
      await expect(slow.report()).rejects.toThrow(/report failed/);
    });

    it('takes an ioredis Redis or Cluster as it is (checked by tsc)', () => {
      expectTypeOf<Redis>().toExtend<RedisScriptClient>();
      expectTypeOf<Cluster>().toExtend<RedisScriptClient>();
    });

    it('rejects bad options and clients at once', () => {
      expect(() => redisStore({} as RedisScriptClient)).toThrow(TypeError);
      expect(() => redisStore(client, { timeoutMs: 0 })).toThrow(/timeoutMs/);
      expect(() => redisStore(client, { maxRecords: 1.5 })).toThrow(/maxRecords/);
    });
  });
});
