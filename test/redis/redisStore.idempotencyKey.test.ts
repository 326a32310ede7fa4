/**
 * THREATS F1 across processes, on a real redis-server: two wrapped fetches sharing one
 * `redisStore` (two agents of a fleet) pay once for one `Idempotency-Key`. The second is refused
 * (`duplicate_request`, `claimed`) with nothing signed or sent; the key's claim is a counter
 * under the store's prefix that Redis expires once its day (and the clock grace) has passed.
 */
import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { redisStore } from '../../src/redis/index.js';
import { DuplicateRequestError, getPayment, wrapFetch } from '../../src/index.js';
import { CLOCK_JUMP_GRACE_SECONDS } from '../../src/budget/windows.js';
import { challengeV2, paywall, useMswServer } from '../support/msw.js';
import { paymentRequiredV2, requirementV2 } from '../support/challenges.js';
import { countingSigner } from '../support/signers.js';
import { rejectionOf } from '../support/secrets.js';
import { useRedisServer } from '../support/redisClient.js';
import { skipWithoutRedis } from '../support/redisServer.js';

const URL_ = 'https://api.example.com/report';
const KEY = { 'Idempotency-Key': 'job-7' };
const msw = useMswServer();
let client: Redis;

describe.skipIf(skipWithoutRedis('test/redis/redisStore.idempotencyKey.test.ts'))('Idempotency-Key across a fleet sharing a redisStore', () => {
  useRedisServer((started) => ({ client } = started));

  it('pays once: the second agent is refused (claimed), signs and sends nothing; the claim expires with its day; a new key pays', async () => {
    const p = paywall({ url: URL_, challenge: () => challengeV2(paymentRequiredV2([requirementV2()])) });
    msw.use(p.handler);
    const prefix = `x402test:${randomUUID()}:`;
    const agent = () => {
      const signer = countingSigner();
      return { signer, paidFetch: wrapFetch(fetch, signer, { store: redisStore(client, { prefix }) }) };
    };
    const a = agent();
    const b = agent();
    const paid = await a.paidFetch(URL_, { headers: KEY });
    expect(paid.status).toBe(200);
    const error = await rejectionOf(b.paidFetch(URL_, { headers: KEY }));
    expect(error).toBeInstanceOf(DuplicateRequestError);
    expect(error).toMatchObject({ code: 'duplicate_request', state: 'claimed', moneyMoved: 'no' });
    // The earlier payment, found in the shared report: b can look it up on chain.
    expect((error as DuplicateRequestError).authorization).toEqual(getPayment(paid)!.authorization);
    expect(b.signer.calls).toBe(0);
    expect(p.paid()).toHaveLength(1);
    expect(await b.paidFetch.budget.report()).toHaveLength(1); // the store holds a's payment only

    const claims = await client.keys(`${prefix}c:key:*`);
    expect(claims).toHaveLength(1);
    expect(claims[0]).toMatch(/^x402test:.+:c:key:[0-9a-f]{32}\|count\|rolling:86400$/);
    expect(await client.ttl(claims[0]!)).toBeGreaterThan(86400 + CLOCK_JUMP_GRACE_SECONDS);
    expect(await client.ttl(claims[0]!)).toBeLessThanOrEqual(86400 + CLOCK_JUMP_GRACE_SECONDS + 60);
    // Neither the key nor the URL is stored in the claim's name.
    expect(claims[0]).not.toContain('job-7');

    expect((await b.paidFetch(URL_, { headers: { 'Idempotency-Key': 'job-8' } })).status).toBe(200);
    expect(b.signer.calls).toBe(1);
  });
});
