/**
 * THREATS.md §H — the budget ledger under a hostile server: bursts, store outages, pre-send
 * failures. Store-specific threats (H2 fleets on Redis, H4 crashes, H5 windows, H6 corruption,
 * H9 browser tabs) are covered by the store suites: see docs/security.md.
 */
import { describe, expect, it } from 'vitest';
import { isX402Error, type SpendStore } from '../../src/index.js';
import { PAY_TO } from '../support/challenges.js';
import { API, snapshot, useHostile } from './harness.js';
import { paywall } from './hostileServer.js';
import { challenge, requirement, send402 } from './common.js';

const h = useHostile();

describe('H1 burst against a daily cap', () => {
  it('v2: 40 parallel calls at 0.01 USD under a 0.10 USD daily cap → exactly 10 signatures, the rest budget_exceeded', async () => {
    h.server.route(API, '/burst', paywall((_q, res) => send402('v2', res, challenge('v2'))));
    const c = h.client({ budget: { daily: '0.10' } });
    const results = await Promise.allSettled(Array.from({ length: 40 }, () => c.paidFetch(h.url('/burst'))));
    const paid = results.filter((r) => r.status === 'fulfilled');
    const refused = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    expect(paid).toHaveLength(10);
    expect(refused.map((r) => (r.reason as { code: string }).code)).toEqual(Array(30).fill('budget_exceeded'));
    expect(c.signer.calls).toBe(10);
    expect(h.server.paymentHeaders()).toHaveLength(10);
    expect(c.signer.typed.reduce((sum, t) => sum + (t.message['value'] as bigint), 0n)).toBe(100000n);
    expect((await c.paidFetch.budget.remaining()).find((l) => l.limit === 'daily')).toMatchObject({ used: '0.1', remaining: '0' });
  });

  it('v1: the same burst', async () => {
    h.server.route(API, '/burst1', paywall((_q, res) => send402('v1', res, challenge('v1'))));
    const c = h.client({ budget: { daily: '0.05' } });
    const results = await Promise.allSettled(Array.from({ length: 20 }, () => c.paidFetch(h.url('/burst1'))));
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(5);
    expect(c.signer.calls).toBe(5);
  });
});

describe('H7 store outage', () => {
  it('a store whose reserve fails → REFUSE(budget_unavailable): fail closed, nothing signed', async () => {
    const down: SpendStore = {
      reserve: () => Promise.reject(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:6379'), { code: 'ECONNREFUSED' })),
      release: async () => undefined,
      settle: async () => undefined,
      usage: async (checks) => checks.map(() => 0n),
      report: async () => [],
    };
    h.server.route(API, '/store', (_q, res) => send402('v2', res, challenge('v2')));
    const c = h.client({ store: down });
    await h.expectRefused(c, () => c.paidFetch(h.url('/store')), { code: 'budget_unavailable' });
  });

  it('a store that throws synchronously fails closed too', async () => {
    const broken: SpendStore = {
      reserve: () => {
        throw new Error('boom');
      },
      release: async () => undefined,
      settle: async () => undefined,
      usage: async (checks) => checks.map(() => 0n),
      report: async () => [],
    };
    h.server.route(API, '/store2', (_q, res) => send402('v2', res, challenge('v2')));
    const c = h.client({ store: broken });
    await h.expectRefused(c, () => c.paidFetch(h.url('/store2')), { code: 'budget_unavailable' });
  });
});

describe('H8 reservation leak on pre-send failures', () => {
  it('50 signing failures: every reservation released, no header sent, the budget not starved', async () => {
    h.server.route(API, '/leak', paywall((_q, res) => send402('v2', res, challenge('v2'))));
    let sign = 0;
    const failing = {
      address: '0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266' as const,
      calls: 0,
      typed: [],
      signTypedData: () => {
        sign++;
        return Promise.reject(new Error('user rejected the request'));
      },
    };
    const c = h.client({ budget: { daily: '0.10' } }, failing);
    const before = await snapshot(c);
    for (let i = 0; i < 50; i++) {
      const e = await c.paidFetch(h.url('/leak')).catch((x: unknown) => x);
      expect(isX402Error(e) && e.code).toBe('wallet_error');
      expect(isX402Error(e) && e.moneyMoved).toBe('no');
    }
    expect(sign).toBe(50);
    expect(h.server.paymentHeaders()).toHaveLength(0);
    expect((await snapshot(c)).remaining).toEqual(before.remaining);
    expect((await c.paidFetch.budget.report()).every((r) => r.status === 'released')).toBe(true);
  });

  it('concurrent first payments naming other payees: the ones refused at the pin (at selection or after reserving) leave nothing counted', async () => {
    let n = 0;
    h.server.route(API, '/leak2', paywall((_q, res) =>
      send402('v2', res, challenge('v2', [requirement('v2', { payTo: n++ % 2 === 0 ? PAY_TO : '0x1111111111111111111111111111111111111111' })])),
    ));
    const c = h.client();
    const results = await Promise.allSettled(Array.from({ length: 8 }, () => c.paidFetch(h.url('/leak2'))));
    const refused = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    expect(refused.length).toBeGreaterThan(0);
    for (const r of refused) expect((r.reason as { code: string }).code).toBe('payee_changed');
    expect(c.signer.calls).toBe(8 - refused.length);
    const daily = (await c.paidFetch.budget.remaining()).find((l) => l.scope === 'global' && l.limit === 'daily');
    expect(daily?.used).toBe(String((8 - refused.length) / 100));
    const report = await c.paidFetch.budget.report();
    expect(report.filter((r) => r.status !== 'released')).toHaveLength(8 - refused.length);
  });
});
