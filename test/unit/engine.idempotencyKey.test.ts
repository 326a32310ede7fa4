/**
 * One logical request, one payment, however many calls (THREATS F1: "a second call with the
 * same request id → no new nonce"). A call carrying an `Idempotency-Key` header whose earlier
 * call sent a payment gets that payment sent again (the same header, nothing signed), or a
 * `DuplicateRequestError` saying why not; never a second signature. Wire level, with msw.
 */
import { HttpResponse } from 'msw';
import { describe, expect, it } from 'vitest';
import {
  DuplicateRequestError,
  getPayment,
  memoryStore,
  PaymentRejectedError,
  SettlementUnknownError,
  wrapFetch,
  type AuthorizationChecker,
  type AuthorizationCheck,
  type DeniedEvent,
} from '../../src/index.js';
import { challengeV2, foreignRealmFetch, paywall, useMswServer, type SeenRequest } from '../support/msw.js';
import { decodeHeader, paymentRequiredV2, requirementV2, settlementHeader, testAccount } from '../support/challenges.js';
import { countingSigner } from '../support/signers.js';
import { rejectionOf } from '../support/secrets.js';

const server = useMswServer();
const URL_ = 'https://api.example.com/report';
const OTHER = 'https://api.example.com/other';
const T0 = 1_750_000_000_000;
const KEY = { 'Idempotency-Key': 'order-42' };
const WITH_ID = { extensions: { 'payment-identifier': { info: { required: false }, schema: {} } } };

type Answer = (seen: SeenRequest) => Response | Promise<Response>;

const settled: Answer = (seen) =>
  HttpResponse.json(
    { report: 'sunny' },
    {
      headers: {
        'PAYMENT-RESPONSE': settlementHeader({
          success: true,
          transaction: `0x${decodeHeader(seen.headers['payment-signature']!).payload.authorization.nonce.slice(2)}`,
          network: 'eip155:84532',
          payer: testAccount.address,
        }),
      },
    },
  );
const unavailable: Answer = () => HttpResponse.text('try later', { status: 503 });

/** A paywall at `url` whose paid answer is `answer.next` (changeable between calls). */
function place(url: string, answer: { next: Answer }, extra: Record<string, unknown> = {}, amount = '10000') {
  const p = paywall({ url, challenge: () => challengeV2(paymentRequiredV2([requirementV2({ amount })], extra)), paid: (seen) => answer.next(seen) });
  server.use(p.handler);
  return p;
}

function client(options: Parameters<typeof wrapFetch>[2] = {}, clock: { now: number } = { now: T0 }, fetchImpl: typeof fetch = fetch) {
  const signer = countingSigner();
  const denied: DeniedEvent[] = [];
  const paidFetch = wrapFetch(fetchImpl, signer, {
    clock: () => clock.now,
    store: memoryStore({ clock: () => clock.now }),
    resend: false,
    on: { denied: (e) => denied.push(e) },
    ...options,
  });
  const used = async () => (await paidFetch.budget.remaining()).find((l) => l.scope === 'global' && l.limit === 'daily')!.used;
  return { paidFetch, signer, denied, used, clock };
}

const headersOf = (p: { paid(): SeenRequest[] }) => p.paid().map((s) => s.headers['payment-signature']);

/** A checker answering `state` for every authorization. */
function checker(state: AuthorizationCheck['state']): AuthorizationChecker & { asked: number } {
  const c = {
    asked: 0,
    async check(a: Parameters<AuthorizationChecker['check']>[0]) {
      c.asked++;
      return { state, blockNumber: 1n, blockTimestamp: 1n, validBefore: a.validBefore };
    },
  };
  return c;
}

