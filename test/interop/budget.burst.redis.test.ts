import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { startLocalStack, type LocalStack } from '../../examples/local-stack/index.js';
import { expectExactBurst } from '../support/burst.js';
import { skipWithoutRedis, startRedisServer, type RedisServer } from '../support/redisServer.js';

// Skips (with a loud warning) only outside CI when redis-server is not installed; in CI a
// missing redis-server makes beforeAll fail with what to install.
describe.skipIf(skipWithoutRedis('test/interop/budget.burst.redis.test.ts'))('Redis store burst (THREATS H1–H3)', () => {
  let stack: LocalStack;
  let redis: RedisServer;
  beforeAll(async () => {
    [stack, redis] = await Promise.all([startLocalStack(), startRedisServer()]);
  });
  afterAll(async () => {
    await Promise.all([stack?.stop(), redis?.close()]);
  });

  it('Redis store, 4 processes: 1,000 concurrent paid calls sharing a daily cap of 100× the price pay exactly 100', async () => {
    await expectExactBurst({
      stack,
      processes: 4,
      // What this burst checks is atomicity across processes, so give each operation far more than
      // the 2 s default: 1,000 calls signing on a busy 2-core machine can starve the workers' event
      // loops past 2 s, and a timed-out reserve fails closed (refused and still counted), which
      // would pay fewer than 100. Timeouts are tested in test/redis/redisStore.outage.test.ts.
      store: { kind: 'redis', url: redis.url, prefix: `x402burst:${randomUUID()}:`, timeoutMs: 30_000 },
      label: 'redis, 4 processes',
    });
  }, 180_000);
});
