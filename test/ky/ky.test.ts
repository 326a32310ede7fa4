import ky, { HTTPError, TimeoutError } from 'ky';
import { HttpResponse, delay, http } from 'msw';
import { describe, expect, it } from 'vitest';
import { BudgetExceededError, getPayment, PaymentRejectedError, signInWithX, type PaymentEvent } from '../../src/index.js';
import { paymentHooks, withPayment } from '../../src/ky.js';
import { challengeV2, paywall, useMswServer, type SeenRequest } from '../support/msw.js';
import { paymentRequiredV2, settlementHeader, testAccount, V4_TX } from '../support/challenges.js';
import { countingSigner } from '../support/signers.js';
import { expectOnePaidRetry, versionWall } from '../support/versionWall.js';
import { rejectionOf } from '../support/secrets.js';
import { signInServer } from '../support/signInMsw.js';

const server = useMswServer();
const URL_ = 'https://api.example.com/premium-data';
const OTHER = 'https://api.example.com/free-data';
/** Retry quickly in tests (ky's default backoff starts at 300 ms). */
const fastRetry = { limit: 2, delay: () => 5 } as const;

/** A paywall speaking v1 or v2; `paid` answers the paid request. */
const wall = (version: 1 | 2 = 2, paid?: (seen: SeenRequest) => Response | Promise<Response>) => versionWall(server, URL_, version, paid);

const settled = () =>
  settlementHeader({ success: true, transaction: V4_TX, network: 'eip155:84532', payer: testAccount.address });

describe('withPayment(ky, wallet, options): the fetch scenarios through ky', () => {
  it.each([1, 2] as const)('pays a v%i challenge once and returns the paid answer with its receipt', async (version) => {
    const p = wall(version, () => HttpResponse.json({ ok: true }, { headers: { 'PAYMENT-RESPONSE': settled() } }));
    const signer = countingSigner();
    const api = withPayment(ky, signer);
    const response = await api.get(URL_);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ ok: true });
    expectOnePaidRetry(p.seen, version);
    expect(signer.calls).toBe(1);
    const payment = getPayment(response);
    expect(payment?.amount).toBe(10000n);
    expect(payment?.status).toBe('settled');
    expect(payment?.transaction).toBe(V4_TX);
    expect(payment?.payer).toBe(testAccount.address);
  });

  it('ky body shortcuts (.json()) work on a paid call', async () => {
    wall(2, () => HttpResponse.json({ temperature: 21 }));
    const api = withPayment(ky, countingSigner());
    expect(await api.get(URL_).json()).toEqual({ temperature: 21 });
  });

  it('replays a JSON POST body (ky.post(url, { json })) byte for byte on the paid request', async () => {
    const bodies: { paid: boolean; body: string; type: string | null; method: string }[] = [];
    server.use(
      http.post(URL_, async ({ request }) => {
        const seenNow = { paid: request.headers.has('payment-signature'), body: await request.text(), type: request.headers.get('content-type'), method: request.method };
        bodies.push(seenNow);
        return seenNow.paid ? HttpResponse.json({ echoed: JSON.parse(seenNow.body) }) : challengeV2(paymentRequiredV2());
      }),
    );
    const api = withPayment(ky, countingSigner());
    const json = { prompt: 'summarize', n: 3, nested: { ok: true } };
    const response = await api.post(URL_, { json });
    expect(await response.json()).toEqual({ echoed: json });
    expect(bodies.map((b) => b.paid)).toEqual([false, true]);
    for (const b of bodies) {
      expect(b.method).toBe('POST');
      expect(b.body).toBe(JSON.stringify(json));
      expect(b.type).toBe('application/json');
    }
    expect(getPayment(response)?.amount).toBe(10000n);
  });

  it('a budget refusal surfaces from ky as BudgetExceededError; nothing is signed and ky does not retry', async () => {
    const p = wall(2);
    const signer = countingSigner();
    const denied: unknown[] = [];
    const api = withPayment(ky, signer, { budget: { perRequest: '0.005' }, on: { denied: (e) => denied.push(e) } });
    // Even a retry policy that says "retry everything" must not turn a refusal into more requests.
    const error = await rejectionOf(api.get(URL_, { retry: { ...fastRetry, shouldRetry: () => true } }));
    expect(error).toBeInstanceOf(BudgetExceededError);
    expect(error.code).toBe('budget_exceeded');
    expect(error.moneyMoved).toBe('no');
    expect(p.seen).toHaveLength(1);
    expect(signer.calls).toBe(0);
    expect(denied).toHaveLength(1);
  });

  it('a rejected payment surfaces as PaymentRejectedError and is never paid twice, even if ky is told to retry 402', async () => {
    const p = wall(2, () => challengeV2({ ...paymentRequiredV2(), error: 'invalid_exact_evm_signature' }));
    const signer = countingSigner();
    const api = withPayment(ky, signer);
    const error = await rejectionOf(api.get(URL_, { retry: { ...fastRetry, statusCodes: [402, 503], shouldRetry: () => true } }));
    expect(error).toBeInstanceOf(PaymentRejectedError);
    expect(error.reason).toBe('invalid_exact_evm_signature');
    expect(error.moneyMoved).toBe('maybe');
    expectOnePaidRetry(p.seen);
    expect(signer.calls).toBe(1);
  });

  it('works with withPayment on an instance made with ky.create (prefix, headers kept)', async () => {
    const p = wall(2);
    const base = ky.create({ prefix: 'https://api.example.com', headers: { authorization: 'Bearer t0ken' } });
    const response = await withPayment(base, countingSigner()).get('premium-data');
    expect(response.status).toBe(200);
    expectOnePaidRetry(p.seen);
    expect(p.seen.map((s) => s.headers['authorization'])).toEqual(['Bearer t0ken', 'Bearer t0ken']);
  });

  it('refuses something that is not a ky instance with a TypeError naming the argument', () => {
    expect(() => withPayment({} as never, countingSigner())).toThrow(/withPayment: ky must be a ky instance/);
    expect(() => withPayment(ky, {} as never)).toThrow(TypeError);
    expect(() => withPayment(ky, countingSigner(), { maxAuthSeconds: 1 })).toThrow(/options\.maxAuthSeconds/);
  });
});

