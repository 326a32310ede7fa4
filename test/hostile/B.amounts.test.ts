/**
 * THREATS.md §B — amount, unit and price tricks, against the hostile server.
 * B3 (price pin per place) is opt-in: `pinPrices`.
 */
import { describe, expect, it } from 'vitest';
import { PAY_TO } from '../support/challenges.js';
import { API, expectOneSignature, useHostile } from './harness.js';
import { paywall } from './hostileServer.js';
import { VERSIONS, challenge, requirement, send402 } from './common.js';

const h = useHostile();

describe('B1 single-signature drain', () => {
  for (const version of VERSIONS) {
    it(`${version}: amount = 1,000,000 USDC (the whole wallet) → REFUSE(budget_exceeded) under the default cap`, async () => {
      h.server.route(API, '/drain', (_q, res) => send402(version, res, challenge(version, [requirement(version, { amount: '1000000000000' })])));
      const c = h.client();
      const e = await h.expectRefused(c, () => c.paidFetch(h.url('/drain')), { code: 'budget_exceeded' });
      expect(e.limit).toBe('perRequest');
      expect(e.allowed).toMatch(/^0\.1 USD/);
    });
  }
});

describe('B2 decimals lie (units come from the local asset table only)', () => {
  for (const version of VERSIONS) {
    it(`${version}: USDC with extra.decimals 18 and 50 USDC in 6-decimal units → REFUSE(budget_exceeded)`, async () => {
      const lie = requirement(version, { amount: '50000000', extra: { name: 'USDC', version: '2', decimals: 18 } });
      h.server.route(API, '/decimals', (_q, res) => send402(version, res, challenge(version, [lie])));
      const c = h.client();
      const e = await h.expectRefused(c, () => c.paidFetch(h.url('/decimals')), { code: 'budget_exceeded' });
      expect(e.requested).toBe('50 USD');
    });
  }

  it('v2: an amount sized for 18 decimals (0.01 × 10^18) against 6-decimal USDC → REFUSE(budget_exceeded)', async () => {
    h.server.route(API, '/decimals18', (_q, res) => send402('v2', res, challenge('v2', [requirement('v2', { amount: '10000000000000000' })])));
    const c = h.client();
    const e = await h.expectRefused(c, () => c.paidFetch(h.url('/decimals18')), { code: 'budget_exceeded' });
    expect(e.requested).toBe('10000000000 USD');
  });
});

describe('B3 bait-and-switch (opt-in pinPrices)', () => {
  for (const version of VERSIONS) {
    it(`${version}: paid 0.001 USD, then the same place asks 0.05 (under the cap) → REFUSE(price_changed); 0.002 is still paid`, async () => {
      let amount = '1000';
      h.server.route(API, '/bait', paywall((_q, res) => send402(version, res, challenge(version, [requirement(version, { amount })]))));
      const c = h.client({ pinPrices: true });
      expect((await c.paidFetch(h.url('/bait'))).status).toBe(200);
      expectOneSignature(c, h, { to: PAY_TO, value: 1000n });
      amount = '50000';
      const e = await h.expectRefused(c, () => c.paidFetch(h.url('/bait')), { code: 'price_changed' });
      expect(e).toMatchObject({ pinned: '0.001 USD', offered: '0.05 USD', maxRatio: 2 });
      expect(e.place).toMatch(/^GET http:\/\/api\.hostile\.test:\d+\/bait$/);
      amount = '2000';
      expect((await c.paidFetch(h.url('/bait'))).status).toBe(200);
      expect(c.signer.typed.map((t) => t.message['value'])).toEqual([1000n, 2000n]);
    });
  }

  it('v2: the pin is per place: another path of the same host may ask more; maxRatio bounds it exactly', async () => {
    let amount = '1000';
    h.server.route(API, '/pinned', paywall((_q, res) => send402('v2', res, challenge('v2', [requirement('v2', { amount })]))));
    h.server.route(API, '/other', paywall((_q, res) => send402('v2', res, challenge('v2', [requirement('v2', { amount: '50000' })]))));
    const c = h.client({ pinPrices: { maxRatio: 1.5 } });
    expect((await c.paidFetch(h.url('/pinned'))).status).toBe(200);
    expect((await c.paidFetch(h.url('/other'))).status).toBe(200);
    amount = '1501';
    await h.expectRefused(c, () => c.paidFetch(h.url('/pinned')), { code: 'price_changed' });
    amount = '1500';
    expect((await c.paidFetch(h.url('/pinned'))).status).toBe(200);
    expect(c.signer.typed.map((t) => t.message['value'])).toEqual([1000n, 50000n, 1500n]);
  });

  it('v2: without pinPrices (the default) the same bait is paid, bounded only by the caps', async () => {
    let amount = '1000';
    h.server.route(API, '/bait-off', paywall((_q, res) => send402('v2', res, challenge('v2', [requirement('v2', { amount })]))));
    const c = h.client();
    expect((await c.paidFetch(h.url('/bait-off'))).status).toBe(200);
    amount = '50000';
    expect((await c.paidFetch(h.url('/bait-off'))).status).toBe(200);
    expect(c.signer.typed.map((t) => t.message['value'])).toEqual([1000n, 50000n]);
  });
});

