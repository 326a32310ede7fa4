import { http, HttpResponse } from 'msw';
import { describe, expect, it } from 'vitest';
import { verifyTypedData } from 'viem';
import { wrapFetch, getPayment } from '../../src/index.js';
import { useMswServer } from '../support/msw.js';
import { decodeHeader, paymentRequiredV2, settlementHeader, testAccount, v2Headers, paymentRequiredV1 } from '../support/challenges.js';
import { TRANSFER_WITH_AUTHORIZATION } from '../../src/schemes/exactEvm.js';

const server = useMswServer();
const TX = `0x${'ab'.repeat(32)}`;

describe('smoke', () => {
  it('pays v2', async () => {
    const required = paymentRequiredV2();
    const seen: any[] = [];
    server.use(
      http.get('https://api.example.com/premium-data', ({ request }) => {
        const sig = request.headers.get('payment-signature');
        if (!sig) return HttpResponse.json({}, { status: 402, headers: v2Headers(required) });
        seen.push(decodeHeader(sig));
        return HttpResponse.json({ ok: true }, {
          headers: { 'PAYMENT-RESPONSE': settlementHeader({ success: true, transaction: TX, network: 'eip155:84532', payer: testAccount.address }) },
        });
      }),
    );
    const paidFetch = wrapFetch(fetch, testAccount);
    const res = await paidFetch('https://api.example.com/premium-data');
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ ok: true });
    const p = seen[0];
    expect(p.accepted).toEqual((required.accepts as any[])[0]);
    const a = p.payload.authorization;
    const valid = await verifyTypedData({
      address: testAccount.address,
      domain: { name: 'USDC', version: '2', chainId: 84532, verifyingContract: '0x036CbD53842c5426634e7929541eC2318f3dCF7e' },
      types: { TransferWithAuthorization: TRANSFER_WITH_AUTHORIZATION },
      primaryType: 'TransferWithAuthorization',
      message: { ...a, value: BigInt(a.value), validAfter: BigInt(a.validAfter), validBefore: BigInt(a.validBefore) },
      signature: p.payload.signature,
    });
    expect(valid).toBe(true);
    expect(getPayment(res)).toMatchObject({ status: 'settled', amount: 10000n, transaction: TX });
  });

  it('pays v1 with a POST body', async () => {
    server.use(
      http.post('https://api.example.com/premium-data', async ({ request }) => {
        const body = await request.text();
        const x = request.headers.get('x-payment');
        if (!x) return HttpResponse.json(paymentRequiredV1(), { status: 402 });
        return HttpResponse.json({ body, p: decodeHeader(x) });
      }),
    );
    const paidFetch = wrapFetch(fetch, testAccount);
    const res = await paidFetch('https://api.example.com/premium-data', { method: 'POST', body: JSON.stringify({ a: 1 }), headers: { 'content-type': 'application/json' } });
    const json = await res.json();
    expect(json.body).toBe('{"a":1}');
    expect(json.p.network).toBe('base-sepolia');
    expect(getPayment(res)?.status).toBe('unknown');
  });
});
