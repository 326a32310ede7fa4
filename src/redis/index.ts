/**
 * x402-autopay for a fleet: `redisStore(client)`, a spend store in Redis that many processes on
 * many machines share as one budget. Node-only; ioredis is an optional peer dependency that
 * this entry never imports (pass your own client).
 *
 * @example
 * ```ts
 * import { Redis } from 'ioredis';
 * import { wrapFetch } from 'x402-autopay';
 * import { redisStore } from 'x402-autopay/redis';
 * const redis = new Redis(process.env.REDIS_URL!, { maxRetriesPerRequest: 1, enableOfflineQueue: false, lazyConnect: true });
 * await redis.connect();
 * const store = redisStore(redis);
 * const paidFetch = wrapFetch(fetch, account, { budget: { daily: '20.00' }, store });
 * ```
 * @packageDocumentation
 */
export { redisStore, type RedisStoreOptions } from './redisStore.js';
export type { RedisScriptClient } from './client.js';
