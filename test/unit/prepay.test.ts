import { HttpResponse, http } from 'msw';
import { describe, expect, it } from 'vitest';
import { getPayment, isX402Error } from '../../src/index.js';
import { useMswServer, paywall, challengeV2, type SeenRequest } from '../support/msw.js';
import { paymentRequiredV2, settlementHeader, testAccount } from '../support/challenges.js';
import { payer, usdc, T0 } from '../support/paying.js';

const server = useMswServer();
const URL_A = 'https://api.example.com/report';
let txCounter = 0;

/** A paywall whose paid answers carry a settled receipt with a fresh transaction hash. */
function settlingPaywall(url: string, price = () => 10_000) {
  const p = paywall({
    url,
    challenge: () => challengeV2(paymentRequiredV2([usdc(price())])),
    paid: (seen: SeenRequest) => {
      const sent = JSON.parse(Buffer.from(seen.headers['payment-signature']!, 'base64').toString('utf8'));
      if (sent.accepted.amount !== String(price())) return challengeV2(paymentRequiredV2([usdc(price())]));
      const tx = `0x${(++txCounter).toString(16).padStart(64, '0')}`;
      return HttpResponse.json(
        { ok: true },
        { headers: { 'PAYMENT-RESPONSE': settlementHeader({ success: true, transaction: tx, network: 'eip155:84532', payer: testAccount.address }) } },
      );
    },
  });
  server.use(p.handler);
  return p;
}

describe('prepay (opt-in): one round trip for a place already paid', () => {
  it('is off by default: every call takes the 402 round trip', async () => {
    const wall = settlingPaywall(URL_A);
    const { paidFetch, signer } = payer();
    await paidFetch(URL_A);
    await paidFetch(URL_A);
    expect(wall.seen.map((s) => s.paid)).toEqual([false, true, false, true]);
    expect(signer.calls).toBe(2);
  });

  it('pays the second call with its first request, within the budget, and says so in the receipt', async () => {
    const wall = settlingPaywall(URL_A);
    const { paidFetch, signer } = payer({ prepay: true });
    const first = await paidFetch(URL_A);
    expect(getPayment(first)).toMatchObject({ status: 'settled' });
    expect(getPayment(first)?.prepaid).toBeUndefined();
    const second = await paidFetch(`${URL_A}?page=2`);
    expect(second.status).toBe(200);
    expect(getPayment(second)).toMatchObject({ status: 'settled', prepaid: true, amount: 10_000n });
    // 402 + paid, then a single paid request: no second 402.
    expect(wall.seen.map((s) => s.paid)).toEqual([false, true, true]);
    expect(signer.calls).toBe(2);
    expect((await paidFetch.budget.report()).map((r) => r.status)).toEqual(['settled', 'settled']);
  });

  it('never carries terms to another host, path or method', async () => {
    const a = settlingPaywall(URL_A);
    const otherPath = settlingPaywall('https://api.example.com/other');
    const otherHost = settlingPaywall('https://evil.example.com/report');
    const { paidFetch } = payer({ prepay: true });
    await paidFetch(URL_A);
    await paidFetch('https://api.example.com/other');
    await paidFetch('https://evil.example.com/report');
    await paidFetch(URL_A, { method: 'POST', body: 'x' });
    expect(otherPath.seen[0]!.paid).toBe(false);
    expect(otherHost.seen[0]!.paid).toBe(false);
    expect(a.seen.map((s) => `${s.method} ${s.paid}`)).toEqual(['GET false', 'GET true', 'POST false', 'POST true']);
  });

  it('forgets the terms after their short life', async () => {
    const wall = settlingPaywall(URL_A);
    const clock = { now: T0 };
    const { paidFetch } = payer({ prepay: { ttlMs: 1_000 }, clock: () => clock.now }, clock);
    await paidFetch(URL_A);
    clock.now += 1_001;
    await paidFetch(URL_A);
    expect(wall.seen.map((s) => s.paid)).toEqual([false, true, false, true]);
  });

  it('does not prepay when the remembered terms no longer pass the budget', async () => {
    const wall = settlingPaywall(URL_A);
    const { paidFetch, signer } = payer({ prepay: true, budget: { daily: '0.01' } });
    await paidFetch(URL_A);
    const error = await paidFetch(URL_A).catch((e: unknown) => e);
    expect(isX402Error(error) && error.code).toBe('budget_exceeded');
    expect(wall.seen.map((s) => s.paid)).toEqual([false, true, false]);
    expect(signer.calls).toBe(1);
  });

  it('after a 402 to the prepaid request (price changed), forgets the terms and pays once more within the budget; the receipt reports both', async () => {
    let price = 10_000;
    const wall = settlingPaywall(URL_A, () => price);
    const { paidFetch, signer } = payer({ prepay: true });
    await paidFetch(URL_A);
    price = 20_000;
    const response = await paidFetch(URL_A);
    const payment = getPayment(response)!;
    expect(payment).toMatchObject({ status: 'settled', amount: 20_000n });
    expect(payment.prepaid).toBeUndefined();
    expect(payment.refusedPrepayment).toMatchObject({ amount: 10_000n, prepaid: true, status: 'unknown' });
    expect(signer.calls).toBe(3);
    // The refused prepayment was sent: it stays counted.
    expect((await paidFetch.budget.report()).map((r) => [r.amount, r.status])).toEqual([
      ['10000', 'settled'],
      ['10000', 'unknown'],
      ['20000', 'settled'],
    ]);
    // Terms are now the new ones: the next call prepays 20000 at once.
    await paidFetch(URL_A);
    expect(wall.seen.map((s) => s.paid)).toEqual([false, true, true, true, true]);
  });

  it('when the second payment would break the budget, the call fails saying money may have moved', async () => {
    let price = 10_000;
    settlingPaywall(URL_A, () => price);
    const { paidFetch, signer } = payer({ prepay: true, budget: { daily: '0.03' } });
    await paidFetch(URL_A);
    price = 20_000;
    const error = await paidFetch(URL_A).catch((e: unknown) => e);
    expect(isX402Error(error) && [error.code, error.moneyMoved]).toEqual(['payment_rejected', 'maybe']);
    expect(signer.calls).toBe(2);
  });

  it('sends the prepaid request with redirect: manual: a redirect is not followed with the payment', async () => {
    settlingPaywall(URL_A);
    const { paidFetch } = payer({ prepay: true });
    await paidFetch(URL_A);
    const leaked: string[] = [];
    server.use(
      http.get(URL_A, () => new HttpResponse(null, { status: 307, headers: { location: 'https://canary.example.com/x' } })),
      http.get('https://canary.example.com/x', ({ request }) => {
        leaked.push(request.headers.get('payment-signature') ?? 'none');
        return HttpResponse.json({});
      }),
    );
    const response = await paidFetch(URL_A);
    expect(response.status).toBe(307);
    expect(leaked).toEqual([]);
    expect(getPayment(response)).toMatchObject({ prepaid: true, status: 'unknown' });
  });

  it('rejects a malformed prepay option at wrapFetch time', () => {
    expect(() => payer({ prepay: { ttlMs: 0 } } as never)).toThrow(/options\.prepay\.ttlMs/);
    expect(() => payer({ prepay: { forever: true } } as never)).toThrow(/options\.prepay\.forever/);
    expect(() => payer({ prepay: 'yes' } as never)).toThrow(/options\.prepay/);
  });
});
