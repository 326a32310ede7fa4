/**
 * THREATS.md §F — retries, replay and settlement lies, against the hostile server; and the
 * exactly-once guarantee: one logical request produces at most one signature, an ambiguous
 * outcome is `SettlementUnknownError` with the payment id and the quote, and the SDK never signs
 * again for that call. The chain-side checks of F3/F4/F7 (authorizationState, Transfer logs)
 * are not done by this SDK: see docs/security.md "Open gaps".
 */
import { describe, expect, it } from 'vitest';
import { getPayment, PaymentRejectedError, SettlementUnknownError } from '../../src/index.js';
import { encodeBase64Json } from '../../src/protocol/codec.js';
import { PAY_TO, testAccount } from '../support/challenges.js';
import { API, expectOneSignature, snapshot, useHostile, type Client } from './harness.js';
import { decodePayment, paywall, send402v2, sendOk, txHash, type Handler } from './hostileServer.js';
import { VERSIONS, challenge, send402, type Version } from './common.js';

const h = useHostile();
const PAYMENT_ID = /^pay_[0-9a-f]{32}$/;
const withId = { extensions: { 'payment-identifier': { info: { required: true, note: 'kept' }, schema: { type: 'object' } } } };

/** A 402 of `version` for unpaid requests; `paid` for paid ones. */
function route(version: Version, path: string, paid: Handler, top: Record<string, unknown> = version === 'v2' ? withId : {}) {
  h.server.route(API, path, paywall((_q, res) => send402(version, res, challenge(version, undefined, top)), paid));
}

async function usedToday(c: Client): Promise<string | undefined> {
  return (await c.paidFetch.budget.remaining()).find((l) => l.scope === 'global' && l.limit === 'daily')?.used;
}

describe('F1 402 after payment', () => {
  for (const version of VERSIONS) {
    it(`${version}: paid, then 402 again → PaymentRejectedError (money: maybe); ONE signature, counted once, never paid again`, async () => {
      route(version, '/double', (_q, res) => send402(version, res, { ...challenge(version), error: 'invalid_exact_evm_signature' }));
      const c = h.client();
      const error = await c.paidFetch(h.url('/double')).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(PaymentRejectedError);
      const e = error as PaymentRejectedError;
      expect(e).toMatchObject({ code: 'payment_rejected', moneyMoved: 'maybe', reason: 'invalid_exact_evm_signature', status: 402 });
      expect(e.message).toMatch(/Money moved: maybe/);
      expectOneSignature(c, h, { to: PAY_TO, value: 10000n });
      expect(await usedToday(c)).toBe('0.01');
      const report = await c.paidFetch.budget.report();
      expect(report).toHaveLength(1);
      expect(report[0]!.status).not.toBe('released');
      if (version === 'v2') {
        expect(e.paymentId).toMatch(PAYMENT_ID);
        expect(e.payment.paymentId).toBe(e.paymentId);
      }
    });
  }
});