describe('a second call with the same Idempotency-Key', () => {
  for (const [via, fetchImpl] of [
    ['', undefined], // the global fetch, as msw patched it
    // payAgain's answer is told apart from "pay anew" without `instanceof Response`.
    [", through a fetch answering another realm's Response (the undici package's)", foreignRealmFetch],
  ] as const) {
    it(`after an unknown outcome${via}: sends the same payment again (no signature), and it settles; counted once`, async () => {
      const answer = { next: unavailable };
      const p = place(URL_, answer);
      const { paidFetch, signer, used } = client({}, { now: T0 }, fetchImpl);
      const first = await rejectionOf(paidFetch(URL_, { headers: KEY }));
      expect(first).toBeInstanceOf(SettlementUnknownError);
      answer.next = settled;
      const response = await paidFetch(URL_, { headers: KEY });
      expect(response.status).toBe(200);
      expect(getPayment(response)).toMatchObject({ status: 'settled' });
      expect(signer.calls).toBe(1);
      expect(headersOf(p)).toHaveLength(2);
      expect(headersOf(p)[1]).toBe(headersOf(p)[0]);
      // Every request still carries the caller's header: it is the server's as well.
      expect(p.seen.every((s) => s.headers['idempotency-key'] === 'order-42')).toBe(true);
      expect((await paidFetch.budget.report()).map((r) => r.status)).toEqual(['settled']);
      expect(await used()).toBe('0.01');
    });
  }

  it('after a refusal (402 to the payment): sends it again; a second 402 is settlement_unknown, never a second payment', async () => {
    const refuse: Answer = () => challengeV2(paymentRequiredV2([requirementV2()], { error: 'facilitator busy' }));
    const p = place(URL_, { next: refuse });
    const { paidFetch, signer } = client();
    expect(await rejectionOf(paidFetch(URL_, { headers: KEY }))).toBeInstanceOf(PaymentRejectedError);
    const again = await rejectionOf(paidFetch(URL_, { headers: KEY }));
    expect(again).toMatchObject({ code: 'settlement_unknown', reason: 'refused_after_resend' });
    expect(signer.calls).toBe(1);
    expect(new Set(headersOf(p)).size).toBe(1);
  });

  it('after a delivered answer: DuplicateRequestError (paid); nothing signed or sent; a new key buys again', async () => {
    const p = place(URL_, { next: settled });
    const { paidFetch, signer, denied, used } = client();
    await paidFetch(URL_, { headers: KEY });
    const error = await rejectionOf(paidFetch(URL_, { headers: KEY }));
    expect(error).toBeInstanceOf(DuplicateRequestError);
    expect(error).toMatchObject({ code: 'duplicate_request', state: 'paid', moneyMoved: 'no', key: 'order-42' });
    expect(error.authorization.nonce).toBe(decodeHeader(headersOf(p)[0]!).payload.authorization.nonce);
    expect(error.message).toContain('an earlier call with this key was paid');
    expect(error.message).toContain('use a new Idempotency-Key');
    expect(denied.map((e) => e.code)).toEqual(['duplicate_request']);
    expect(signer.calls).toBe(1);
    expect(headersOf(p)).toHaveLength(1);
    await paidFetch(URL_, { headers: { 'Idempotency-Key': 'order-43' } });
    expect(signer.calls).toBe(2);
    expect(await used()).toBe('0.02');
  });

  it('while the first call is still paying: DuplicateRequestError (in_flight); the first one then completes', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const p = place(URL_, {
      next: async (seen) => {
        await gate;
        return settled(seen);
      },
    });
    const { paidFetch, signer } = client();
    const first = paidFetch(URL_, { headers: KEY });
    await expect.poll(() => p.paid().length).toBe(1);
    const second = await rejectionOf(paidFetch(URL_, { headers: KEY }));
    expect(second).toMatchObject({ code: 'duplicate_request', state: 'in_flight' });
    release();
    expect((await first).status).toBe(200);
    expect(signer.calls).toBe(1);
  });

  it('for another place, or when the server now asks other terms: DuplicateRequestError (conflict), nothing sent', async () => {
    const answer = { next: unavailable };
    const p = place(URL_, answer);
    place(OTHER, { next: settled });
    const { paidFetch, signer } = client();
    await rejectionOf(paidFetch(URL_, { headers: KEY }));
    const elsewhere = await rejectionOf(paidFetch(OTHER, { headers: KEY }));
    expect(elsewhere).toMatchObject({ code: 'duplicate_request', state: 'conflict' });
    expect(elsewhere.message).toContain(`it was for GET ${URL_}`);
    const posted = await rejectionOf(paidFetch(URL_, { method: 'POST', headers: KEY }));
    expect(posted).toMatchObject({ state: 'conflict' });

    place(URL_, answer, {}, '20000'); // the price doubled
    const dearer = await rejectionOf(paidFetch(URL_, { headers: KEY }));
    expect(dearer).toMatchObject({ state: 'conflict' });
    expect(dearer.message).toContain('the server now asks for other terms');
    expect(signer.calls).toBe(1);
    expect(headersOf(p)).toHaveLength(1);
  });

  it('with another body: DuplicateRequestError (conflict), nothing sent; the same body in another form is the same request', async () => {
    const answer = { next: unavailable };
    const p = place(URL_, answer);
    const { paidFetch, signer } = client();
    const post = (body: BodyInit) => paidFetch(URL_, { method: 'POST', headers: { ...KEY, 'content-type': 'application/json' }, body });
    await rejectionOf(post('{"amount":1}'));
    const other = await rejectionOf(post('{"amount":2}'));
    expect(other).toMatchObject({ code: 'duplicate_request', state: 'conflict' });
    expect(other.message).toContain('it was sent with another body');
    expect(await rejectionOf(paidFetch(URL_, { method: 'POST', headers: KEY }))).toMatchObject({ state: 'conflict' }); // no body at all
    expect(headersOf(p)).toHaveLength(1);
    // The same bytes as a Blob: the earlier payment is sent again, nothing signed.
    answer.next = settled;
    expect((await post(new Blob(['{"amount":1}']))).status).toBe(200);
    expect(signer.calls).toBe(1);
    expect(headersOf(p)).toHaveLength(2);
    expect(headersOf(p)[1]).toBe(headersOf(p)[0]);
  });

  it('FormData bodies are compared by their entries (their encoding has a random boundary)', async () => {
    const answer = { next: unavailable };
    const p = place(URL_, answer);
    const { paidFetch, signer } = client();
    const form = (note: string) => {
      const f = new FormData();
      f.append('note', note);
      f.append('file', new Blob(['hello'], { type: 'text/plain' }), 'a.txt');
      return f;
    };
    await rejectionOf(paidFetch(URL_, { method: 'POST', headers: KEY, body: form('x') }));
    expect(await rejectionOf(paidFetch(URL_, { method: 'POST', headers: KEY, body: form('y') }))).toMatchObject({ state: 'conflict' });
    answer.next = settled;
    expect((await paidFetch(URL_, { method: 'POST', headers: KEY, body: form('x') })).status).toBe(200);
    expect(signer.calls).toBe(1);
    expect(headersOf(p)).toHaveLength(2);
  });

  it('after expiry, without the reconcile option: DuplicateRequestError (in_doubt); also 10 s before', async () => {
    place(URL_, { next: unavailable });
    const { paidFetch, signer, clock } = client();
    const first = (await rejectionOf(paidFetch(URL_, { headers: KEY }))) as SettlementUnknownError;
    clock.now = Number(first.validBefore) * 1000 - 9_000;
    expect(await rejectionOf(paidFetch(URL_, { headers: KEY }))).toMatchObject({ state: 'in_doubt' });
    clock.now = Number(first.validBefore) * 1000 + 1_000;
    const late = await rejectionOf(paidFetch(URL_, { headers: KEY }));
    expect(late).toMatchObject({ code: 'duplicate_request', state: 'in_doubt', paymentId: undefined });
    expect(late.authorization).toEqual(first.authorization);
    expect(late.message).toContain('checkAuthorization(publicClient, error.authorization)');
    expect(signer.calls).toBe(1);
  });

  it('after expiry, with the reconcile option: found unused → given back and paid anew; found used → paid', async () => {
    const answer = { next: unavailable };
    place(URL_, answer);
    const expired = checker('expired');
    const a = client({ reconcile: expired });
    const first = (await rejectionOf(a.paidFetch(URL_, { headers: KEY }))) as SettlementUnknownError;
    // Not expired yet (5 s left, too late to send again): the chain is not even asked.
    a.clock.now = Number(first.validBefore) * 1000 - 5_000;
    expect(await rejectionOf(a.paidFetch(URL_, { headers: KEY }))).toMatchObject({ state: 'in_doubt' });
    expect(expired.asked).toBe(0);
    a.clock.now = Number(first.validBefore) * 1000;
    answer.next = settled;
    const response = await a.paidFetch(URL_, { headers: KEY });
    expect(getPayment(response)?.status).toBe('settled');
    expect(expired.asked).toBe(1);
    expect(a.signer.calls).toBe(2);
    expect(await a.used()).toBe('0.01'); // the dead one was given back
    expect((await a.paidFetch.budget.report()).map((r) => r.status).sort()).toEqual(['released', 'settled']);

    answer.next = unavailable;
    const used = checker('used');
    const b = client({ reconcile: used });
    const earlier = (await rejectionOf(b.paidFetch(URL_, { headers: KEY }))) as SettlementUnknownError;
    b.clock.now = Number(earlier.validBefore) * 1000 + 5_000;
    expect(await rejectionOf(b.paidFetch(URL_, { headers: KEY }))).toMatchObject({ state: 'paid' });
    expect(b.signer.calls).toBe(1);
    expect((await b.paidFetch.budget.report()).map((r) => r.status)).toEqual(['settled']);
    expect(await b.used()).toBe('0.01');
  });

  it('while one call asks the chain about an expired payment, another call with the key is in_flight: one new signature, not two', async () => {
    const answer = { next: unavailable };
    place(URL_, answer);
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const slow: AuthorizationChecker = {
      async check(a) {
        await gate;
        return { state: 'expired', blockNumber: 1n, blockTimestamp: 1n, validBefore: a.validBefore };
      },
    };
    const { paidFetch, signer, clock } = client({ reconcile: slow });
    const first = (await rejectionOf(paidFetch(URL_, { headers: KEY }))) as SettlementUnknownError;
    clock.now = Number(first.validBefore) * 1000;
    answer.next = settled;
    const asking = paidFetch(URL_, { headers: KEY });
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(await rejectionOf(paidFetch(URL_, { headers: KEY }))).toMatchObject({ code: 'duplicate_request', state: 'in_flight' });
    release();
    expect((await asking).status).toBe(200);
    expect(signer.calls).toBe(2);
  });

  it('a call that paid nothing (refused by the budget) leaves the key free', async () => {
    place(URL_, { next: settled }, {}, '200000'); // 0.20 USD, over the 0.10 default cap
    place(OTHER, { next: settled });
    const { paidFetch, signer } = client();
    expect(await rejectionOf(paidFetch(URL_, { headers: KEY }))).toMatchObject({ code: 'budget_exceeded' });
    expect((await paidFetch(OTHER, { headers: KEY })).status).toBe(200);
    expect(signer.calls).toBe(1);
  });

  it('keys are per origin: the same key on another API is another request', async () => {
    place(URL_, { next: settled });
    place('https://other.example.com/report', { next: settled });
    const { paidFetch, signer } = client();
    await paidFetch(URL_, { headers: KEY });
    expect((await paidFetch('https://other.example.com/report', { headers: KEY })).status).toBe(200);
    expect(signer.calls).toBe(2);
  });
});

