/**
 * THREATS F1 across processes, with the real parts: one job (one `Idempotency-Key`) delivered
 * 40 times at once to 4 worker processes that share a spend store, against the official x402 v2
 * server on a local chain. Exactly one payment is signed, sent and settled on chain; every other
 * delivery is refused (`duplicate_request`) before signing: `claimed` where the store holds the
 * key, `in_flight` or `paid` where the same process already holds it. Once with a file ledger, once with Redis.
 */
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalStack, type LocalStack } from '../../examples/local-stack/index.js';
import { runBurst, type BurstTotals } from '../support/burst.js';
import type { StoreSpec } from '../support/burstWorker.js';
import { skipWithoutRedis, startRedisServer, type RedisServer } from '../support/redisServer.js';

let stack: LocalStack;
let dir: string;
beforeAll(async () => {
  stack = await startLocalStack();
  dir = await mkdtemp(join(tmpdir(), 'x402-keyed-fleet-'));
});
afterAll(async () => {
  await stack?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function expectPaidOnce(store: StoreSpec): Promise<BurstTotals> {
  const totals = await runBurst({ stack, processes: 4, totalCalls: 40, daily: '1.00', store, idempotencyKey: `job-${randomUUID()}` });
  expect(totals.other).toEqual([]);
  expect(totals.paid).toBe(1);
  expect(totals.budgetExceeded).toBe(0);
  expect(Object.values(totals.duplicates).reduce((a, b) => a + b, 0)).toBe(39);
  expect(Object.keys(totals.duplicates).every((state) => ['in_flight', 'paid', 'claimed'].includes(state))).toBe(true);
  // Three processes never paid: each found the key claimed in the store (their other deliveries,
  // arriving while one of theirs was asking the store, were in_flight in that process).
  expect(totals.duplicates['claimed']).toBeGreaterThanOrEqual(3);
  expect(totals.serverPayments).toBe(1);
  expect(totals.spent).toBe(10_000n);
  return totals;
}

it('file ledger, 4 processes, one job delivered 40 times: one payment on chain, 39 refused before signing', async () => {
  await expectPaidOnce({ kind: 'file', path: join(dir, 'ledger.json') });
}, 120_000);

describe.skipIf(skipWithoutRedis('test/interop/idempotencyKey.fleet.test.ts'))('on Redis', () => {
  let redis: RedisServer;
  beforeAll(async () => {
    redis = await startRedisServer();
  });
  afterAll(async () => {
    await redis?.close();
  });

  it('redisStore, 4 processes, one job delivered 40 times: one payment on chain, 39 refused before signing', async () => {
    await expectPaidOnce({ kind: 'redis', url: redis.url, prefix: `x402keyed:${randomUUID()}:`, timeoutMs: 30_000 });
  }, 120_000);
});
