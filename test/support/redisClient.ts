import { Redis, type RedisOptions } from 'ioredis';
import { afterAll, beforeAll } from 'vitest';
import { startRedisServer, type RedisServer } from './redisServer.js';

/**
 * An ioredis client configured as the docs advise for `redisStore` (give up rather than queue
 * while disconnected), connected and ready: with the offline queue off, a command sent before
 * the connection is up would fail. Connection errors are not logged (tests assert on the failed
 * commands instead).
 */
export async function connectRedis(url: string, options: RedisOptions = {}): Promise<Redis> {
  const client = new Redis(url, { maxRetriesPerRequest: 1, enableOfflineQueue: false, lazyConnect: true, ...options });
  // Connection errors surface as failed commands, which is what the tests look at.
  client.on('error', () => undefined);
  await client.connect();
  return client;
}

/**
 * Starts a private `redis-server` before the suite it is called in and connects a client
 * ({@link connectRedis}); disconnects and stops it after. `ready` receives both once started.
 */
export function useRedisServer(ready: (started: { server: RedisServer; client: Redis }) => void): void {
  let started: { server: RedisServer; client: Redis } | undefined;
  beforeAll(async () => {
    const server = await startRedisServer();
    started = { server, client: await connectRedis(server.url) };
    ready(started);
  });
  afterAll(async () => {
    started?.client.disconnect();
    await started?.server.close();
  });
}
