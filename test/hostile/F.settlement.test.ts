/**
 * THREATS.md §F — retries, replay and settlement lies, against the hostile server; and the
 * exactly-once guarantee: one logical request produces at most one signature; an ambiguous
 * outcome is met by sending the same header again (when the request may be repeated), then, if
 * still ambiguous, `SettlementUnknownError` with the payment id and the quote; the SDK never
 * signs again for that call. The chain-side checks of F3/F4/F7 (authorizationState, Transfer logs)
 * are not done by this SDK: see docs/security.md "Open gaps".
 */
import { describe, expect, it } from 'vitest';
import { DuplicateRequestError, getPayment, memoryStore, PaymentRejectedError, SettlementUnknownError } from '../../src/index.js';
import { encodeBase64Json } from '../../src/protocol/codec.js';
import { PAY_TO, testAccount } from '../support/challenges.js';
import { API, expectOneSignature, snapshot, useHostile, type Client } from './harness.js';
import { decodePayment, paywall, send402v2, sendOk, settledAs, settledOk, txHash, type Handler } from './hostileServer.js';
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

describe('F1 a second call with the same request id (Idempotency-Key) → no new nonce', () => {
  for (const version of VERSIONS) {
    it(`${version}: double_402, then the caller retries with the same key → the same header again, then settlement_unknown; ONE`, async () => {
      route(version, '/double-keyed', (_q, res) => send402(version, res, { ...challenge(version), error: 'invalid_exact_evm_signature' }));
      const c = h.client();
      const key = { headers: { 'Idempotency-Key': 'task-7f3a' } };
      expect(await c.paidFetch(h.url('/double-keyed'), key).catch((e: unknown) => e)).toBeInstanceOf(PaymentRejectedError);
      const again = (await c.paidFetch(h.url('/double-keyed'), key).catch((e: unknown) => e)) as SettlementUnknownError;
      expect(again).toMatchObject({ code: 'settlement_unknown', reason: 'refused_after_resend', moneyMoved: 'maybe' });
      expectOneSignature(c, h, { to: PAY_TO, value: 10000n }, { sends: 2 });
      // A third try: the same again, never a signature.
      await c.paidFetch(h.url('/double-keyed'), key).catch(() => undefined);
      expect(c.signer.calls).toBe(1);
      expect(new Set(h.server.paymentHeaders()).size).toBe(1);
      expect(await usedToday(c)).toBe('0.01');
    });
  }

  for (const version of VERSIONS) {
    it(`${version}: double_402, then the same key from another client sharing the store (another process) → DuplicateRequestError (claimed), nothing signed or sent; ONE`, async () => {
      route(version, '/double-fleet', (_q, res) => send402(version, res, { ...challenge(version), error: 'invalid_exact_evm_signature' }));
      const store = memoryStore();
      const c = h.client({ store });
      const other = h.client({ store });
      const key = { headers: { 'Idempotency-Key': 'task-7f3c' } };
      expect(await c.paidFetch(h.url('/double-fleet'), key).catch((e: unknown) => e)).toBeInstanceOf(PaymentRejectedError);
      const before = await snapshot(other);
      const e = await other.paidFetch(h.url('/double-fleet'), key).catch((x: unknown) => x);
      expect(e).toBeInstanceOf(DuplicateRequestError);
      expect(e).toMatchObject({ code: 'duplicate_request', state: 'claimed', moneyMoved: 'no' });
      expect(other.signer.calls).toBe(0);
      expect(await snapshot(other)).toEqual(before);
      expectOneSignature(c, h, { to: PAY_TO, value: 10000n });
      expect(await usedToday(other)).toBe('0.01');
    });
  }

  it('v2: the same key after the answer was delivered → DuplicateRequestError (paid), nothing sent', async () => {
    route('v2', '/keyed-ok', settledOk);
    const c = h.client();
    const key = { headers: { 'Idempotency-Key': 'task-7f3b' } };
    expect((await c.paidFetch(h.url('/keyed-ok'), key)).status).toBe(200);
    const e = await c.paidFetch(h.url('/keyed-ok'), key).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(DuplicateRequestError);
    expect(e).toMatchObject({ state: 'paid', moneyMoved: 'no' });
    expectOneSignature(c, h, { to: PAY_TO, value: 10000n });
  });
});