describe('a second call with the same Idempotency-Key from another wrapped fetch sharing the store (another process, a restart)', () => {
  /** Two wrapped fetches over one store and one clock: what two processes sharing a ledger see. */
  function pair(options: Parameters<typeof wrapFetch>[2] = {}) {
    const clock = { now: T0 };
    const store = memoryStore({ clock: () => clock.now });
    return { a: client({ store, ...options }, clock), b: client({ store, ...options }, clock), store, clock };
  }

  it('after a delivered answer: DuplicateRequestError (claimed); nothing signed or sent, the ledger unchanged; a new key buys again', async () => {
    const p = place(URL_, { next: settled });
    const { a, b, store } = pair();
    const paid = await a.paidFetch(URL_, { headers: KEY });
    expect(paid.status).toBe(200);
    const before = await store.report();
    // The paying reservation's id ends with the claim's digest (how the holder of a claim is found).
    expect(before.map((r) => r.id)).toEqual([expect.stringMatching(/^pay_[0-9a-f]{24}_[0-9a-f]{32}$/)]);
    const error = await rejectionOf(b.paidFetch(URL_, { headers: KEY }));
    expect(error).toBeInstanceOf(DuplicateRequestError);
    expect(error).toMatchObject({ code: 'duplicate_request', state: 'claimed', moneyMoved: 'no', key: 'order-42' });
    // It names the earlier payment's authorization (from the store's report), to look up on chain.
    expect((error as DuplicateRequestError).authorization).toEqual(getPayment(paid)!.authorization);
    expect(error.message).toContain(`nonce: ${getPayment(paid)!.authorization.nonce}`);
    expect(error.message).toContain('the spend store holds a payment made with this key in the last 24 hours');
    expect((error as DuplicateRequestError).hint).toContain('spend report');
    expect(b.signer.calls).toBe(0);
    expect(headersOf(p)).toHaveLength(1);
    expect(await store.report()).toEqual(before);
    expect(await b.used()).toBe('0.01');
    expect(b.denied).toEqual([{ type: 'denied', url: URL_, host: 'api.example.com', code: 'duplicate_request', message: (error as DuplicateRequestError).shortMessage }]);
    // The key is free again in b's own record: the next call with it is refused the same way, not in_flight.
    expect(await rejectionOf(b.paidFetch(URL_, { headers: KEY }))).toMatchObject({ state: 'claimed' });
    expect((await b.paidFetch(URL_, { headers: { 'Idempotency-Key': 'order-43' } })).status).toBe(200);
    expect(b.signer.calls).toBe(1);
    expect(await b.used()).toBe('0.02');    // Found by its claim, not by being the newest record: after other payments it is still the one named.
    place(OTHER, { next: settled });
    await a.paidFetch(OTHER);
    await a.paidFetch(OTHER, { headers: { 'Idempotency-Key': 'order-44' } });
    const later = await rejectionOf(b.paidFetch(URL_, { headers: KEY }));
    expect((later as DuplicateRequestError).authorization).toEqual(getPayment(paid)!.authorization);
    expect(a.signer.calls).toBe(3);
  });

  it('after an unknown outcome: the other fetch cannot send it again, and is refused (claimed); the one that signed it still can', async () => {
    const answer = { next: unavailable };
    const p = place(URL_, answer);
    const { a, b } = pair();
    expect(await rejectionOf(a.paidFetch(URL_, { headers: KEY }))).toBeInstanceOf(SettlementUnknownError);
    expect(await rejectionOf(b.paidFetch(URL_, { headers: KEY }))).toMatchObject({ state: 'claimed' });
    expect(b.signer.calls).toBe(0);
    answer.next = settled;
    expect((await a.paidFetch(URL_, { headers: KEY })).status).toBe(200);
    expect(a.signer.calls).toBe(1);
    expect(new Set(headersOf(p)).size).toBe(1);
    expect(await a.used()).toBe('0.01');
  });

  it('the holder is searched in the report of the claim\'s day, bucket and clock grace; a report that fails leaves the refusal without an authorization', async () => {
    place(URL_, { next: settled });
    const { a, store, clock } = pair();
    await a.paidFetch(URL_, { headers: KEY });
    clock.now = T0 + 3_600_000;
    const asked: unknown[] = [];
    const spying = { ...store, report: (query?: { since?: number; limit?: number }) => (asked.push(query), store.report(query)) };
    const b = client({ store: spying }, clock);
    expect(await rejectionOf(b.paidFetch(URL_, { headers: KEY }))).toMatchObject({ state: 'claimed', authorization: expect.objectContaining({ network: 'eip155:84532' }) });
    expect(asked).toEqual([{ since: clock.now - (86_400 + 300 + 7_200) * 1000 }]);
    const blind = { ...store, report: () => Promise.reject(new Error('report unavailable')) };
    const c = client({ store: blind }, clock);
    expect(await rejectionOf(c.paidFetch(URL_, { headers: KEY }))).toMatchObject({ code: 'duplicate_request', state: 'claimed', authorization: undefined });
    expect(c.signer.calls + b.signer.calls).toBe(0);
  });

  it('a payment that was never sent gives the key back with the amount: the other fetch pays', async () => {
    place(URL_, { next: settled });
    const clock = { now: T0 };
    const store = memoryStore({ clock: () => clock.now });
    const broken = { address: testAccount.address, signTypedData: async () => Promise.reject(new Error('device unplugged')) };
    const a = wrapFetch(fetch, broken, { clock: () => clock.now, store });
    expect(await rejectionOf(a(URL_, { headers: KEY }))).toMatchObject({ code: 'wallet_error', moneyMoved: 'no' });
    expect((await store.report()).map((r) => r.status)).toEqual(['released']);
    const b = client({ store }, clock);
    expect((await b.paidFetch(URL_, { headers: KEY })).status).toBe(200);
    expect(b.signer.calls).toBe(1);
    expect(await b.used()).toBe('0.01');
  });

  it('the claim lasts a rolling day: refused just before 24 h (and one bucket), paid anew after', async () => {
    const p = place(URL_, { next: settled });
    const { a, b, clock } = pair();
    await a.paidFetch(URL_, { headers: KEY });
    clock.now = T0 + 86_400_000 - 60_000;
    expect(await rejectionOf(b.paidFetch(URL_, { headers: KEY }))).toMatchObject({ state: 'claimed' });
    clock.now = T0 + 86_400_000 + 300_000 + 1_000;
    expect((await b.paidFetch(URL_, { headers: KEY })).status).toBe(200);
    expect(headersOf(p)).toHaveLength(2);
  });

  it('a used key is the refusal, whatever the limits; a keyed payment over a limit names that limit', async () => {
    place(URL_, { next: settled });
    const { a, b } = pair({ budget: { perRequest: '0.10', hourly: '1.00', daily: '0.015' } });
    await a.paidFetch(URL_, { headers: KEY });
    // The daily limit would refuse it too: the key is what is reported.
    expect(await rejectionOf(b.paidFetch(URL_, { headers: KEY }))).toMatchObject({ code: 'duplicate_request', state: 'claimed' });
    const over = await rejectionOf(b.paidFetch(URL_, { headers: { 'Idempotency-Key': 'order-43' } }));
    expect(over).toMatchObject({ code: 'budget_exceeded', limit: 'daily' });
    expect(b.signer.calls).toBe(0);
  });

  it('an expired payment found unused and given back: its own fetch pays anew, and the new payment holds the key', async () => {
    const answer = { next: unavailable };
    place(URL_, answer);
    const { a, b, clock } = pair({ reconcile: checker('expired') });
    const first = (await rejectionOf(a.paidFetch(URL_, { headers: KEY }))) as SettlementUnknownError;
    clock.now = Number(first.validBefore) * 1000;
    answer.next = settled;
    expect((await a.paidFetch(URL_, { headers: KEY })).status).toBe(200);
    expect(a.signer.calls).toBe(2);
    expect(await a.used()).toBe('0.01');
    expect(await rejectionOf(b.paidFetch(URL_, { headers: KEY }))).toMatchObject({ state: 'claimed' });
    expect(b.signer.calls).toBe(0);
  });

  it('an expired payment found unused after the store stopped holding it (pending TTL): paid anew by its own fetch; the key stays claimed for the others', async () => {
    const answer = { next: unavailable };
    place(URL_, answer);
    place(OTHER, { next: settled });
    const { a, b, clock } = pair({ reconcile: checker('expired') });
    await rejectionOf(a.paidFetch(URL_, { headers: KEY }));
    // Past the pending TTL, another reservation lets the store drop what it needed to give it back.
    clock.now = T0 + 2 * 3_600_000;
    expect((await b.paidFetch(OTHER)).status).toBe(200);
    answer.next = settled;
    const response = await a.paidFetch(URL_, { headers: KEY });
    expect(getPayment(response)?.status).toBe('settled');
    expect(a.signer.calls).toBe(2);
    expect(await a.used()).toBe('0.03'); // the dead one could not be given back: it stays counted
    expect(await rejectionOf(b.paidFetch(URL_, { headers: KEY }))).toMatchObject({ state: 'claimed' });
    expect(b.signer.calls).toBe(1); // OTHER only
  });
});

