/**
 * The `coalesce` option (single flight): identical calls in flight share one paid answer instead
 * of paying once each, against the testing kit's mock server (signatures verified). Off by
 * default; only bodiless GET/HEAD with the same URL and headers; a failed or aborted first call
 * never hands its error to the calls waiting for it.
 */
import { describe, expect, it } from 'vitest';
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts';
import { getPayment, PaymentRejectedError, wrapFetch } from '../../src/index.js';
import { mockX402Server, type MockOutcome } from '../../src/testing/index.js';
import { rejectionOf } from '../support/secrets.js';

const account = privateKeyToAccount(generatePrivateKey());
const API = 'https://api.example.com';

/** A mock API whose answers take `delayMs`, and the number of requests it saw. */
function slowApi(delayMs = 20, outcome?: () => MockOutcome) {
  const api = mockX402Server({ routes: { '/x': { price: '0.01', body: { n: 42 } } }, ...(outcome ? { outcome } : {}) });
  let requests = 0;
  const fetchImpl: typeof fetch = async (input, init) => {
    requests++;
    await new Promise((resolve) => setTimeout(resolve, delayMs));
    return api.fetch(input, init);
  };
  return { api, fetch: fetchImpl, requests: () => requests };
}

describe('coalesce', () => {
  it('off by default: three identical GETs at once pay three times', async () => {
    const { api, fetch } = slowApi();
    const paidFetch = wrapFetch(fetch, account);
    await Promise.all([1, 2, 3].map(() => paidFetch(`${API}/x`)));
    expect(api.payments).toHaveLength(3);
  });

  it('on: three identical GETs at once pay once; each gets the body; only the first carries the receipt', async () => {
    const { api, fetch, requests } = slowApi();
    const paidFetch = wrapFetch(fetch, account, { coalesce: true });
    const responses = await Promise.all([1, 2, 3].map(() => paidFetch(`${API}/x`, { headers: { accept: 'application/json' } })));
    expect(api.payments).toHaveLength(1);
    expect(requests()).toBe(2); // the 402 and the paid retry, once
    expect(await Promise.all(responses.map((r) => r.json()))).toEqual([{ n: 42 }, { n: 42 }, { n: 42 }]);
    expect(responses.map((r) => r.status)).toEqual([200, 200, 200]);
    expect(getPayment(responses[0]!)).toMatchObject({ status: 'settled', amount: 10_000n });
    expect(getPayment(responses[1]!)).toBeUndefined();
    expect(getPayment(responses[2]!)).toBeUndefined();
    expect(await paidFetch.budget.report()).toHaveLength(1);
  });

  it('on: calls one after the other are not shared (no caching): each pays', async () => {
    const { api, fetch } = slowApi(0);
    const paidFetch = wrapFetch(fetch, account, { coalesce: true });
    await paidFetch(`${API}/x`);
    await paidFetch(`${API}/x`);
    expect(api.payments).toHaveLength(2);
  });

  it('on: different headers, a POST, or another init field are separate calls', async () => {
    const { api, fetch } = slowApi();
    const paidFetch = wrapFetch(fetch, account, { coalesce: true });
    await Promise.all([
      paidFetch(`${API}/x`, { headers: { authorization: 'Bearer alice' } }),
      paidFetch(`${API}/x`, { headers: { authorization: 'Bearer bob' } }),
    ]);
    expect(api.payments).toHaveLength(2);
    await Promise.all([paidFetch(`${API}/x`, { method: 'POST', body: '{}' }), paidFetch(`${API}/x`, { method: 'POST', body: '{}' })]);
    expect(api.payments).toHaveLength(4);
    await Promise.all([paidFetch(`${API}/x`, { cache: 'no-store' }), paidFetch(`${API}/x`, { cache: 'no-store' })]);
    expect(api.payments).toHaveLength(6);
    await Promise.all([paidFetch(new Request(`${API}/x`, { credentials: 'include' })), paidFetch(`${API}/x`)]);
    expect(api.payments).toHaveLength(8);
  });

  it('on: a Request object and the same URL string are the same call', async () => {
    const { api, fetch } = slowApi();
    const paidFetch = wrapFetch(fetch, account, { coalesce: true });
    const [a, b] = await Promise.all([paidFetch(new Request(`${API}/x`)), paidFetch(`${API}/x`)]);
    expect(api.payments).toHaveLength(1);
    expect([a!.status, b!.status]).toEqual([200, 200]);
  });

  it("on: another realm's Request (the undici package's) is read like one of this realm: the same URL alone is the same call; with another header or a body it is not", async () => {
    const { Request: ForeignRequest } = await import('undici');
    const { api, fetch } = slowApi();
    // A fetch of that realm: it reads its own Request (new Request(input, init)), then asks the mock API.
    const realmFetch: typeof globalThis.fetch = (input, init) => {
      const request = new ForeignRequest(input as never, init as never);
      return fetch(request.url, { method: request.method, headers: [...request.headers] });
    };
    const paidFetch = wrapFetch(realmFetch, account, { coalesce: true });
    const [a, b] = await Promise.all([paidFetch(new ForeignRequest(`${API}/x`) as unknown as Request), paidFetch(`${API}/x`)]);
    expect(api.payments).toHaveLength(1);
    expect([a!.status, b!.status]).toEqual([200, 200]);
    // Another caller's header (its own credentials) is never answered with someone else's paid answer.
    await Promise.all([paidFetch(new ForeignRequest(`${API}/x`, { headers: { authorization: 'Bearer a' } }) as unknown as Request), paidFetch(`${API}/x`)]);
    expect(api.payments).toHaveLength(3);
  });

  it('on: the first call refused after paying → the waiting call makes its own call (and pays), never inherits the error', async () => {
    let first = true;
    const { api, fetch } = slowApi(20, () => (first ? ((first = false), 'rejected') : 'settled'));
    const paidFetch = wrapFetch(fetch, account, { coalesce: true });
    const [a, b] = await Promise.allSettled([paidFetch(`${API}/x`), paidFetch(`${API}/x`)]);
    expect(a.status === 'rejected' && a.reason).toBeInstanceOf(PaymentRejectedError);
    expect(b.status === 'fulfilled' && getPayment(b.value)).toMatchObject({ status: 'settled' });
    expect(api.payments.map((p) => p.outcome)).toEqual(['rejected', 'settled']);
  });

  it('on: the first caller aborts → it rejects with its reason; the two waiting calls fly again, together: one pays, both get the answer', async () => {
    const { api, fetch } = slowApi(30);
    const paidFetch = wrapFetch(fetch, account, { coalesce: true });
    const controller = new AbortController();
    const leader = paidFetch(`${API}/x`, { signal: controller.signal });
    const waiting = [paidFetch(`${API}/x`), paidFetch(`${API}/x`)];
    setTimeout(() => controller.abort(new Error('caller gave up')), 5);
    expect(await rejectionOf(leader)).toMatchObject({ message: 'caller gave up' });
    const responses = await Promise.all(waiting);
    expect(responses.map((r) => r.status)).toEqual([200, 200]);
    expect(responses.filter((r) => getPayment(r)?.status === 'settled')).toHaveLength(1);
    expect(api.payments).toHaveLength(1);
  });

  it('on: a waiting caller that aborts rejects at once with its reason; the first call is unaffected', async () => {
    const { api, fetch } = slowApi(30);
    const paidFetch = wrapFetch(fetch, account, { coalesce: true });
    const leader = paidFetch(`${API}/x`);
    const controller = new AbortController();
    const waiting = paidFetch(`${API}/x`, { signal: controller.signal });
    controller.abort(new Error('not needed any more'));
    expect(await rejectionOf(waiting)).toMatchObject({ message: 'not needed any more' });
    expect(getPayment(await leader)).toMatchObject({ status: 'settled' });
    expect(api.payments).toHaveLength(1);
  });

  it('on: a caller that aborts while it waits rejects then, before the first call ends; the first call is unaffected', async () => {
    const { api, fetch } = slowApi(40);
    const paidFetch = wrapFetch(fetch, account, { coalesce: true });
    let leaderDone = false;
    const leader = paidFetch(`${API}/x`).then((response) => ((leaderDone = true), response));
    const controller = new AbortController();
    const waiting = paidFetch(`${API}/x`, { signal: controller.signal });
    setTimeout(() => controller.abort(new Error('not needed any more')), 10);
    expect(await rejectionOf(waiting)).toMatchObject({ message: 'not needed any more' });
    expect(leaderDone).toBe(false);
    expect(getPayment(await leader)).toMatchObject({ status: 'settled' });
    expect(api.payments).toHaveLength(1);
  });

  it('on: only GET and HEAD are shared: two bodiless POSTs pay twice, two HEADs once', async () => {
    const { api, fetch } = slowApi();
    const paidFetch = wrapFetch(fetch, account, { coalesce: true });
    await Promise.all([paidFetch(`${API}/x`, { method: 'POST' }), paidFetch(`${API}/x`, { method: 'POST' })]);
    expect(api.payments).toHaveLength(2);
    const heads = await Promise.all([paidFetch(`${API}/x`, { method: 'HEAD' }), paidFetch(`${API}/x`, { method: 'HEAD' })]);
    expect(heads.map((r) => r.status)).toEqual([200, 200]);
    expect(api.payments).toHaveLength(3);
  });

  it("on: an init of method, headers and signal only is still the same call as the bare URL's", async () => {
    const { api, fetch } = slowApi();
    const paidFetch = wrapFetch(fetch, account, { coalesce: true });
    const signal = new AbortController().signal;
    await Promise.all([paidFetch(`${API}/x`), paidFetch(`${API}/x`, { method: 'GET' }), paidFetch(`${API}/x`, { headers: {} }), paidFetch(`${API}/x`, { signal })]);
    expect(api.payments).toHaveLength(1);
    await Promise.all([paidFetch(`${API}/x`, { method: 'GET', headers: {}, signal }), paidFetch(`${API}/x`, { method: 'GET', headers: {}, signal, keepalive: true })]);
    expect(api.payments).toHaveLength(3);
  });

  it('a wrong value is a TypeError at wrapFetch time', () => {
    expect(() => wrapFetch(fetch, account, { coalesce: 'yes' as unknown as boolean })).toThrow(/options\.coalesce must be true or false/);
  });
});
