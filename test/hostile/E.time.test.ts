/**
 * THREATS.md §E — validity windows, clocks and nonces, against the hostile server.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { randomBytes, toHex } from '../../src/internal/random.js';
import { PAY_TO } from '../support/challenges.js';
import { API, expectOneSignature, useHostile } from './harness.js';
import { decodePayment, paywall } from './hostileServer.js';
import { VERSIONS, challenge, requirement, send402 } from './common.js';

const h = useHostile();
afterEach(() => {
  vi.restoreAllMocks();
});

describe('E1 year-long authorization', () => {
  for (const version of VERSIONS) {
    it(`${version}: maxTimeoutSeconds 31,536,000 (a year) → REFUSE(malformed)`, async () => {
      h.server.route(API, '/year', (_q, res) => send402(version, res, challenge(version, [requirement(version, { maxTimeoutSeconds: 31_536_000 })])));
      const c = h.client();
      const e = await h.expectRefused(c, () => c.paidFetch(h.url('/year')), { code: 'invalid_challenge', reason: 'malformed' });
      expect(e.issues[0].path).toBe('accepts.0.maxTimeoutSeconds');
    });

    it(`${version}: maxTimeoutSeconds 86,400 (a day) is clamped: validBefore − signing time ≤ 300 s (ONE)`, async () => {
      h.server.route(API, '/day', paywall((_q, res) => send402(version, res, challenge(version, [requirement(version, { maxTimeoutSeconds: 86_400 })]))));
      const c = h.client();
      const before = Math.floor(Date.now() / 1000);
      expect((await c.paidFetch(h.url('/day'))).status).toBe(200);
      const after = Math.ceil(Date.now() / 1000);
      const auth = decodePayment(expectOneSignature(c, h, { to: PAY_TO, value: 10000n })).payload.authorization;
      expect(Number(auth.validBefore) - before).toBeLessThanOrEqual(300 + (after - before));
      expect(Number(auth.validBefore)).toBeGreaterThan(after);
    });
  }

  it('v2: maxAuthSeconds lowers the bound further (60 s)', async () => {
    h.server.route(API, '/short', paywall((_q, res) => send402('v2', res, challenge('v2', [requirement('v2', { maxTimeoutSeconds: 3600 })]))));
    const c = h.client({ maxAuthSeconds: 60 });
    const now = Math.floor(Date.now() / 1000);
    expect((await c.paidFetch(h.url('/short'))).status).toBe(200);
    const auth = decodePayment(h.server.paymentHeaders()[0]).payload.authorization;
    expect(Number(auth.validBefore) - now).toBeLessThanOrEqual(61);
  });
});

describe('E2 client clock wrong', () => {
  for (const skew of [-3_600_000, 3_600_000]) {
    it(`a clock ${skew > 0 ? 'one hour ahead' : 'one hour behind'}: one time source, the window stays ≤ maxAuthSeconds + the 600 s back-dating`, async () => {
      h.server.route(API, '/clock', paywall((_q, res) => send402('v2', res, challenge('v2'))));
      const clock = () => Date.now() + skew;
      const c = h.client({ clock });
      const nowSeconds = Math.floor(clock() / 1000);
      expect((await c.paidFetch(h.url('/clock'))).status).toBe(200);
      const auth = decodePayment(h.server.paymentHeaders()[0]).payload.authorization;
      expect(Number(auth.validBefore) - Number(auth.validAfter)).toBeLessThanOrEqual(60 + 600 + 1);
      expect(Math.abs(Number(auth.validBefore) - (nowSeconds + 60))).toBeLessThanOrEqual(1);
    });
  }
});

describe('E3 nonce quality', () => {
  it('100,000 nonces from the CSPRNG: all 32 bytes, 0 duplicates', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 100_000; i++) seen.add(toHex(randomBytes(32)));
    expect(seen.size).toBe(100_000);
  });

  it('25 payments: 25 distinct 32-byte nonces, and Math.random is never called', async () => {
    // Other code in this process (the test runner's RPC) may use Math.random: only the SDK's own frames count.
    const original = Math.random;
    const fromSdk: string[] = [];
    const src = new URL('../../src/', import.meta.url).pathname;
    vi.spyOn(Math, 'random').mockImplementation(() => {
      const stack = new Error().stack ?? '';
      if (stack.includes(src)) fromSdk.push(stack);
      return original();
    });
    h.server.route(API, '/nonce', paywall((_q, res) => send402('v2', res, challenge('v2', [requirement('v2', { amount: '100' })]))));
    const c = h.client();
    for (let i = 0; i < 25; i++) expect((await c.paidFetch(h.url('/nonce'))).status).toBe(200);
    const nonces = h.server.paymentHeaders().map((p) => decodePayment(p).payload.authorization.nonce as string);
    expect(new Set(nonces).size).toBe(25);
    for (const nonce of nonces) expect(nonce).toMatch(/^0x[0-9a-f]{64}$/);
    expect(fromSdk).toEqual([]);
  });
});