describe('a claim held by a dead payment (its process died or gave up), with the reconcile option', () => {
  /** A chain as the token sees it: `used` for the nonces in `settled`, `expired` once the clock is past validBefore, `pending` before. */
  function chain(clock: { now: number }, settled = new Set<string>()) {
    const c = {
      asked: [] as string[],
      down: false,
      async check(a: Parameters<AuthorizationChecker['check']>[0]) {
        c.asked.push(a.nonce);
        if (c.down) throw new Error('RPC unreachable');
        const state = settled.has(a.nonce) ? 'used' : BigInt(Math.floor(clock.now / 1000)) > a.validBefore ? 'expired' : 'pending';
        return { state, blockNumber: 1n, blockTimestamp: BigInt(Math.floor(clock.now / 1000)), validBefore: a.validBefore } as AuthorizationCheck;
      },
    };
    return c;
  }

  /**
   * On `clock`, fetch a pays with the key and the paid request is answered by `firstAnswer` (by
   * default no usable answer: its payment stays unknown, holding the claim); b (with `bOptions`)
   * and c share the store.
   */
  async function abandoned(clock: { now: number }, bOptions: Parameters<typeof wrapFetch>[2] = {}, firstAnswer: Answer = unavailable) {
    const answer = { next: firstAnswer };
    const p = place(URL_, answer);
    const store = memoryStore({ clock: () => clock.now });
    const a = client({ store }, clock);
    const first = await rejectionOf(a.paidFetch(URL_, { headers: KEY }));
    return { p, answer, store, a, first, b: client({ store, ...bOptions }, clock), c: client({ store }, clock) };
  }

  /** {@link abandoned} with no usable answer: the first call ends `settlement_unknown`. */
  async function unanswered(clock: { now: number }, bOptions: Parameters<typeof wrapFetch>[2] = {}) {
    const left = await abandoned(clock, bOptions);
    expect(left.first).toBeInstanceOf(SettlementUnknownError);
    return { ...left, first: left.first as SettlementUnknownError };
  }

  it('expired unused on chain: given back and paid by the other fetch; refused while it can still be settled, and without the option', async () => {
    const clock = { now: T0 };
    const token = chain(clock);
    const { p, answer, store, a, first, b, c } = await unanswered(clock, { reconcile: token });
    clock.now = Number(first.validBefore) * 1000 - 5_000;
    const early = await rejectionOf(b.paidFetch(URL_, { headers: KEY }));
    expect(early).toMatchObject({ code: 'duplicate_request', state: 'claimed', authorization: first.authorization });
    expect(token.asked).toEqual([first.authorization.nonce]);
    const before = await store.report();

    clock.now = Number(first.validBefore) * 1000 + 1_000;
    expect(await rejectionOf(c.paidFetch(URL_, { headers: KEY }))).toMatchObject({ state: 'claimed' });
    expect(await store.report()).toEqual(before); // without the option nothing is asked or changed
    answer.next = settled;
    const response = await b.paidFetch(URL_, { headers: KEY });
    expect(getPayment(response)?.status).toBe('settled');
    expect(token.asked).toEqual([first.authorization.nonce, first.authorization.nonce]);
    expect(b.signer.calls).toBe(1);
    expect(c.signer.calls).toBe(0);
    const nonces = headersOf(p).map((h) => decodeHeader(h!).payload.authorization.nonce);
    expect(nonces).toEqual([first.authorization.nonce, getPayment(response)!.authorization.nonce]);
    expect(nonces[0]).not.toBe(nonces[1]);
    const report = await store.report();
    expect(report.map((r) => [r.status, r.authorization?.nonce])).toEqual([
      ['released', first.authorization.nonce],
      ['settled', getPayment(response)!.authorization.nonce],
    ]);
    expect(await b.used()).toBe('0.01');
    // The key is held by the new payment now: the others are refused, naming it.
    expect(await rejectionOf(c.paidFetch(URL_, { headers: KEY }))).toMatchObject({ state: 'claimed', authorization: getPayment(response)!.authorization });
    expect(await rejectionOf(a.paidFetch(URL_, { headers: KEY }))).toMatchObject({ code: 'duplicate_request' });
    expect(a.signer.calls).toBe(1);
  });

  it('used on chain, or a chain that cannot answer: refused (claimed) at the first reservation, nothing signed, the ledger unchanged', async () => {
    const clock = { now: T0 };
    const used = new Set<string>();
    const token = chain(clock, used);
    const reserves: string[] = [];
    const { store, first } = await unanswered(clock);
    // b's store counts its reservations: a holder that is not dead is not worth a second attempt.
    const counted = { ...store, reserve: (request: Parameters<typeof store.reserve>[0]) => (reserves.push(request.id), store.reserve(request)) };
    const b = client({ store: counted, reconcile: token }, clock);
    used.add(first.authorization.nonce);
    clock.now = Number(first.validBefore) * 1000 + 60_000;
    const before = await store.report();
    expect(await rejectionOf(b.paidFetch(URL_, { headers: KEY }))).toMatchObject({ code: 'duplicate_request', state: 'claimed', authorization: first.authorization });
    used.clear();
    token.down = true;
    expect(await rejectionOf(b.paidFetch(URL_, { headers: KEY }))).toMatchObject({ code: 'duplicate_request', state: 'claimed' });
    expect(token.asked).toHaveLength(2);
    expect(reserves).toHaveLength(2);
    expect(b.signer.calls).toBe(0);
    expect(await store.report()).toEqual(before);
    expect(await b.used()).toBe('0.01');
  });

  it('a holder the server refused (failed) and the chain shows expired unused is given back too', async () => {
    const clock = { now: T0 };
    const token = chain(clock);
    const refusedSettlement: Answer = () =>
      HttpResponse.json({}, { status: 402, headers: { 'PAYMENT-RESPONSE': settlementHeader({ success: false, errorReason: 'insufficient_funds', network: 'eip155:84532' }) } });
    const { p, answer, store, first, b } = await abandoned(clock, { reconcile: token }, refusedSettlement);
    expect(first).toBeInstanceOf(PaymentRejectedError);
    const [held] = await store.report();
    expect(held!.status).toBe('failed');
    clock.now = Number(held!.authorization!.validBefore) * 1000 + 1_000;
    answer.next = settled;
    expect((await b.paidFetch(URL_, { headers: KEY })).status).toBe(200);
    expect(token.asked).toEqual([held!.authorization!.nonce]);
    expect((await store.report()).map((r) => r.status)).toEqual(['released', 'settled']);
    expect(headersOf(p)).toHaveLength(2);
    expect(await b.used()).toBe('0.01');
  });

  it('a delivered (settled) holder is never asked about', async () => {
    place(URL_, { next: settled });
    const clock = { now: T0 };
    const store = memoryStore({ clock: () => clock.now });
    const token = chain(clock);
    const a = client({ store }, clock);
    const b = client({ store, reconcile: token }, clock);
    await a.paidFetch(URL_, { headers: KEY });
    clock.now += 3_600_000;
    expect(await rejectionOf(b.paidFetch(URL_, { headers: KEY }))).toMatchObject({ state: 'claimed' });
    expect(token.asked).toEqual([]);
    expect(b.signer.calls).toBe(0);
  });

  it('two fetches finding the dead holder at once: one pays, the other is refused naming it; one new signature', async () => {
    const clock = { now: T0 };
    const token = chain(clock);
    const { p, answer, store, first, b } = await unanswered(clock, { reconcile: token });
    const d = client({ store, reconcile: token }, clock);
    clock.now = Number(first.validBefore) * 1000 + 1_000;
    answer.next = settled;
    const outcomes = await Promise.allSettled([b.paidFetch(URL_, { headers: KEY }), d.paidFetch(URL_, { headers: KEY })]);
    const paid = outcomes.filter((o): o is PromiseFulfilledResult<Response> => o.status === 'fulfilled');
    const refused = outcomes.filter((o): o is PromiseRejectedResult => o.status === 'rejected');
    expect(paid).toHaveLength(1);
    expect(refused).toHaveLength(1);
    // Named by the winner's nonce (its planned validBefore, the latest it may sign, while it was still reserved).
    expect(refused[0]!.reason).toMatchObject({ code: 'duplicate_request', state: 'claimed', authorization: { nonce: getPayment(paid[0]!.value)!.authorization.nonce } });
    expect(b.signer.calls + d.signer.calls).toBe(1);
    expect(headersOf(p)).toHaveLength(2);
    expect(await b.used()).toBe('0.01');
  });

  it('a reservation left behind before anything was sent (a wallet that never answered) is given back once past its planned validBefore', async () => {
    const p = place(URL_, { next: settled });
    const clock = { now: T0 };
    const store = memoryStore({ clock: () => clock.now });
    const stuck = { address: testAccount.address, signTypedData: () => new Promise<never>(() => undefined) };
    void wrapFetch(fetch, stuck, { clock: () => clock.now, store })(URL_, { headers: KEY });
    await expect.poll(async () => (await store.report()).map((r) => r.status)).toEqual(['reserved']);
    const [left] = await store.report();
    const token = chain(clock);
    const b = client({ store, reconcile: token }, clock);
    clock.now = Number(left!.authorization!.validBefore) * 1000 - 1_000;
    expect(await rejectionOf(b.paidFetch(URL_, { headers: KEY }))).toMatchObject({ state: 'claimed', authorization: expect.objectContaining({ nonce: left!.authorization!.nonce }) });
    clock.now = Number(left!.authorization!.validBefore) * 1000 + 1_000;
    expect((await b.paidFetch(URL_, { headers: KEY })).status).toBe(200);
    expect((await store.report()).map((r) => r.status)).toEqual(['released', 'settled']);
    expect(headersOf(p)).toHaveLength(1);
    expect(await b.used()).toBe('0.01');
  });
});

