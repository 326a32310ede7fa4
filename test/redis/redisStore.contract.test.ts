import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { beforeAll, describe } from 'vitest';
import { redisStore, type RedisScriptClient } from '../../src/redis/index.js';
import { describeSpendStore, type ContractClock } from '../support/storeContract.js';
import { useRedisServer } from '../support/redisClient.js';
import { skipWithoutRedis, type RedisServer } from '../support/redisServer.js';

const TIME_CALL = "redis.call('TIME')";

/**
 * Test-only: a client that runs the store's real scripts with the server clock replaced by the
 * test clock (the `TIME` call becomes a constant), so the contract's window cases can move time.
 * It forces `EVAL` (the rewritten source has another SHA-1). Nothing like it exists in the store.
 */
function clockedClient(client: Redis, clock: ContractClock): RedisScriptClient {
  return {
    evalsha: async () => {
      throw new Error('NOSCRIPT (test clock: always send the rewritten source)');
    },
    eval: (script, numkeys, ...rest) => {
      if (script.split(TIME_CALL).length !== 2) throw new Error('test clock: expected exactly one TIME call in the script');
      const seconds = Math.floor(clock.now / 1000);
      const micros = (clock.now - seconds * 1000) * 1000;
      return client.eval(script.replace(TIME_CALL, `{ '${seconds}', '${micros}' }`), numkeys, ...rest);
    },
  };
}

// Skips (with a loud warning) only outside CI when redis-server is not installed; in CI a
// missing redis-server makes beforeAll fail with what to install.
describe.skipIf(skipWithoutRedis('test/redis/redisStore.contract.test.ts'))('redisStore', () => {
  let server: RedisServer;
  let client: Redis;
  useRedisServer((started) => ({ server, client } = started));
  const prefix = () => `x402contract:${randomUUID()}:`;

  // As shipped: Redis reads its own clock (TIME), so the cases that move the clock are skipped.
  // A fresh prefix per case is an empty store.
  describeSpendStore('redisStore', async () => ({ store: redisStore(client, { prefix: prefix() }) }), { controllableClock: false });

  // The same scripts with TIME replaced by the test clock: the window cases (rolling expiry,
  // calendar boundaries, clock moved back) run against the real Lua arithmetic.
  describeSpendStore('redisStore, scripts on the test clock', async (clock) => ({ store: redisStore(clockedClient(client, clock), { prefix: prefix() }) }));
});
