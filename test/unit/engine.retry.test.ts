import { http, HttpResponse } from 'msw';
import { describe, expect, it } from 'vitest';
import { getPayment, PaymentRejectedError, SettlementUnknownError, wrapFetch } from '../../src/index.js';
import { encodeBase64Json } from '../../src/protocol/codec.js';
import { challengeV1, challengeV2, paywall, recordRequest, useMswServer, type SeenRequest } from '../support/msw.js';
import {
  BASE_SEPOLIA_USDC,
  BASE_USDC,
  decodeHeader,
  paymentRequiredV1,
  paymentRequiredV2,
  requirementV1,
  requirementV2,
  settlementHeader,
  testAccount,
} from '../support/challenges.js';
import { BASE_SEPOLIA_USDC_DOMAIN, BASE_USDC_DOMAIN, countingSigner, verifyWirePayload } from '../support/signers.js';
import { rejectionOf } from '../support/secrets.js';

const server = useMswServer();
const URL_ = 'https://api.example.com/premium-data';
const TX = `0x${'ab'.repeat(32)}`;

function serve(challenge: () => Response, paid?: (seen: SeenRequest) => Response | Promise<Response>) {
  const p = paywall({ url: URL_, challenge, paid });
  server.use(p.handler);
  return p;
}

describe('the v1 payment header', () => {
  it('X-PAYMENT decodes to {x402Version:1, scheme, network, payload} with the v1 network name', async () => {
    const p = serve(() => challengeV1(paymentRequiredV1()));
    const signer = countingSigner();
    await wrapFetch(fetch, signer)(URL_);
    const [paid] = p.paid();
    expect(paid!.headers['payment-signature']).toBeUndefined();
    const payment = decodeHeader(paid!.headers['x-payment']!);
    expect(Object.keys(payment)).toEqual(['x402Version', 'scheme', 'network', 'payload']);
    expect(payment.x402Version).toBe(1);
    expect(payment.scheme).toBe('exact');
    expect(payment.network).toBe('base-sepolia');
    expect(Object.keys(payment.payload)).toEqual(['signature', 'authorization']);
    expect(Object.keys(payment.payload.authorization)).toEqual(['from', 'to', 'value', 'validAfter', 'validBefore', 'nonce']);
    expect(await verifyWirePayload(payment.payload, BASE_SEPOLIA_USDC_DOMAIN, testAccount.address)).toBe(true);
    expect(signer.calls).toBe(1);
  });

  it('v1 on Base mainnet sends network "base"', async () => {
    const p = serve(() =>
      challengeV1(paymentRequiredV1([requirementV1({ network: 'base', asset: BASE_USDC, extra: { name: 'USD Coin', version: '2' } })])),
    );
    const res = await wrapFetch(fetch, countingSigner())(URL_);
    const payment = decodeHeader(p.paid()[0]!.headers['x-payment']!);
    expect(payment.network).toBe('base');
    expect(await verifyWirePayload(payment.payload, BASE_USDC_DOMAIN, testAccount.address)).toBe(true);
    expect(getPayment(res)?.network).toBe('eip155:8453');
  });
});

