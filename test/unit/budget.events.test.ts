import { HttpResponse } from 'msw';
import { describe, expect, it } from 'vitest';
import type { DeniedEvent, ErrorEvent, EventListeners, PaymentEvent } from '../../src/index.js';
import { useMswServer, challengeV2, paywall } from '../support/msw.js';
import { BASE_SEPOLIA_USDC, PAY_TO, paymentRequiredV2, settlementHeader, TEST_KEY, testAccount } from '../support/challenges.js';
import { outcome, payer, sentPayment, serve, usdc } from '../support/paying.js';

const server = useMswServer();
const URL_ = 'https://api.example.com/data';
const TX = `0x${'ab'.repeat(32)}`;

const json = (value: unknown) => JSON.stringify(value, (_k, v) => (typeof v === 'bigint' ? v.toString() : v));

/** Records every event. */
function recorder() {
  const events: (PaymentEvent | DeniedEvent | ErrorEvent)[] = [];
  const on: EventListeners = { payment: (e) => events.push(e), denied: (e) => events.push(e), error: (e) => events.push(e) };
  return { events, on };
}

/** Every secret of a sent payment: the header itself, the signature, the key. (The nonce is not one: without the signature it settles nothing.) */
function secretsOf(header: string, payment: Record<string, any>): string[] {
  return [header, payment.payload.signature, payment.payload.signature.slice(2), TEST_KEY, TEST_KEY.slice(2)].map((s: string) => s.toLowerCase());
}

/** Where the sent payment can be looked up on chain, as events report it. */
function authorizationOf(payment: Record<string, any>) {
  const a = payment.payload.authorization;
  return { network: 'eip155:84532', token: BASE_SEPOLIA_USDC, from: a.from, nonce: a.nonce, validBefore: BigInt(a.validBefore) };
}

describe('payment events', () => {
  it('carry what was paid and where to look it up on chain, and no payment header, signature or key', async () => {
    const p = paywall({
      url: URL_,
      challenge: () => challengeV2(paymentRequiredV2([usdc(10_000)])),
      paid: () => HttpResponse.json({}, { headers: { 'PAYMENT-RESPONSE': settlementHeader({ success: true, transaction: TX, network: 'eip155:84532', payer: testAccount.address }) } }),
    });
    server.use(p.handler);
    const { events, on } = recorder();
    const { paidFetch } = payer({ on }, undefined, testAccount);
    expect(await outcome(paidFetch, URL_)).toBe('HTTP 200');
    expect(events).toEqual([
      {
        type: 'payment',
        url: URL_,
        host: 'api.example.com',
        payTo: PAY_TO,
        amount: 10_000n,
        asset: BASE_SEPOLIA_USDC,
        network: 'eip155:84532',
        status: 'settled',
        transaction: TX,
        authorization: authorizationOf(sentPayment(p)),
      },
    ]);
    const header = p.paid()[0]!.headers['payment-signature']!;
    const text = json(events).toLowerCase();
    for (const secret of secretsOf(header, sentPayment(p))) expect(text.includes(secret), `event leaks ${secret.slice(0, 20)}…`).toBe(false);
  });

  it('an unknown outcome is reported as such, still without secrets', async () => {
    const p = paywall({ url: URL_, challenge: () => challengeV2(paymentRequiredV2([usdc(10_000)])), paid: () => HttpResponse.error() });
    server.use(p.handler);
    const { events, on } = recorder();
    const { paidFetch } = payer({ on }, undefined, testAccount);
    expect(await outcome(paidFetch, URL_)).toBe('settlement_unknown');
    expect(events).toEqual([expect.objectContaining({ type: 'payment', status: 'unknown', authorization: authorizationOf(sentPayment(p)) })]);
    expect(events[0]).not.toHaveProperty('transaction');
    const text = json(events).toLowerCase();
    for (const secret of secretsOf(p.paid()[0]!.headers['payment-signature']!, sentPayment(p))) expect(text.includes(secret)).toBe(false);
  });
});

