import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import type { Redis } from 'ioredis';
import { beforeAll, describe, expect, it } from 'vitest';
import { redisStore } from '../../src/redis/index.js';
import { memoryStore, type CounterCheck, type CounterWindow, type SpendStore } from '../../src/index.js';
import { useRedisServer } from '../support/redisClient.js';
import { skipWithoutRedis, type RedisServer } from '../support/redisServer.js';

/**
 * The Lua arithmetic against `src/budget/windows.ts` (through memoryStore): the same random
 * operations on both stores give the same answers. Only cases that do not depend on which clock
 * reads the time: every bucket written during a run still counts at its end (the run is far
 * shorter than the smallest window, and a run that crosses a UTC day is not compared).
 */
const COUNTERS: readonly { key: string; window: CounterWindow }[] = [
  { key: 'total', window: { kind: 'total' } },
  { key: 'minute', window: { kind: 'rolling', seconds: 60 } },
  { key: 'hour', window: { kind: 'rolling', seconds: 3600 } },
  { key: 'day', window: { kind: 'rolling', seconds: 86400 } },
  { key: 'utc-day', window: { kind: 'calendar', seconds: 86400 } },
];
const RECORD = { host: 'h.example', payee: '0xpayee', amount: '1', asset: '0xasset', network: 'eip155:1' };
const MAX = BigInt(Number.MAX_SAFE_INTEGER);

type Op =
  | { op: 'reserve'; checks: { counter: number; amount: bigint; limit: bigint }[] }
  | { op: 'retry'; pick: number }
  | { op: 'release'; pick: number }
  | { op: 'settle'; pick: number; status: 'settled' | 'failed' | 'unknown' };

// Round amounts and limits, so that sums often land exactly on a limit (the `>` vs `>=` edge),
// plus amounts and limits around 2^53 (Lua numbers are doubles) and 2^64 (HINCRBY's range).
const small = fc.oneof(fc.constantFrom(0n, 10n, 20n, 50n), fc.bigInt({ min: 0n, max: 60n }));
const large = fc.oneof(fc.constantFrom(2n ** 51n, 2n ** 52n, 2n ** 63n), fc.bigInt({ min: 2n ** 50n, max: 2n ** 52n }), fc.bigInt({ min: 2n ** 62n, max: 2n ** 66n }));
const amount = fc.oneof({ arbitrary: small, weight: 4 }, { arbitrary: large, weight: 1 });
const limit = fc.oneof(
  fc.constantFrom(0n, 50n, 100n, 2n ** 52n, 2n ** 52n + 2n ** 51n, MAX, 2n ** 64n),
  fc.bigInt({ min: 0n, max: 300n }),
  fc.bigInt({ min: 2n ** 51n, max: MAX }),
  fc.bigInt({ min: 2n ** 63n, max: 2n ** 67n }),
);
const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 5, arbitrary: fc.record({ op: fc.constant('reserve' as const), checks: fc.array(fc.record({ counter: fc.nat(COUNTERS.length - 1), amount, limit }), { minLength: 1, maxLength: 4 }) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('retry' as const), pick: fc.nat() }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('release' as const), pick: fc.nat() }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('settle' as const), pick: fc.nat(), status: fc.constantFrom('settled' as const, 'failed' as const, 'unknown' as const) }) },
);

let server: RedisServer;
let client: Redis;
const utcDay = () => Math.floor(Date.now() / 86_400_000);

// Skips (with a loud warning) only outside CI when redis-server is not installed; in CI a
// missing redis-server makes beforeAll fail with what to install.
describe.skipIf(skipWithoutRedis('test/redis/redisStore.parity.test.ts'))('redisStore arithmetic = windows.ts (vs memoryStore)', () => {
  useRedisServer((started) => ({ server, client } = started));

  it('random reserve / retry / release / settle sequences give the same results, usage and report', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(opArb, { minLength: 1, maxLength: 40 }), async (ops) => {
        const day = utcDay();
        const redis = redisStore(client, { prefix: `x402parity:${randomUUID()}:` });
        const memory = memoryStore();
        const stores: [SpendStore, SpendStore] = [memory, redis];
        // Ids whose reservation may be retried (pending in both stores), and every id.
        const retryable: { id: string; checks: CounterCheck[] }[] = [];
        const ids: string[] = [];
        const outcomes: unknown[][] = [[], []];
        for (const [n, op] of ops.entries()) {
          if (op.op === 'reserve' || (op.op === 'retry' && retryable.length > 0)) {
            const request =
              op.op === 'reserve'
                ? { id: `id${n}`, checks: op.checks.map((c) => ({ ...COUNTERS[c.counter]!, amount: c.amount, limit: c.limit })) }
                : retryable[op.pick % retryable.length]!;
            for (const [s, store] of stores.entries()) {
              const result = await store.reserve({ ...request, record: RECORD });
              outcomes[s]!.push(result.ok ? 'ok' : result);
            }
            if (op.op === 'reserve' && outcomes[0]!.at(-1) === 'ok') {
              retryable.push(request);
              ids.push(request.id);
            }
          } else if ((op.op === 'release' || op.op === 'settle') && ids.length > 0) {
            const id = ids[op.pick % ids.length]!;
            for (const store of stores) await (op.op === 'release' ? store.release(id) : store.settle(id, op.status));
            // After a release or settle the stores differ on a retried reserve by design (Redis
            // refuses a released id and remembers a settled one), so it is no longer retried.
            const at = retryable.findIndex((r) => r.id === id);
            if (at >= 0) retryable.splice(at, 1);
          }
          for (const [s, store] of stores.entries()) outcomes[s]!.push(await store.usage(COUNTERS));
        }
        const reports = await Promise.all(stores.map((s) => s.report()));
        if (utcDay() !== day) return; // crossed midnight UTC: calendar counters legitimately differ
        expect(outcomes[1]).toEqual(outcomes[0]);
        expect(reports[1]!.map(({ time: _, ...r }) => r)).toEqual(reports[0]!.map(({ time: _, ...r }) => r));
      }),
      { numRuns: 60 },
    );
  }, 60_000);
});
