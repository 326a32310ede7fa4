/**
 * Resending the same payment (THREATS F2, G4): after an ambiguous answer to the paid request,
 * the very same header is sent again (one authorization, one nonce, one payment id), so that a
 * lost answer does not lose the purchase and a retry can never be a second payment. Wire level,
 * with msw; the hostile suite (F2) and the interop suite (on anvil) cover the same from outside.
 */
import { HttpResponse } from 'msw';
import { describe, expect, it } from 'vitest';
import { getPayment, memoryStore, SettlementUnknownError, wrapFetch, type PaymentEvent, type ResendEvent } from '../../src/index.js';
import { challengeV2, paywall, useMswServer, type SeenRequest } from '../support/msw.js';
import { decodeHeader, paymentRequiredV2, requirementV2, settlementHeader, testAccount } from '../support/challenges.js';
import { countingSigner } from '../support/signers.js';
import { rejectionOf } from '../support/secrets.js';

const server = useMswServer();
const URL_ = 'https://api.example.com/premium-data';
const TX = `0x${'cd'.repeat(32)}`;
const T0 = 1_750_000_000_000;

/** A paywall whose paid answers are `answers` in turn (the last one repeats). */
function paywallAnswering(answers: Array<(seen: SeenRequest) => Response>, extra: Record<string, unknown> = {}) {
  let n = 0;
  const p = paywall({
    url: URL_,
    challenge: () => challengeV2(paymentRequiredV2([requirementV2()], extra)),
    paid: (seen) => answers[Math.min(n++, answers.length - 1)]!(seen),
  });
  server.use(p.handler);
  return p;
}

const settled = () =>
  HttpResponse.json({ report: 'sunny' }, { headers: { 'PAYMENT-RESPONSE': settlementHeader({ success: true, transaction: TX, network: 'eip155:84532', payer: testAccount.address }) } });
const networkError = () => HttpResponse.error();
const unavailable = () => HttpResponse.text('try later', { status: 503 });

function client(options: Parameters<typeof wrapFetch>[2] = {}, clock: { now: number } = { now: T0 }) {
  const signer = countingSigner();
  const events: { payment: PaymentEvent[]; resend: ResendEvent[] } = { payment: [], resend: [] };
  const paidFetch = wrapFetch(fetch, signer, {
    clock: () => clock.now,
    store: memoryStore({ clock: () => clock.now }),
    resend: { delayMs: 0 },
    on: { payment: (e) => events.payment.push(e), resend: (e) => events.resend.push(e) },
    ...options,
  });
  return { paidFetch, signer, events };
}

const headers = (p: ReturnType<typeof paywallAnswering>) => p.paid().map((s) => s.headers['payment-signature']);