describe('the v2 payment header', () => {
  it('PAYMENT-SIGNATURE decodes to {x402Version:2, resource, accepted, payload, extensions}, extensions echoed (plus the payment id)', async () => {
    const extensions = {
      'payment-identifier': { info: { required: false }, schema: { type: 'object', properties: { id: { type: 'string' } } } },
      bazaar: { info: { input: { q: 'weather' }, output: [1, 'two', null, { deep: ['x'] }] }, note: 'zürich — 東京' },
      empty: {},
    };
    const required = paymentRequiredV2([requirementV2()], { extensions });
    const p = serve(() => challengeV2(required));
    await wrapFetch(fetch, countingSigner())(URL_);
    const payment = decodeHeader(p.paid()[0]!.headers['payment-signature']!);
    expect(Object.keys(payment)).toEqual(['x402Version', 'resource', 'accepted', 'payload', 'extensions']);
    expect(payment.x402Version).toBe(2);
    expect(payment.resource).toEqual(required.resource);
    expect(payment.accepted).toEqual((required.accepts as unknown[])[0]);
    // Every extension is echoed as received; payment-identifier gets the client's id added to its info.
    const id = payment.extensions['payment-identifier'].info.id;
    expect(id).toMatch(/^pay_[0-9a-f]{32}$/);
    const expected = { ...extensions, 'payment-identifier': { ...extensions['payment-identifier'], info: { required: false, id } } };
    expect(payment.extensions).toEqual(expected);
    expect(JSON.stringify(payment.extensions)).toBe(JSON.stringify(expected));
    expect(await verifyWirePayload(payment.payload, BASE_SEPOLIA_USDC_DOMAIN, testAccount.address)).toBe(true);
  });

  it('no extensions in the challenge → no extensions key', async () => {
    const p = serve(() => challengeV2(paymentRequiredV2()));
    await wrapFetch(fetch, countingSigner())(URL_);
    const payment = decodeHeader(p.paid()[0]!.headers['payment-signature']!);
    expect(Object.keys(payment)).toEqual(['x402Version', 'resource', 'accepted', 'payload']);
  });

  it('unknown keys in the requirement and the resource are echoed unmodified (deep-equal matching)', async () => {
    const requirement = { ...requirementV2(), 'x-vendor': { tier: 'gold', list: [3, 2, 1] }, extra: { name: 'USDC', version: '2', note: 'keep me' } };
    const resource = { url: URL_, description: '', mimeType: '', 'x-extra': true };
    const required = paymentRequiredV2([requirement], { resource });
    const p = serve(() => challengeV2(required));
    await wrapFetch(fetch, countingSigner())(URL_);
    const payment = decodeHeader(p.paid()[0]!.headers['payment-signature']!);
    expect(payment.accepted).toEqual(requirement);
    expect(JSON.stringify(payment.accepted)).toBe(JSON.stringify(requirement));
    expect(payment.resource).toEqual(resource);
  });
});

describe('request headers', () => {
  for (const version of [1, 2] as const) {
    it(`v${version}: no Access-Control-Expose-Headers request header is ever sent`, async () => {
      const p = serve(() => (version === 1 ? challengeV1(paymentRequiredV1()) : challengeV2(paymentRequiredV2())));
      await wrapFetch(fetch, countingSigner())(URL_);
      expect(p.seen).toHaveLength(2);
      for (const seen of p.seen) {
        expect(Object.keys(seen.headers)).not.toContain('access-control-expose-headers');
      }
      // The only header the paid request adds is the payment header.
      const added = Object.keys(p.seen[1]!.headers).filter((h) => !(h in p.seen[0]!.headers));
      expect(added).toEqual([version === 1 ? 'x-payment' : 'payment-signature']);
    });
  }
});

describe('the paid request never follows a redirect', () => {
  it('a 307 to another origin is returned, not followed; receipt unknown', async () => {
    let otherOriginHits = 0;
    server.use(http.all('https://evil.example.net/*', () => {
      otherOriginHits++;
      return HttpResponse.json({ stolen: true });
    }));
    const p = serve(
      () => challengeV2(paymentRequiredV2()),
      () => new HttpResponse(null, { status: 307, headers: { Location: 'https://evil.example.net/collect' } }),
    );
    const signer = countingSigner();
    const res = await wrapFetch(fetch, signer)(URL_);
    expect(res.status).toBe(307);
    expect(res.headers.get('location')).toBe('https://evil.example.net/collect');
    expect(otherOriginHits).toBe(0);
    expect(p.paid()).toHaveLength(1);
    expect(p.paid()[0]!.redirect).toBe('manual');
    expect(signer.calls).toBe(1);
    const payment = getPayment(res);
    expect(payment?.status).toBe('unknown');
    expect(payment?.amount).toBe(10000n);
  });

  it('a 402 reached through a redirect is paid at the URL that answered 402', async () => {
    const first: SeenRequest[] = [];
    server.use(
      http.get('https://api.example.com/old', async ({ request }) => {
        first.push(await recordRequest(request));
        return new HttpResponse(null, { status: 302, headers: { Location: URL_ } });
      }),
    );
    const p = serve(() => challengeV2(paymentRequiredV2()));
    const res = await wrapFetch(fetch, countingSigner())('https://api.example.com/old', { headers: { Authorization: 'Bearer t', 'X-Custom': 'c' } });
    expect(res.status).toBe(200);
    expect(first).toHaveLength(1);
    expect(first[0]!.paid).toBe(false);
    expect(p.seen).toHaveLength(2);
    expect(p.paid()).toHaveLength(1);
    expect(p.paid()[0]!.headers).toMatchObject({ authorization: 'Bearer t', 'x-custom': 'c' });
    expect(p.paid()[0]!.redirect).toBe('manual');
  });
});