describe('denied events', () => {
  it('a budget refusal emits denied with the code and message, nothing else', async () => {
    serve(server, URL_, [usdc(200_000)]);
    const { events, on } = recorder();
    const { paidFetch } = payer({ on });
    expect(await outcome(paidFetch, URL_)).toBe('budget_exceeded');
    expect(events).toEqual([{ type: 'denied', url: URL_, host: 'api.example.com', code: 'budget_exceeded', message: expect.stringContaining('0.2 USD') }]);
  });

  it('an allow-list refusal and an approval refusal emit denied; no header or signature was made', async () => {
    serve(server, URL_, [usdc(10_000)]);
    const lists = recorder();
    expect(await outcome(payer({ on: lists.on, budget: { hosts: { deny: ['api.example.com'] } } }).paidFetch, URL_)).toBe('no_acceptable_option');
    expect(lists.events.map((e) => [e.type, (e as DeniedEvent).code])).toEqual([['denied', 'no_acceptable_option']]);
    const approval = recorder();
    const { paidFetch, signer } = payer({ on: approval.on, budget: { approve: () => false } });
    expect(await outcome(paidFetch, URL_)).toBe('approval_denied');
    expect(approval.events.map((e) => [e.type, (e as DeniedEvent).code])).toEqual([['denied', 'approval_denied']]);
    expect(signer.calls).toBe(0);
    expect(json(approval.events)).not.toMatch(/signature|0x[0-9a-f]{130}/i);
  });

  it('a server refusing a sent payment is not "denied": it is a payment (money may have moved)', async () => {
    const p = paywall({ url: URL_, challenge: () => challengeV2(paymentRequiredV2([usdc(10_000)])), paid: () => challengeV2(paymentRequiredV2([usdc(10_000)])) });
    server.use(p.handler);
    const { events, on } = recorder();
    expect(await outcome(payer({ on }).paidFetch, URL_)).toBe('payment_rejected');
    expect(events.map((e) => e.type)).toEqual(['payment']);
  });
});

describe('listeners cannot change what the client does', () => {
  const throwing: EventListeners = {
    payment: () => {
      throw new Error('listener bug');
    },
    denied: () => {
      throw new Error('listener bug');
    },
    error: () => {
      throw new Error('listener bug');
    },
  };

  it('a throwing payment listener: same answer, same ledger', async () => {
    const p = serve(server, URL_, [usdc(10_000)]);
    const quiet = payer();
    const loud = payer({ on: throwing });
    expect(await outcome(quiet.paidFetch, URL_)).toBe('HTTP 200');
    expect(await outcome(loud.paidFetch, URL_)).toBe('HTTP 200');
    expect(p.paid()).toHaveLength(2);
    // Ids and nonces are random; everything else must match.
    const strip = (rs: { id: string; authorization?: object }[]) => rs.map(({ id: _id, authorization: _a, ...r }) => r);
    expect(strip(await loud.store.report())).toEqual(strip(await quiet.store.report()));
    expect(await loud.paidFetch.budget.remaining()).toEqual(await quiet.paidFetch.budget.remaining());
  });

  it('a throwing denied listener: the same error is thrown', async () => {
    serve(server, URL_, [usdc(200_000)]);
    expect(await outcome(payer({ on: throwing }).paidFetch, URL_)).toBe('budget_exceeded');
  });

  it('a throwing error listener while the store fails: the paid answer still arrives', async () => {
    serve(server, URL_, [usdc(10_000)]);
    const { paidFetch, store } = payer({ on: throwing });
    // The write-ahead goes through; recording the outcome fails.
    const settle = store.settle.bind(store);
    let settles = 0;
    store.settle = (...args) => (++settles === 1 ? settle(...args) : Promise.reject(new Error('disk full')));
    expect(await outcome(paidFetch, URL_)).toBe('HTTP 200');
    expect(settles).toBe(2);
  });

  it('an async listener that rejects is harmless too', async () => {
    serve(server, URL_, [usdc(10_000)]);
    const { paidFetch } = payer({ on: { payment: (async () => Promise.reject(new Error('async bug'))) as unknown as EventListeners['payment'] } });
    expect(await outcome(paidFetch, URL_)).toBe('HTTP 200');
  });
});