describe('F2 ambiguous outcomes after the paid request was sent → SettlementUnknownError, never a second signature', () => {
  it('v2: accepted, then no answer (timeout) → settlement_unknown with the payment id, the quote and "money may have moved"', async () => {
    route('v2', '/hang', () => undefined);
    const c = h.client({ paidRequestTimeoutMs: 300 });
    const started = performance.now();
    const error = await c.paidFetch(h.url('/hang')).catch((e: unknown) => e);
    expect(performance.now() - started).toBeLessThan(3_000);
    expect(error).toBeInstanceOf(SettlementUnknownError);
    const e = error as SettlementUnknownError;
    expect(e).toMatchObject({ code: 'settlement_unknown', moneyMoved: 'maybe', reason: 'timeout' });
    expect(e.shortMessage).toMatch(/money may have moved/);
    expect(e.quote).toMatchObject({ amount: 10000n, payTo: PAY_TO, network: 'eip155:84532' });
    const header = decodePayment(expectOneSignature(c, h, { to: PAY_TO, value: 10000n }));
    expect(e.paymentId).toMatch(PAYMENT_ID);
    expect(header.extensions['payment-identifier'].info).toEqual({ required: true, note: 'kept', id: e.paymentId });
    expect(e.details['paymentId']).toBe(e.paymentId);
    expect((await c.paidFetch.budget.report())[0]!.status).toBe('unknown');
  });

  for (const version of VERSIONS) {
    it(`${version}: connection reset after the paid request arrived → settlement_unknown (network), ONE`, async () => {
      route(version, '/reset', (req) => void req.socket.destroy());
      const c = h.client();
      const e = (await c.paidFetch(h.url('/reset')).catch((x: unknown) => x)) as SettlementUnknownError;
      expect(e).toBeInstanceOf(SettlementUnknownError);
      expect(e).toMatchObject({ moneyMoved: 'maybe', reason: 'network' });
      expectOneSignature(c, h, { to: PAY_TO, value: 10000n });
      expect(await usedToday(c)).toBe('0.01');
      if (version === 'v2') expect(e.paymentId).toMatch(PAYMENT_ID);
      else expect(e.paymentId).toBeUndefined();
    });

    it(`${version}: 502 after the paid request → settlement_unknown (server_error), ONE`, async () => {
      route(version, '/502', (_q, res) => void res.writeHead(502, { 'content-type': 'text/plain' }).end('bad gateway'));
      const c = h.client();
      const e = (await c.paidFetch(h.url('/502')).catch((x: unknown) => x)) as SettlementUnknownError;
      expect(e).toBeInstanceOf(SettlementUnknownError);
      expect(e).toMatchObject({ moneyMoved: 'maybe', reason: 'server_error' });
      expect(e.response?.status).toBe(502);
      expectOneSignature(c, h, { to: PAY_TO, value: 10000n });
    });
  }

  it('v2: the caller aborts after the paid request left → settlement_unknown (aborted), ONE', async () => {
    const controller = new AbortController();
    route('v2', '/abort', () => controller.abort());
    const c = h.client();
    const e = (await c.paidFetch(h.url('/abort'), { signal: controller.signal }).catch((x: unknown) => x)) as SettlementUnknownError;
    expect(e).toBeInstanceOf(SettlementUnknownError);
    expect(e.reason).toBe('aborted');
    expectOneSignature(c, h, { to: PAY_TO, value: 10000n });
  });

  it('v2: the payment id is the one in the receipt too, and is absent when the server does not advertise the extension', async () => {
    route('v2', '/with-id', (_q, res) => sendOk(res, { success: true, transaction: txHash(7), network: 'eip155:84532', payer: testAccount.address }));
    route('v2', '/without-id', (_q, res) => sendOk(res, { success: true, transaction: txHash(8), network: 'eip155:84532', payer: testAccount.address }), {});
    const c = h.client();
    const withIdRes = await c.paidFetch(h.url('/with-id'));
    const sent = decodePayment(h.server.paymentHeaders()[0]);
    expect(getPayment(withIdRes)?.paymentId).toBe(sent.extensions['payment-identifier'].info.id);
    const withoutRes = await c.paidFetch(h.url('/without-id'));
    expect(getPayment(withoutRes)?.paymentId).toBeUndefined();
    expect(decodePayment(h.server.paymentHeaders()[1]).extensions).toBeUndefined();
  });
});