describe('the URL that answered 402 differs from the one written', () => {
  it('a bare origin (the answer URL gains a "/"): method, headers and body kept', async () => {
    const p = paywall({ url: 'https://api.example.com/', method: 'post', challenge: () => challengeV2(paymentRequiredV2()) });
    server.use(p.handler);
    const res = await wrapFetch(fetch, countingSigner())('https://api.example.com', {
      method: 'POST',
      body: '{"q":1}',
      headers: { 'Content-Type': 'application/json', Authorization: 'Bearer t' },
    });
    expect(res.status).toBe(200);
    expect(p.seen).toHaveLength(2);
    for (const seen of p.seen) {
      expect(seen.method).toBe('POST');
      expect(seen.text).toBe('{"q":1}');
      expect(seen.headers).toMatchObject({ 'content-type': 'application/json', authorization: 'Bearer t' });
    }
    expect(p.paid()[0]!.redirect).toBe('manual');
  });

  it('a Request redirected to the 402: its method, headers and credentials are kept', async () => {
    server.use(http.all('https://api.example.com/old', () => new HttpResponse(null, { status: 303, headers: { Location: URL_ } })));
    const p = paywall({ url: URL_, challenge: () => challengeV2(paymentRequiredV2()) });
    server.use(p.handler);
    const request = new Request('https://api.example.com/old', { headers: { 'X-Custom': 'c' }, credentials: 'include' });
    const res = await wrapFetch(fetch, countingSigner())(request);
    expect(res.status).toBe(200);
    expect(p.seen).toHaveLength(2);
    expect(p.paid()[0]!.headers['x-custom']).toBe('c');
    expect(p.paid()[0]!.credentials).toBe('include');
    expect(p.paid()[0]!.method).toBe('GET');
  });
});