describe("ky's own retry and timeout keep working", () => {
  it('retries a 503 of an unpaid endpoint as ky normally does', async () => {
    let calls = 0;
    server.use(http.get(OTHER, () => (++calls < 3 ? new HttpResponse(null, { status: 503 }) : HttpResponse.json({ free: true }))));
    const api = withPayment(ky, countingSigner());
    const response = await api.get(OTHER, { retry: fastRetry });
    expect(await response.json()).toEqual({ free: true });
    expect(calls).toBe(3);
    expect(getPayment(response)).toBeUndefined();
  });

  it('a 503 before the 402 is retried, then the 402 is paid once', async () => {
    let calls = 0;
    const signer = countingSigner();
    const seen: boolean[] = [];
    server.use(
      http.get(URL_, ({ request }) => {
        calls++;
        seen.push(request.headers.has('payment-signature'));
        if (calls === 1) return new HttpResponse(null, { status: 503 });
        return request.headers.has('payment-signature') ? HttpResponse.json({ ok: true }) : challengeV2(paymentRequiredV2());
      }),
    );
    const response = await withPayment(ky, signer).get(URL_, { retry: fastRetry });
    expect(response.status).toBe(200);
    expect(seen).toEqual([false, false, true]);
    expect(signer.calls).toBe(1);
  });

  it.each([
    ['503 with a settled receipt', () => new HttpResponse(null, { status: 503, headers: { 'PAYMENT-RESPONSE': settled() } })],
    ['429 (ky retries it by default)', () => new HttpResponse(null, { status: 429 })],
  ])('a paid call answered %s is not retried by ky (no second payment)', async (_name, answer) => {
    const p = wall(2, answer);
    const signer = countingSigner();
    const error = await rejectionOf(withPayment(ky, signer).get(URL_, { retry: fastRetry }));
    expect(error).toBeInstanceOf(HTTPError);
    expect(getPayment(error.response)?.amount).toBe(10000n);
    expectOnePaidRetry(p.seen);
    expect(signer.calls).toBe(1);
  });

  it('ky timeout still applies: a slow server gives ky TimeoutError', async () => {
    server.use(
      http.get(OTHER, async () => {
        await delay(2_000);
        return HttpResponse.json({});
      }),
    );
    const started = Date.now();
    const error = await rejectionOf(withPayment(ky, countingSigner()).get(OTHER, { timeout: 100, retry: 0 }));
    expect(error).toBeInstanceOf(TimeoutError);
    expect(Date.now() - started).toBeLessThan(1_500);
  });

  it('a timeout before any payment is retried (retryOnTimeout), and the retry pays once', async () => {
    let unpaid = 0;
    const signer = countingSigner();
    server.use(
      http.get(URL_, async ({ request }) => {
        if (request.headers.has('payment-signature')) return HttpResponse.json({ ok: true });
        if (++unpaid === 1) await delay(2_000);
        return challengeV2(paymentRequiredV2());
      }),
    );
    const response = await withPayment(ky, signer).get(URL_, { timeout: 200, retry: { ...fastRetry, retryOnTimeout: true } });
    expect(response.status).toBe(200);
    expect(unpaid).toBe(2);
    expect(signer.calls).toBe(1);
  });

  it('a timeout after the payment header left is not retried, and the payment is recorded as unknown', async () => {
    const events: PaymentEvent[] = [];
    const p = wall(2, async () => {
      await delay(2_000);
      return HttpResponse.json({ ok: true });
    });
    const signer = countingSigner();
    const api = withPayment(ky, signer, { on: { payment: (e) => events.push(e) } });
    const error = await rejectionOf(api.get(URL_, { timeout: 300, retry: { ...fastRetry, retryOnTimeout: true } }));
    expect(error).toBeInstanceOf(TimeoutError);
    await delay(100);
    expectOnePaidRetry(p.seen);
    expect(signer.calls).toBe(1);
    expect(events.map((e) => e.status)).toEqual(['unknown']);
    const report = await api.budget.report();
    expect(report.map((r) => r.status)).toEqual(['unknown']);
  });

  it('after such a timeout, calling again with the same Idempotency-Key sends the same payment again: nothing new is signed', async () => {
    let paidCalls = 0;
    const p = wall(2, async () => {
      if (++paidCalls === 1) await delay(2_000);
      return HttpResponse.json({ ok: true }, { headers: { 'PAYMENT-RESPONSE': settled() } });
    });
    const signer = countingSigner();
    const api = withPayment(ky, signer);
    const headers = { 'Idempotency-Key': 'summary-2026-11-21' };
    expect(await rejectionOf(api.get(URL_, { headers, timeout: 300 }))).toBeInstanceOf(TimeoutError);
    const response = await api.get(URL_, { headers, timeout: 5_000 });
    expect(getPayment(response)?.status).toBe('settled');
    expect(signer.calls).toBe(1);
    const paid = p.seen.filter((s) => s.paid).map((s) => s.headers['payment-signature']);
    expect(paid).toHaveLength(2);
    expect(paid[1]).toBe(paid[0]);
    expect((await api.budget.report()).map((r) => r.status)).toEqual(['settled']);
  });

  it('the state of one paid call does not stop retries of the next call on the same instance', async () => {
    wall(2);
    let calls = 0;
    server.use(http.get(OTHER, () => (++calls < 2 ? new HttpResponse(null, { status: 503 }) : HttpResponse.json({ free: true }))));
    const api = withPayment(ky, countingSigner(), {});
    expect(getPayment(await api.get(URL_, { retry: fastRetry }))).toBeDefined();
    expect((await api.get(OTHER, { retry: fastRetry })).status).toBe(200);
    expect(calls).toBe(2);
  });

  it('coalesce: identical GETs in flight on one instance pay once and each gets the body (one engine, not one per call)', async () => {
    const p = wall(2, async () => {
      await delay(30);
      return HttpResponse.json({ ok: true }, { headers: { 'PAYMENT-RESPONSE': settled() } });
    });
    const signer = countingSigner();
    const api = withPayment(ky, signer, { coalesce: true });
    const bodies = await Promise.all([1, 2, 3].map(() => api.get(URL_).json()));
    expect(bodies).toEqual([{ ok: true }, { ok: true }, { ok: true }]);
    expect(signer.calls).toBe(1);
    expectOnePaidRetry(p.seen, 2);
  });
});