describe('F2 ambiguous outcomes after the paid request was sent → the same payment sent again, then SettlementUnknownError; never a second signature', () => {
  const quick = { resend: { delayMs: 20 } } as const;

  it('v2: accepted, then no answer (timeout) → sent once more as the same header, then settlement_unknown with the payment id, the quote and "money may have moved"', async () => {
    route('v2', '/hang', () => undefined);
    const c = h.client({ paidRequestTimeoutMs: 300, ...quick });
    const started = performance.now();
    const error = await c.paidFetch(h.url('/hang')).catch((e: unknown) => e);
    expect(performance.now() - started).toBeLessThan(3_000);
    expect(error).toBeInstanceOf(SettlementUnknownError);
    const e = error as SettlementUnknownError;
    expect(e).toMatchObject({ code: 'settlement_unknown', moneyMoved: 'maybe', reason: 'timeout', sends: 2 });
    expect(e.shortMessage).toMatch(/money may have moved/);
    expect(e.message).toContain('sent 2 times with the same payment');
    expect(e.quote).toMatchObject({ amount: 10000n, payTo: PAY_TO, network: 'eip155:84532' });
    const header = decodePayment(expectOneSignature(c, h, { to: PAY_TO, value: 10000n }, { sends: 2 }));
    expect(e.paymentId).toMatch(PAYMENT_ID);
    expect(header.extensions['payment-identifier'].info).toEqual({ required: true, note: 'kept', id: e.paymentId });
    expect(e.details['paymentId']).toBe(e.paymentId);
    expect(c.events.resend).toEqual([
      { type: 'resend', url: h.url('/hang'), host: 'api.hostile.test', reason: 'timeout', sends: 1, paymentId: e.paymentId, authorization: e.authorization },
    ]);
    expect((await c.paidFetch.budget.report())[0]!.status).toBe('unknown');
  });

  for (const version of VERSIONS) {
    it(`${version}: connection reset after the paid request arrived, twice → settlement_unknown (network), ONE sent twice`, async () => {
      route(version, '/reset', (req) => void req.socket.destroy());
      const c = h.client(quick);
      const e = (await c.paidFetch(h.url('/reset')).catch((x: unknown) => x)) as SettlementUnknownError;
      expect(e).toBeInstanceOf(SettlementUnknownError);
      expect(e).toMatchObject({ moneyMoved: 'maybe', reason: 'network', sends: 2 });
      expectOneSignature(c, h, { to: PAY_TO, value: 10000n }, { sends: 2 });
      expect(await usedToday(c)).toBe('0.01');
      if (version === 'v2') expect(e.paymentId).toMatch(PAYMENT_ID);
      else expect(e.paymentId).toBeUndefined();
    });

    it(`${version}: 502 after the paid request, twice → settlement_unknown (server_error), ONE sent twice`, async () => {
      route(version, '/502', (_q, res) => void res.writeHead(502, { 'content-type': 'text/plain' }).end('bad gateway'));
      const c = h.client(quick);
      const e = (await c.paidFetch(h.url('/502')).catch((x: unknown) => x)) as SettlementUnknownError;
      expect(e).toBeInstanceOf(SettlementUnknownError);
      expect(e).toMatchObject({ moneyMoved: 'maybe', reason: 'server_error', sends: 2 });
      expect(e.response?.status).toBe(502);
      expectOneSignature(c, h, { to: PAY_TO, value: 10000n }, { sends: 2 });
    });

    it(`${version}: 5xx_after_settle — settled, then 502; the same nonce again is refused as used → settlement_unknown (refused_after_resend), counted once, ONE`, async () => {
      const settled = new Set<string>();
      route(version, '/settle-then-502', (_q, res, ctx) => {
        const nonce = String(decodePayment(ctx.seen.payment).payload.authorization.nonce);
        if (settled.has(nonce)) return send402(version, res, { ...challenge(version), error: 'invalid_exact_evm_payload_authorization_nonce_used' });
        settled.add(nonce);
        res.writeHead(502, { 'content-type': 'text/plain' }).end('upstream died after settling');
      });
      const c = h.client(quick);
      const e = (await c.paidFetch(h.url('/settle-then-502')).catch((x: unknown) => x)) as SettlementUnknownError;
      // Not a refusal: the first send may have moved the money (here it did).
      expect(e).toBeInstanceOf(SettlementUnknownError);
      expect(e).toMatchObject({ code: 'settlement_unknown', moneyMoved: 'maybe', reason: 'refused_after_resend', sends: 2 });
      expect(e.response?.status).toBe(402);
      expectOneSignature(c, h, { to: PAY_TO, value: 10000n }, { sends: 2 });
      expect(settled.size).toBe(1);
      expect(await usedToday(c)).toBe('0.01');
      expect((await c.paidFetch.budget.report()).map((r) => r.status)).toEqual(['unknown']);
    });
  }

  it('v2: accept_then_timeout — settled, the answer lost; the same payment id again gets the first answer → settled, counted once, ONE', async () => {
    const answered = new Map<string, string>();
    route('v2', '/lost-answer', (req, res, ctx) => {
      const payment = decodePayment(ctx.seen.payment);
      const id = String(payment.extensions['payment-identifier'].info.id);
      const first = answered.get(id);
      if (first !== undefined) {
        // The payment-identifier extension: same id, same payload → the cached answer.
        expect(first).toBe(ctx.seen.payment);
        return sendOk(res, { success: true, transaction: txHash(42), network: 'eip155:84532', payer: payment.payload.authorization.from });
      }
      answered.set(id, ctx.seen.payment!);
      req.socket.destroy();
    });
    const c = h.client(quick);
    const res = await c.paidFetch(h.url('/lost-answer'));
    expect(res.status).toBe(200);
    expect(getPayment(res)).toMatchObject({ status: 'settled', transaction: txHash(42) });
    expectOneSignature(c, h, { to: PAY_TO, value: 10000n }, { sends: 2 });
    expect(c.events.resend.map((r) => r.reason)).toEqual(['network']);
    expect(c.events.payment.map((p) => p.status)).toEqual(['settled']);
    expect(await usedToday(c)).toBe('0.01');
  });

  it('a POST is sent again only when the server advertised payment-identifier (it then answers a repeat with its first answer)', async () => {
    route('v1', '/post-v1', (_q, res) => void res.writeHead(503).end());
    route('v2', '/post-v2-no-id', (_q, res) => void res.writeHead(503).end(), {});
    route('v2', '/post-v2-id', (_q, res) => void res.writeHead(503).end());
    const post = { method: 'POST', body: '{"q":1}', headers: { 'content-type': 'application/json' } };
    const sends = async (path: string) => {
      const before = h.server.paymentHeaders().length;
      const c = h.client(quick);
      const e = (await c.paidFetch(h.url(path), post).catch((x: unknown) => x)) as SettlementUnknownError;
      expect(e).toMatchObject({ code: 'settlement_unknown', reason: 'server_error' });
      expect(e.sends).toBe(h.server.paymentHeaders().length - before);
      expect(c.signer.calls).toBe(1);
      return e.sends;
    };
    expect(await sends('/post-v1')).toBe(1);
    expect(await sends('/post-v2-no-id')).toBe(1);
    expect(await sends('/post-v2-id')).toBe(2);
  });

  it('resend: false → sent once', async () => {
    route('v2', '/down', (_q, res) => void res.writeHead(503).end());
    const once = h.client({ resend: false });
    expect(await once.paidFetch(h.url('/down')).catch((x: unknown) => x)).toMatchObject({ reason: 'server_error', sends: 1 });
    expectOneSignature(once, h, { to: PAY_TO, value: 10000n });
    expect(once.events.resend).toEqual([]);
  });

  it('resend: { times: 3 } → sent four times, always the same header', async () => {
    route('v2', '/down', (_q, res) => void res.writeHead(503).end());
    const four = h.client({ resend: { times: 3, delayMs: 0 } });
    expect(await four.paidFetch(h.url('/down')).catch((x: unknown) => x)).toMatchObject({ reason: 'server_error', sends: 4 });
    expectOneSignature(four, h, { to: PAY_TO, value: 10000n }, { sends: 4 });
    expect(four.events.resend.map((r) => r.sends)).toEqual([1, 2, 3]);
  });

  it('v2: the caller aborts after the paid request left → settlement_unknown (aborted), ONE, never sent again', async () => {
    const controller = new AbortController();
    route('v2', '/abort', () => controller.abort());
    const c = h.client();
    const e = (await c.paidFetch(h.url('/abort'), { signal: controller.signal }).catch((x: unknown) => x)) as SettlementUnknownError;
    expect(e).toBeInstanceOf(SettlementUnknownError);
    expect(e).toMatchObject({ reason: 'aborted', sends: 1 });
    expectOneSignature(c, h, { to: PAY_TO, value: 10000n });
    expect(c.events.resend).toEqual([]);
  });

  it('v2: the caller aborts while the client waits to send again → settlement_unknown (aborted), sent once', async () => {
    const controller = new AbortController();
    route('v2', '/abort-in-pause', (_q, res) => {
      res.writeHead(502).end();
      setTimeout(() => controller.abort(), 50);
    });
    const c = h.client({ resend: { delayMs: 5_000 } });
    const started = performance.now();
    const e = (await c.paidFetch(h.url('/abort-in-pause'), { signal: controller.signal }).catch((x: unknown) => x)) as SettlementUnknownError;
    expect(performance.now() - started).toBeLessThan(2_000);
    expect(e).toMatchObject({ code: 'settlement_unknown', reason: 'aborted', sends: 1 });
    expectOneSignature(c, h, { to: PAY_TO, value: 10000n });
    expect(c.events.resend).toHaveLength(1);
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
      // Reported as no delivery (paid_no_delivery), on the receipt and the event, for a dispute.
      expect(getPayment(res)?.delivery).toBe('empty');
      expect(JSON.parse(JSON.stringify(getPayment(res)))).toMatchObject({ delivery: 'empty' });
      expect(c.events.payment).toMatchObject([{ status: 'unknown', delivery: 'empty' }]);
      expectOneSignature(c, h, { to: PAY_TO, value: 10000n });
      expect(await snapshot(c)).toMatchObject({ report: [{ amount: '10000', status: 'unknown' }] });
    });

    it(`${version}: settled, then an error page (200 text/html where the 402 announced application/json) → ONE, reported unexpected_type, never paid again`, async () => {
      route(version, '/error-page', settledAs('text/html; charset=utf-8', '<html><body>Internal error, please try again</body></html>'));
      const c = h.client();
      const res = await c.paidFetch(h.url('/error-page'));
      expect(res.status).toBe(200);
      expect(await res.text()).toMatch(/Internal error/);
      expect(getPayment(res)).toMatchObject({ status: 'settled', delivery: 'unexpected_type' });
      expect(c.events.payment).toMatchObject([{ status: 'settled', delivery: 'unexpected_type' }]);
      expectOneSignature(c, h, { to: PAY_TO, value: 10000n });
      expect(await snapshot(c)).toMatchObject({ report: [{ amount: '10000', status: 'settled' }] });
    });

    it(`${version}: settled with the announced type (charset added) → no delivery problem reported`, async () => {
      route(version, '/delivered', settledAs('application/json; charset=utf-8', '{"ok":true}'));
      const c = h.client();
      const res = await c.paidFetch(h.url('/delivered'));
      expect(await res.json()).toEqual({ ok: true });
      expect(getPayment(res)?.status).toBe('settled');
      expect(getPayment(res)).not.toHaveProperty('delivery');
      expect(c.events.payment[0]).not.toHaveProperty('delivery');
      expect(JSON.stringify(getPayment(res))).not.toMatch(/delivery/);
    });
  }
});