describe('a 402 answering the paid request → PaymentRejectedError, never paid twice', () => {
  async function rejected(paid: (seen: SeenRequest) => Response, version: 1 | 2 = 2) {
    const p = serve(() => (version === 1 ? challengeV1(paymentRequiredV1()) : challengeV2(paymentRequiredV2())), paid);
    const signer = countingSigner();
    const error = await rejectionOf(wrapFetch(fetch, signer)(URL_));
    expect(error).toBeInstanceOf(PaymentRejectedError);
    expect(error.code).toBe('payment_rejected');
    expect(error.moneyMoved).toBe('maybe');
    expect(error.status).toBe(402);
    expect(error.response.status).toBe(402);
    expect(p.seen).toHaveLength(2);
    expect(p.paid()).toHaveLength(1);
    expect(signer.calls).toBe(1);
    return error as PaymentRejectedError;
  }

  it('v2 settle failure: reason from PAYMENT-RESPONSE errorReason', async () => {
    const error = await rejected(() =>
      HttpResponse.json({}, {
        status: 402,
        headers: {
          'PAYMENT-RESPONSE': settlementHeader({
            success: false,
            errorReason: 'invalid_exact_evm_insufficient_balance',
            errorMessage: 'balance too low',
            transaction: '',
            network: 'eip155:84532',
            payer: testAccount.address,
          }),
        },
      }),
    );
    expect(error.reason).toBe('invalid_exact_evm_insufficient_balance');
    expect(error.payment.status).toBe('failed');
    expect(error.payment.reason).toBe('invalid_exact_evm_insufficient_balance');
    expect(error.payment.amount).toBe(10000n);
    expect(error.message).toContain('invalid_exact_evm_insufficient_balance');
  });

  it('v2 settle failure with only errorMessage', async () => {
    const error = await rejected(() =>
      HttpResponse.json({}, { status: 402, headers: { 'PAYMENT-RESPONSE': settlementHeader({ success: false, errorMessage: 'nonce used', transaction: '', network: 'eip155:84532' }) } }),
    );
    expect(error.reason).toBe('nonce used');
  });

  it('v2 verify failure: reason from the new PAYMENT-REQUIRED error', async () => {
    const error = await rejected(() => challengeV2({ ...paymentRequiredV2(), error: 'invalid_exact_evm_signature' }));
    expect(error.reason).toBe('invalid_exact_evm_signature');
    expect(error.payment.status).toBe('unknown');
  });

  it('v1: reason from the body error', async () => {
    const error = await rejected(() => challengeV1({ ...paymentRequiredV1(), error: 'insufficient_funds', payer: testAccount.address }), 1);
    expect(error.reason).toBe('insufficient_funds');
  });

  it('no reason anywhere: "no reason given"', async () => {
    const error = await rejected(() => new HttpResponse(null, { status: 402 }));
    expect(error.reason).toBe('no reason given');
  });

  it('a huge streamed 402 body after paying neither hangs nor is read in full', async () => {
    let pulled = 0;
    const error = await rejected(() => {
      const stream = new ReadableStream<Uint8Array>({
        pull(controller) {
          if (pulled >= 10 * 1024 * 1024) return controller.close();
          pulled += 16 * 1024;
          controller.enqueue(new Uint8Array(16 * 1024).fill(0x20));
        },
      });
      return new HttpResponse(stream, { status: 402 });
    });
    expect(error.reason).toBe('no reason given');
    expect(pulled).toBeLessThan(1024 * 1024);
  });

  it('the error keeps the 402 body readable', async () => {
    const error = await rejected(() => HttpResponse.json({ error: 'nope', detail: 'x' }, { status: 402 }));
    expect(error.reason).toBe('nope');
    expect(await error.response.json()).toEqual({ error: 'nope', detail: 'x' });
  });

  it('a second call pays again (once), a fresh nonce each time', async () => {
    const p = serve(() => challengeV2(paymentRequiredV2()), () => challengeV2({ ...paymentRequiredV2(), error: 'invalid_exact_evm_signature' }));
    const signer = countingSigner();
    const paidFetch = wrapFetch(fetch, signer);
    await rejectionOf(paidFetch(URL_));
    await rejectionOf(paidFetch(URL_));
    expect(p.seen).toHaveLength(4);
    expect(p.paid()).toHaveLength(2);
    expect(signer.calls).toBe(2);
    const [a, b] = p.paid().map((s) => decodeHeader(s.headers['payment-signature']!).payload.authorization.nonce);
    expect(a).not.toBe(b);
  });
});