describe('B4 slow-burn ramp', () => {
  it('price rising 10% a call, always under the per-request cap, stops at the per-host daily cap', async () => {
    let price = 10000n;
    h.server.route(API, '/ramp', paywall((_q, res) => send402('v2', res, challenge('v2', [requirement('v2', { amount: String(price) })]))));
    const c = h.client({ budget: { perHost: { [API]: { daily: '0.10' } } } });
    let paid = 0n;
    let refused = 0;
    for (let i = 0; i < 20; i++) {
      try {
        const res = await c.paidFetch(h.url('/ramp'));
        await res.text();
        paid += price;
        price = (price * 11n) / 10n;
      } catch (e) {
        expect((e as { code: string }).code).toBe('budget_exceeded');
        refused++;
      }
    }
    expect(paid).toBeLessThanOrEqual(100000n);
    expect(refused).toBeGreaterThan(0);
    expect(c.signer.calls).toBe(h.server.paymentHeaders().length);
    expect(c.signer.typed.reduce((sum, t) => sum + (t.message['value'] as bigint), 0n)).toBe(paid);
  });
});

describe('B4 slow-burn ramp, with pinPrices', () => {
  it('price rising 10% a call: the 24 h median stops it with price_changed after 14 payments, far under the caps', async () => {
    let price = 10000n;
    h.server.route(API, '/ramp-pinned', paywall((_q, res) => send402('v2', res, challenge('v2', [requirement('v2', { amount: String(price) })]))));
    const c = h.client({ pinPrices: true });
    let paid = 0;
    for (;;) {
      const outcome = await c.paidFetch(h.url('/ramp-pinned')).then(
        async (res) => void (await res.text()),
        (e: unknown) => e,
      );
      if (outcome !== undefined) {
        expect(outcome).toMatchObject({ code: 'price_changed', moneyMoved: 'no' });
        break;
      }
      paid++;
      price = (price * 11n) / 10n;
    }
    expect(paid).toBe(14);
    expect(c.signer.calls).toBe(14);
    expect(h.server.paymentHeaders()).toHaveLength(14);
  });
});

describe('B6 zero and dust amounts', () => {
  for (const version of VERSIONS) {
    it(`${version}: amount "0" → REFUSE(no_acceptable_option / zero_amount)`, async () => {
      h.server.route(API, '/zero', (_q, res) => send402(version, res, challenge(version, [requirement(version, { amount: '0' })])));
      const c = h.client();
      await h.expectRefused(c, () => c.paidFetch(h.url('/zero')), { code: 'no_acceptable_option', refusal: 'zero_amount' });
    });
  }

  it('1 atomic unit a call stops at the payment-count cap (maxPayments.perDay)', async () => {
    h.server.route(API, '/dust', paywall((_q, res) => send402('v2', res, challenge('v2', [requirement('v2', { amount: '1' })]))));
    const c = h.client({ budget: { maxPayments: { perDay: 5 } } });
    for (let i = 0; i < 5; i++) expect((await c.paidFetch(h.url('/dust'))).status).toBe(200);
    const e = await h.expectRefused(c, () => c.paidFetch(h.url('/dust')), { code: 'budget_exceeded' });
    expect(e.limit).toMatch(/maxPayments\.perDay/);
    expect(c.signer.calls).toBe(5);
  });

  it('control: a fair price is paid once (ONE)', async () => {
    h.server.route(API, '/fair', paywall((_q, res) => send402('v2', res, challenge('v2'))));
    const c = h.client();
    expect((await c.paidFetch(h.url('/fair'))).status).toBe(200);
    expectOneSignature(c, h, { to: PAY_TO, value: 10000n });
  });
});