describe('the payment id of a keyed call', () => {
  it('comes from the key: the same in every process, another for another key, random without one', async () => {
    const p = place(URL_, { next: settled }, WITH_ID);
    await client().paidFetch(URL_, { headers: KEY });
    await client().paidFetch(URL_, { headers: KEY }); // another "process" (another wrapped fetch)
    await client().paidFetch(URL_, { headers: { 'Idempotency-Key': 'order-43' } });
    await client().paidFetch(URL_);
    await client().paidFetch(URL_);
    const ids = p.paid().map((s) => decodeHeader(s.headers['payment-signature']!).extensions['payment-identifier'].info.id as string);
    expect(ids.every((id) => /^pay_[0-9a-f]{32}$/.test(id))).toBe(true);
    expect(ids[1]).toBe(ids[0]);
    expect(new Set(ids).size).toBe(4);
  });

  it('a keyed call never prepays: its earlier payment comes first', async () => {
    const p = place(URL_, { next: settled });
    const { paidFetch } = client({ prepay: true });
    await paidFetch(URL_); // remembers the terms
    await paidFetch(URL_); // prepaid: one request
    await paidFetch(URL_, { headers: KEY });
    expect(p.seen.map((s) => s.paid)).toEqual([false, true, true, false, true]);
  });
});