describe('an ambiguous answer is met by sending the same payment again', () => {
  for (const [label, first] of [
    ['a network error', networkError],
    ['a 503 without a receipt', unavailable],
  ] as const) {
    it(`${label}, then a settled 200 → the 200, settled, counted once; one signature sent twice as the same bytes`, async () => {
      const p = paywallAnswering([first, settled]);
      const { paidFetch, signer, events } = client();
      const response = await paidFetch(URL_);
      expect(response.status).toBe(200);
      expect(await response.json()).toEqual({ report: 'sunny' });
      expect(getPayment(response)).toMatchObject({ status: 'settled', transaction: TX });
      expect(signer.calls).toBe(1);
      expect(headers(p)).toHaveLength(2);
      expect(headers(p)[1]).toBe(headers(p)[0]);
      const report = await paidFetch.budget.report();
      expect(report.map((r) => [r.status, r.amount, r.transaction])).toEqual([['settled', '10000', TX]]);
      // The event tells what happened without the header or the signature.
      const sent = decodeHeader(headers(p)[0]!);
      expect(events.resend).toHaveLength(1);
      expect(events.resend[0]).toMatchObject({ type: 'resend', url: URL_, host: 'api.example.com', sends: 1 });
      expect(events.resend[0]).not.toHaveProperty('paymentId'); // this server did not advertise the extension
      expect(events.resend[0]!.reason).toBe(first === networkError ? 'network' : 'server_error');
      expect(events.resend[0]!.authorization.nonce).toBe(sent.payload.authorization.nonce);
      expect(JSON.stringify(events.resend, (_k, v: unknown) => (typeof v === 'bigint' ? String(v) : v))).not.toContain(sent.payload.signature.slice(2, 40));
      expect(events.payment.map((e) => e.status)).toEqual(['settled']);
    });
  }

  it('a 402 to the resend is not a refusal: the first send may have been settled → settlement_unknown (refused_after_resend), still counted', async () => {
    const p = paywallAnswering([unavailable, () => challengeV2(paymentRequiredV2([requirementV2()], { error: 'nonce already used' }))]);
    const { paidFetch, signer } = client();
    const error = await rejectionOf(paidFetch(URL_));
    expect(error).toBeInstanceOf(SettlementUnknownError);
    expect(error).toMatchObject({ code: 'settlement_unknown', moneyMoved: 'maybe', reason: 'refused_after_resend', sends: 2 });
    expect(error.response.status).toBe(402);
    expect(error.message).toMatch(/refused; the first send may have been settled, sent 2 times with the same payment/);
    expect(signer.calls).toBe(1);
    expect(headers(p)).toHaveLength(2);
    expect((await paidFetch.budget.report()).map((r) => r.status)).toEqual(['unknown']);
  });

  it('not sent again when the authorization has less than 10 s to live: the server could not settle it in time', async () => {
    const clock = { now: T0 };
    // validBefore = T0 + 60 s (maxTimeoutSeconds); the first answer takes 51 s.
    const p = paywallAnswering([
      () => {
        clock.now = T0 + 51_000;
        return unavailable();
      },
    ]);
    const { paidFetch } = client({}, clock);
    expect(await rejectionOf(paidFetch(URL_))).toMatchObject({ reason: 'server_error', sends: 1 });
    expect(headers(p)).toHaveLength(1);

    // With 10 s left it still is.
    const q = paywallAnswering([
      () => {
        clock.now = T0 + 100_000 + 50_000;
        return unavailable();
      },
      settled,
    ]);
    clock.now = T0 + 100_000;
    const response = await client({}, clock).paidFetch(URL_);
    expect(getPayment(response)?.status).toBe('settled');
    expect(headers(q)).toHaveLength(2);
  });

  it('a POST without payment-identifier is never sent twice; a PUT is, and keeps its body', async () => {
    const p = paywallAnswering([unavailable], {});
    const { paidFetch } = client();
    expect(await rejectionOf(paidFetch(URL_, { method: 'POST', body: 'order=1' }))).toMatchObject({ reason: 'server_error', sends: 1 });
    expect(headers(p)).toHaveLength(1);

    const q = paywallAnswering([unavailable, settled], {});
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(new TextEncoder().encode('{"name":"file.txt"}'));
        controller.close();
      },
    });
    const response = await client().paidFetch(URL_, { method: 'PUT', body, duplex: 'half' } as RequestInit);
    expect(response.status).toBe(200);
    expect(q.paid().map((s) => [s.method, s.text])).toEqual([
      ['PUT', '{"name":"file.txt"}'],
      ['PUT', '{"name":"file.txt"}'],
    ]);
  });

  it('a POST is sent again when the server advertised payment-identifier: the same id both times', async () => {
    const p = paywallAnswering([networkError, settled], { extensions: { 'payment-identifier': { info: { required: false }, schema: {} } } });
    const response = await client().paidFetch(URL_, { method: 'POST', body: 'order=1' });
    expect(getPayment(response)?.status).toBe('settled');
    const [a, b] = p.paid().map((s) => decodeHeader(s.headers['payment-signature']!)) as [ReturnType<typeof decodeHeader>, ReturnType<typeof decodeHeader>];
    expect(a.extensions['payment-identifier'].info.id).toMatch(/^pay_[0-9a-f]{32}$/);
    expect(b).toEqual(a);
    expect(getPayment(response)?.paymentId).toBe(a.extensions['payment-identifier'].info.id);
  });
});

describe('resending a prepayment', () => {
  it('prepaid, then 502, then 402 → settlement_unknown; never a second payment in that call, and the terms are forgotten', async () => {
    let mode: 'ok' | 'flaky' = 'ok';
    let flakySends = 0;
    const p = paywall({
      url: URL_,
      challenge: () => challengeV2(paymentRequiredV2()),
      paid: () => {
        if (mode === 'ok') return settled();
        return flakySends++ === 0 ? HttpResponse.text('bad gateway', { status: 502 }) : challengeV2(paymentRequiredV2([requirementV2()], { error: 'nonce used' }));
      },
    });
    server.use(p.handler);
    const { paidFetch, signer } = client({ prepay: true });
    await paidFetch(URL_); // pays the usual way; remembers the terms
    expect(p.seen).toHaveLength(2);
    mode = 'flaky';
    const error = await rejectionOf(paidFetch(URL_));
    expect(error).toMatchObject({ code: 'settlement_unknown', reason: 'refused_after_resend', sends: 2 });
    expect(signer.calls).toBe(2);
    // Prepaid: no unpaid request in that call, two sends of one header.
    expect(p.seen.slice(2).map((s) => s.paid)).toEqual([true, true]);
    expect(p.seen[3]!.headers['payment-signature']).toBe(p.seen[2]!.headers['payment-signature']);
    // The next call starts unpaid again.
    mode = 'ok';
    await paidFetch(URL_);
    expect(p.seen.slice(4).map((s) => s.paid)).toEqual([false, true]);
  });
});