describe('F3 a server that says "failed" does not win a rollback', () => {
  it('v2: 200 with PAYMENT-RESPONSE success:false → status failed, the amount stays counted', async () => {
    route('v2', '/failed', (_q, res) => sendOk(res, { success: false, errorReason: 'insufficient_funds', transaction: '', network: 'eip155:84532' }));
    const c = h.client();
    const res = await c.paidFetch(h.url('/failed'));
    expect(getPayment(res)).toMatchObject({ status: 'failed', reason: 'insufficient_funds' });
    expect(await usedToday(c)).toBe('0.01');
    expect((await c.paidFetch.budget.report())[0]!.status).toBe('failed');
  });

  it('v2: 402 with PAYMENT-RESPONSE success:false → payment_rejected, the amount stays counted', async () => {
    route('v2', '/failed402', (_q, res) => {
      res.writeHead(402, { 'payment-response': encodeBase64Json({ success: false, errorReason: 'unexpected_settle_error', transaction: '', network: 'eip155:84532' }) });
      res.end('{}');
    });
    const c = h.client();
    const e = (await c.paidFetch(h.url('/failed402')).catch((x: unknown) => x)) as PaymentRejectedError;
    expect(e).toBeInstanceOf(PaymentRejectedError);
    expect(e.payment.status).toBe('failed');
    expect(await usedToday(c)).toBe('0.01');
  });
});

describe('F4 forged or replayed receipts (receipts are advisory; nothing is counted twice)', () => {
  const forged: Array<[string, (payer: string) => Record<string, unknown>, string]> = [
    ['another payer', () => ({ success: true, transaction: txHash(11), network: 'eip155:84532', payer: '0x1111111111111111111111111111111111111111' }), 'unknown'],
    ['another network', (payer) => ({ success: true, transaction: txHash(12), network: 'eip155:8453', payer }), 'unknown'],
    ['a transaction that is not a hash', (payer) => ({ success: true, transaction: 'paid, trust me', network: 'eip155:84532', payer }), 'unknown'],
    ['garbage instead of base64 JSON', () => ({}), 'unknown'],
  ];
  for (const [label, receipt, status] of forged) {
    it(`v2: a receipt naming ${label} → status ${status}, counted once`, async () => {
      route('v2', '/forged', (_q, res) => {
        if (label.startsWith('garbage')) {
          res.writeHead(200, { 'payment-response': 'not base64 at all!' }).end('{}');
          return;
        }
        sendOk(res, receipt(testAccount.address));
      });
      const c = h.client();
      const res = await c.paidFetch(h.url('/forged'));
      expect(getPayment(res)?.status).toBe(status);
      expect(getPayment(res)?.transaction).toBeUndefined();
      const report = await c.paidFetch.budget.report();
      expect(report).toHaveLength(1);
      expect(report[0]!.amount).toBe('10000');
      expectOneSignature(c, h, { to: PAY_TO, value: 10000n });
    });
  }

  it('v2: a receipt replaying the transaction of an earlier payment → unknown, and each payment counted once', async () => {
    const tx = txHash(99);
    route('v2', '/replay', (_q, res) => sendOk(res, { success: true, transaction: tx, network: 'eip155:84532', payer: testAccount.address }));
    const c = h.client();
    const first = await c.paidFetch(h.url('/replay'));
    const second = await c.paidFetch(h.url('/replay'));
    expect(getPayment(first)).toMatchObject({ status: 'settled', transaction: tx });
    expect(getPayment(second)?.status).toBe('unknown');
    expect(getPayment(second)?.transaction).toBeUndefined();
    const report = await c.paidFetch.budget.report();
    expect(report.map((r) => [r.amount, r.status])).toEqual([
      ['10000', 'settled'],
      ['10000', 'unknown'],
    ]);
    expect(await usedToday(c)).toBe('0.02');
  });
});