describe('withPayment with signIn: signInWithX()', () => {
  it('a call let in by a sign-in pays nothing, and ky may still retry it: no payment left', async () => {
    const s = signInServer({ url: URL_, paidBy: [testAccount.address] });
    let busy = 1;
    server.use(
      http.get(URL_, ({ request }) => (request.headers.has('sign-in-with-x') && busy-- > 0 ? HttpResponse.text('busy', { status: 503 }) : undefined)),
      s.handler,
    );
    const signer = Object.assign(countingSigner(), { signMessage: testAccount.signMessage });
    const api = withPayment(ky, signer, { signIn: signInWithX() });
    const response = await api.get(URL_, { retry: fastRetry });
    expect(await response.json()).toEqual({ signedInAs: testAccount.address });
    expect(getPayment(response)).toBeUndefined();
    expect(signer.calls).toBe(0);
    expect(s.payments()).toHaveLength(0);
    expect(s.signIns.map((a) => a.valid)).toEqual([true]);
  });
});

describe('paymentHooks(wallet, options): the hooks withPayment is built from', () => {
  it('makes ky.create pay, wraps the fetch option the instance was given, and keeps other hooks', async () => {
    const p = wall(2);
    const pay = paymentHooks(countingSigner());
    const fetched: string[] = [];
    const seenByAfterResponse: number[] = [];
    const api = ky.create({
      fetch: (input, init) => {
        fetched.push(input instanceof Request ? input.method : 'GET');
        return fetch(input, init);
      },
      hooks: { ...pay, afterResponse: [({ response }) => void seenByAfterResponse.push(response.status)] },
    });
    const response = await api.get(URL_);
    expect(response.status).toBe(200);
    expectOnePaidRetry(p.seen);
    expect(fetched).toEqual(['GET', 'GET']);
    expect(seenByAfterResponse).toEqual([200]);
    expect(Object.keys(pay).sort()).toEqual(['beforeRetry', 'init']);
  });

  it('one engine: every instance given the same hooks spends from one budget', async () => {
    wall(2);
    const pay = paymentHooks(countingSigner(), { budget: { perRequest: '0.05', total: '0.015' } });
    const a = ky.create({ hooks: pay });
    const b = ky.extend({ hooks: pay });
    expect((await a.get(URL_)).status).toBe(200);
    const error = await rejectionOf(b.get(URL_));
    expect(error).toBeInstanceOf(BudgetExceededError);
    const report = await pay.budget.report();
    expect(report).toHaveLength(1);
    expect(report[0]!.amount).toBe('10000');
  });
});