describe('outcome unknown after sending', () => {
  it('a network error on the paid request → SettlementUnknownError', async () => {
    const p = serve(() => challengeV2(paymentRequiredV2()), () => HttpResponse.error());
    const signer = countingSigner();
    const now = 1_750_000_000_000;
    const error = await rejectionOf(wrapFetch(fetch, signer, { clock: () => now })(URL_));
    expect(error).toBeInstanceOf(SettlementUnknownError);
    expect(error.code).toBe('settlement_unknown');
    expect(error.moneyMoved).toBe('maybe');
    expect(error.validBefore).toBe(1_750_000_060n);
    expect(error.quote.amount).toBe(10000n);
    expect(error.response).toBeUndefined();
    expect(error.cause).toBeInstanceOf(TypeError);
    // A GET may be repeated: sent once more, as the very same header, before giving up.
    expect(error.sends).toBe(2);
    expect(p.paid()).toHaveLength(2);
    expect(p.paid()[1]!.headers['payment-signature']).toBe(p.paid()[0]!.headers['payment-signature']);
    expect(signer.calls).toBe(1);
    // What to look up on chain is exactly what was sent: the token, the authorizer and the nonce.
    const sent = decodeHeader(p.paid()[0]!.headers['payment-signature']!).payload.authorization;
    expect(error.authorization).toEqual({ network: 'eip155:84532', token: BASE_SEPOLIA_USDC, from: sent.from, nonce: sent.nonce, validBefore: 1_750_000_060n });
    expect(error.message).toContain(`nonce: ${sent.nonce}`);
    expect(error.message).not.toContain(decodeHeader(p.paid()[0]!.headers['payment-signature']!).payload.signature);
  });

  it('a paid answer and a refusal carry the authorization that was sent', async () => {
    let refuse = false;
    const p = serve(
      () => challengeV2(paymentRequiredV2()),
      () => (refuse ? challengeV2(paymentRequiredV2([requirementV2()], { error: 'insufficient_funds' })) : HttpResponse.json({ ok: true })),
    );
    const paidFetch = wrapFetch(fetch, countingSigner(), { clock: () => 1_750_000_000_000 });
    const payment = getPayment(await paidFetch(URL_))!;
    refuse = true;
    const error = await rejectionOf(paidFetch(URL_));
    expect(error).toBeInstanceOf(PaymentRejectedError);
    const [first, second] = p.paid().map((s) => decodeHeader(s.headers['payment-signature']!).payload.authorization);
    expect(payment.authorization).toEqual({ network: 'eip155:84532', token: BASE_SEPOLIA_USDC, from: first.from, nonce: first.nonce, validBefore: 1_750_000_060n });
    expect(error.payment.authorization).toMatchObject({ from: second.from, nonce: second.nonce });
    // The JSON form keeps it, with the expiry as a decimal string.
    expect(JSON.parse(JSON.stringify(payment)).authorization).toEqual({ ...payment.authorization, validBefore: '1750000060' });
  });

  for (const status of [500, 502, 503]) {
    it(`a ${status} after sending → SettlementUnknownError with the response`, async () => {
      const p = serve(() => challengeV2(paymentRequiredV2()), () => HttpResponse.json({ error: 'facilitator down' }, { status }));
      const error = await rejectionOf(wrapFetch(fetch, countingSigner())(URL_));
      expect(error).toBeInstanceOf(SettlementUnknownError);
      expect(error.code).toBe('settlement_unknown');
      expect(error.moneyMoved).toBe('maybe');
      expect(error.response.status).toBe(status);
      expect(error.message).toContain(`HTTP ${status}, sent 2 times with the same payment`);
      expect(p.paid()).toHaveLength(2);
      expect(new Set(p.paid().map((r) => r.headers['payment-signature'])).size).toBe(1);
    });
  }

  it('a 500 that carries a settled receipt is returned with the payment, and not sent again', async () => {
    const p = serve(
      () => challengeV2(paymentRequiredV2()),
      () => HttpResponse.json({ error: 'handler crashed' }, {
        status: 500,
        headers: { 'PAYMENT-RESPONSE': settlementHeader({ success: true, transaction: TX, network: 'eip155:84532', payer: testAccount.address }) },
      }),
    );
    const res = await wrapFetch(fetch, countingSigner())(URL_);
    expect(res.status).toBe(500);
    expect(getPayment(res)).toMatchObject({ status: 'settled', transaction: TX });
    expect(p.paid()).toHaveLength(1);
  });

  it('a 4xx other than 402 after paying is returned with an unknown receipt', async () => {
    serve(() => challengeV2(paymentRequiredV2()), () => HttpResponse.json({ error: 'forbidden' }, { status: 403 }));
    const res = await wrapFetch(fetch, countingSigner())(URL_);
    expect(res.status).toBe(403);
    expect(await res.json()).toEqual({ error: 'forbidden' });
    expect(getPayment(res)?.status).toBe('unknown');
  });
});

describe('the payment header is a bearer value', () => {
  it('the PAYMENT-SIGNATURE sent is standard padded base64 of compact JSON', async () => {
    const p = serve(() => challengeV2(paymentRequiredV2()));
    await wrapFetch(fetch, countingSigner())(URL_);
    const value = p.paid()[0]!.headers['payment-signature']!;
    expect(value).toMatch(/^[A-Za-z0-9+/]*={0,2}$/);
    expect(value.length % 4).toBe(0);
    expect(encodeBase64Json(decodeHeader(value))).toBe(value);
  });
});