describe('F5 402 loop / retry storm → circuit breaker', () => {
  it('v2: always 402 after paying; 100 calls → 3 payments (K), then REFUSE(circuit_open) until the cool-down ends', async () => {
    route('v2', '/forever', (_q, res) => send402v2(res, { ...challenge('v2'), error: 'try again' }));
    let now = Date.parse('2026-01-01T00:00:00Z');
    const c = h.client({ clock: () => now });
    const codes: string[] = [];
    for (let i = 0; i < 3; i++) codes.push(await c.paidFetch(h.url('/forever')).then(() => 'ok', (e: { code: string }) => e.code));
    expect(codes).toEqual(['payment_rejected', 'payment_rejected', 'payment_rejected']);
    const open = await h.expectRefused(c, () => c.paidFetch(h.url('/forever')), { code: 'circuit_open' });
    expect(open).toMatchObject({ failures: 3, retryAt: now + 60_000 });
    for (let i = 0; i < 96; i++) {
      const e = await c.paidFetch(h.url('/forever')).catch((x: { code: string }) => x);
      expect((e as { code: string }).code).toBe('circuit_open');
    }
    expect(c.signer.calls).toBe(3);
    expect(h.server.paymentHeaders()).toHaveLength(3);
    // After the cool-down: one probe; it fails, so the breaker opens again at once.
    now += 60_001;
    expect((await c.paidFetch(h.url('/forever')).catch((x: { code: string }) => x) as { code: string }).code).toBe('payment_rejected');
    await h.expectRefused(c, () => c.paidFetch(h.url('/forever')), { code: 'circuit_open' });
    expect(c.signer.calls).toBe(4);
    expect(c.events.denied.filter((d) => d.code === 'circuit_open').length).toBeGreaterThanOrEqual(97);
  });

  it('v1: unknown outcomes (5xx) count too; the threshold and cool-down are options; another host is unaffected', async () => {
    route('v1', '/5xx', (_q, res) => void res.writeHead(503).end());
    h.server.route('other.hostile.test', '/fine', paywall((_q, res) => send402('v1', res, challenge('v1'))));
    const c = h.client({ breaker: { threshold: 2, coolDownMs: 5_000 } });
    for (let i = 0; i < 2; i++) expect(await c.paidFetch(h.url('/5xx')).catch((x: { code: string }) => x.code)).toBe('settlement_unknown');
    await h.expectRefused(c, () => c.paidFetch(h.url('/5xx')), { code: 'circuit_open' });
    expect((await c.paidFetch(h.url('/fine', 'other.hostile.test'))).status).toBe(200);
  });

  it('a success closes the count: failures must be in a row', async () => {
    let fail = true;
    route('v2', '/flaky', (_q, res) => (fail ? send402v2(res, challenge('v2')) : sendOk(res, undefined)));
    const c = h.client();
    for (let round = 0; round < 3; round++) {
      fail = true;
      for (let i = 0; i < 2; i++) await c.paidFetch(h.url('/flaky')).catch(() => undefined);
      fail = false;
      expect((await c.paidFetch(h.url('/flaky'))).status).toBe(200);
    }
    expect(c.signer.calls).toBe(9);
  });

  it('breaker: false turns it off (every call pays once, still never twice)', async () => {
    route('v2', '/nobreaker', (_q, res) => send402v2(res, challenge('v2')));
    const c = h.client({ breaker: false });
    for (let i = 0; i < 5; i++) expect(await c.paidFetch(h.url('/nobreaker')).catch((x: { code: string }) => x.code)).toBe('payment_rejected');
    expect(c.signer.calls).toBe(5);
  });
});

describe('F6 fake delivery', () => {
  for (const version of VERSIONS) {
    it(`${version}: 200 with an empty body after settling → ONE, handed to the caller, never paid again`, async () => {
      route(version, '/empty', (_q, res) => void res.writeHead(200, { 'content-length': '0' }).end());
      const c = h.client();
      const res = await c.paidFetch(h.url('/empty'));
      expect(res.status).toBe(200);
      expect(await res.text()).toBe('');
      expect(getPayment(res)?.status).toBe('unknown');
      expectOneSignature(c, h, { to: PAY_TO, value: 10000n });
      expect(await snapshot(c)).toMatchObject({ report: [{ amount: '10000', status: 'unknown' }] });
    });
  }
});
