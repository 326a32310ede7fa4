import { randomUUID } from 'node:crypto';
import { HttpResponse } from 'msw';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { redisStore } from '../../src/redis/index.js';
import { BudgetUnavailableError, wrapFetch } from '../../src/index.js';
import { connectRedis } from '../support/redisClient.js';
import { skipWithoutRedis, startRedisServer, type RedisServer } from '../support/redisServer.js';
import { challengeV2, paywall, useMswServer, type Paywall } from '../support/msw.js';
import { paymentRequiredV2, settlementHeader, testAccount } from '../support/challenges.js';
import { countingSigner, type CountingSigner } from '../support/signers.js';

const URL_ = 'https://api.example.com/premium-data';
let txCount = 0;
/** A fresh transaction hash per settlement (the engine treats a repeated one as a replayed receipt). */
const nextTx = () => `0x${(++txCount).toString(16).padStart(64, '0')}`;
const BUDGET = { daily: '1.00', perRequest: '0.10' };

/** Outcome of one paid call: the status, or the error's class and code, and how long it took. */
async function attempt(paidFetch: typeof fetch): Promise<{ status?: number; error?: unknown; ms: number }> {
  const started = performance.now();
  try {
    const response = await paidFetch(URL_);
    return { status: response.status, ms: performance.now() - started };
  } catch (error) {
    return { error, ms: performance.now() - started };
  }
}

function ready(client: Redis): Promise<void> {
  if (client.status === 'ready') return Promise.resolve();
  return new Promise((resolve) => client.once('ready', () => resolve()));
}

// Skips (with a loud warning) only outside CI when redis-server is not installed; in CI a
// missing redis-server makes beforeAll fail with what to install.
describe.skipIf(skipWithoutRedis('test/redis/redisStore.outage.test.ts'))('wrapFetch over redisStore: Redis unhealthy → nothing is paid', () => {
  const msw = useMswServer();
  let redis: RedisServer;
  let wall: Paywall;
  let signer: CountingSigner;

  beforeAll(async () => {
    redis = await startRedisServer();
  });
  afterAll(() => redis?.close());

  const setup = (store: Parameters<typeof wrapFetch>[2]) => {
    wall = paywall({
      url: URL_,
      challenge: () => challengeV2(paymentRequiredV2()),
      paid: () => HttpResponse.json({ ok: true }, { headers: { 'PAYMENT-RESPONSE': settlementHeader({ success: true, transaction: nextTx(), network: 'eip155:84532', payer: testAccount.address }) } }),
    });
    msw.use(wall.handler);
    signer = countingSigner();
    return wrapFetch(fetch, signer, store);
  };

  it('Redis stopped mid-run: the next call fails closed at once (budget_unavailable, no signature, no payment header); restarted: payments resume', async () => {
    const client = await connectRedis(redis.url);
    try {
      const store = redisStore(client, { prefix: `x402outage:${randomUUID()}:`, timeoutMs: 1_000 });
      const paidFetch = setup({ budget: BUDGET, store });
      expect((await attempt(paidFetch)).status).toBe(200);
      expect(await attempt(paidFetch)).toMatchObject({ status: 200 });
      expect([signer.calls, wall.paid().length]).toEqual([2, 2]);

      await redis.stop();
      for (let i = 0; i < 3; i++) {
        const outcome = await attempt(paidFetch);
        expect(outcome.error).toBeInstanceOf(BudgetUnavailableError);
        expect(outcome.error).toMatchObject({ code: 'budget_unavailable', moneyMoved: 'no' });
        expect(outcome.ms).toBeLessThan(1_000);
      }
      expect([signer.calls, wall.paid().length]).toEqual([2, 2]);
      expect(wall.seen.length).toBe(2 * 2 + 3);

      // Same port, empty server, empty script cache (NOSCRIPT → EVAL).
      await redis.start();
      await ready(client);
      expect((await attempt(paidFetch)).status).toBe(200);
      expect([signer.calls, wall.paid().length]).toEqual([3, 3]);
    } finally {
      client.disconnect();
    }
  }, 30_000);

  it('Redis frozen, with a client that would queue and retry: fails closed after timeoutMs; the late reserve stays counted', async () => {
    // ioredis defaults: offline queue on, 20 retries per request. The store's timeout bounds it.
    const client = new Redis(redis.url, { lazyConnect: true });
    client.on('error', () => undefined);
    await client.connect();
    try {
      const prefix = `x402outage:${randomUUID()}:`;
      const store = redisStore(client, { prefix, timeoutMs: 300 });
      const paidFetch = setup({ budget: BUDGET, store });
      expect((await attempt(paidFetch)).status).toBe(200);

      redis.pause();
      let outcome;
      try {
        outcome = await attempt(paidFetch);
      } finally {
        redis.resume();
      }
      expect(outcome.error).toBeInstanceOf(BudgetUnavailableError);
      expect((outcome.error as Error).message).toMatch(/nothing was paid/);
      expect(outcome.ms).toBeGreaterThanOrEqual(290);
      expect(outcome.ms).toBeLessThan(1_500);
      expect([signer.calls, wall.paid().length]).toEqual([1, 1]);

      expect((await attempt(paidFetch)).status).toBe(200);
      expect([signer.calls, wall.paid().length]).toEqual([2, 2]);
      // The reserve that timed out ran once Redis woke up: it stays counted (spent = signed errs
      // on the side of over-counting), and it was never signed.
      expect((await store.report()).map((r) => r.status)).toEqual(['settled', 'reserved', 'settled']);
      expect(await store.usage([{ key: 'global|USD|rolling:86400', window: { kind: 'rolling', seconds: 86400 } }])).toEqual([30_000n]);
    } finally {
      client.disconnect();
    }
  }, 30_000);

  it('a key of the wrong type (a script error): fails closed, no signature', async () => {
    const client = await connectRedis(redis.url);
    try {
      const prefix = `x402outage:${randomUUID()}:`;
      const paidFetch = setup({ budget: BUDGET, store: redisStore(client, { prefix }) });
      expect((await attempt(paidFetch)).status).toBe(200);
      const [counter] = await client.keys(`${prefix}c:*`);
      await client.del(counter!);
      await client.set(counter!, '42');
      const outcome = await attempt(paidFetch);
      expect(outcome.error).toBeInstanceOf(BudgetUnavailableError);
      expect(outcome.error).toMatchObject({ code: 'budget_unavailable', details: { reason: expect.stringMatching(/holds a string/) } });
      expect([signer.calls, wall.paid().length]).toEqual([1, 1]);
    } finally {
      client.disconnect();
    }
  });
});
