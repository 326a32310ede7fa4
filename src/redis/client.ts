/**
 * The part of a Redis client that `redisStore` uses: running Lua scripts by SHA-1 (`EVALSHA`) and
 * by source (`EVAL`). An ioredis `Redis` or `Cluster` fits as it is; nothing here imports ioredis,
 * so loading `x402-autopay/redis` never loads a Redis client by itself.
 *
 * Any promise-returning client with these two methods works, for example a thin wrapper around
 * another library. Replies are read as ioredis returns them: bulk strings as strings, integers as
 * numbers, arrays as arrays. Every reply is validated before it is trusted.
 *
 * @example
 * ```ts
 * import { Redis } from 'ioredis';
 * import { redisStore, type RedisScriptClient } from 'x402-autopay/redis';
 * const client: RedisScriptClient = new Redis(process.env.REDIS_URL!, { maxRetriesPerRequest: 1 });
 * const store = redisStore(client);
 * ```
 */
export interface RedisScriptClient {
  /** `EVAL script numkeys key… arg…` */
  eval(script: string, numkeys: number, ...keysAndArgs: string[]): Promise<unknown>;
  /** `EVALSHA sha1 numkeys key… arg…` */
  evalsha(sha1: string, numkeys: number, ...keysAndArgs: string[]): Promise<unknown>;
}
