import { HttpResponse } from 'msw';
import { describe, expect, it } from 'vitest';
import { getPayment, PaymentRejectedError, wrapFetch, type WalletInput } from '../../src/index.js';
import { encodeBase64Json } from '../../src/protocol/codec.js';
import { challengeV1, challengeV2, paywall, useMswServer } from '../support/msw.js';
import {
  BASE_SEPOLIA_USDC,
  PAY_TO,
  paymentRequiredV1,
  paymentRequiredV2,
  settlementHeader,
  testAccount,
  V4_FAILURE_HEADER,
  V4_SUCCESS_HEADER,
  V4_SUCCESS_JSON,
  V4_TX,
  V5_PAYER,
  V5_SIGNATURE,
} from '../support/challenges.js';
import { countingSigner } from '../support/signers.js';
import { rejectionOf } from '../support/secrets.js';

const server = useMswServer();
const URL_ = 'https://api.example.com/premium-data';
const TX = `0x${'cd'.repeat(32)}`;

/**
 * A signer for the spec's payer 0x857b…6b66, whose key nobody has: it returns the spec's signature.
 * The servers here do not verify signatures, so the §9 V4 receipts (payer 0x857b…) can be used verbatim.
 */
const specPayer: WalletInput = { address: V5_PAYER, signTypedData: async () => V5_SIGNATURE };

/** Pays a challenge (v2 by default) and answers the paid request with `status` and `headers`. */
async function paidWith(headers: Record<string, string>, opts: { version?: 1 | 2; status?: number; wallet?: WalletInput } = {}) {
  const version = opts.version ?? 2;
  const p = paywall({
    url: URL_,
    challenge: () => (version === 2 ? challengeV2(paymentRequiredV2()) : challengeV1(paymentRequiredV1())),
    paid: () => HttpResponse.json({ data: 'paid content' }, { status: opts.status ?? 200, headers }),
  });
  server.use(p.handler);
  const res = await wrapFetch(fetch, opts.wallet ?? testAccount)(URL_);
  expect(p.paid()).toHaveLength(1);
  return res;
}

const ours = (fields: Record<string, unknown>) => settlementHeader({ success: true, transaction: TX, network: 'eip155:84532', payer: testAccount.address, ...fields });

describe('PROTOCOL §9 V4 receipts', () => {
  it('v2 success vector → settled, with the transaction', async () => {
    const res = await paidWith({ 'PAYMENT-RESPONSE': V4_SUCCESS_HEADER }, { wallet: specPayer });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ data: 'paid content' });
    const payment = getPayment(res)!;
    expect(payment.status).toBe('settled');
    expect(payment.transaction).toBe(V4_TX);
    expect(payment.payer).toBe(V5_PAYER);
    expect(payment.network).toBe('eip155:84532');
    expect(payment.amount).toBe(10000n);
    expect(typeof payment.amount).toBe('bigint');
    expect(payment.asset).toBe(BASE_SEPOLIA_USDC);
    expect(payment.payTo).toBe(PAY_TO);
    expect(payment.reason).toBeUndefined();
  });

  it('v1 success vector (network "base-sepolia") → settled, network given as CAIP-2', async () => {
    const v1Receipt = encodeBase64Json({ ...JSON.parse(V4_SUCCESS_JSON), network: 'base-sepolia' });
    const res = await paidWith({ 'X-PAYMENT-RESPONSE': v1Receipt }, { version: 1, wallet: specPayer });
    const payment = getPayment(res)!;
    expect(payment.status).toBe('settled');
    expect(payment.transaction).toBe(V4_TX);
    expect(payment.network).toBe('eip155:84532');
    expect(payment.amount).toBe(10000n);
  });

  it('v2 failure vector on a 402 → PaymentRejectedError with the reason, payment failed', async () => {
    const p = paywall({
      url: URL_,
      challenge: () => challengeV2(paymentRequiredV2()),
      paid: () => HttpResponse.json({}, { status: 402, headers: { 'PAYMENT-RESPONSE': V4_FAILURE_HEADER } }),
    });
    server.use(p.handler);
    const error = await rejectionOf(wrapFetch(fetch, specPayer)(URL_));
    expect(error).toBeInstanceOf(PaymentRejectedError);
    expect(error.reason).toBe('insufficient_funds');
    expect(error.payment.status).toBe('failed');
    expect(error.payment.reason).toBe('insufficient_funds');
    expect(error.payment.transaction).toBeUndefined();
  });

  it('v2 failure vector on a 200 → getPayment says failed, with the reason', async () => {
    const payment = getPayment(await paidWith({ 'PAYMENT-RESPONSE': V4_FAILURE_HEADER }, { wallet: specPayer }))!;
    expect(payment.status).toBe('failed');
    expect(payment.reason).toBe('insufficient_funds');
  });

  it('the V4 receipt names another payer than ours → unknown', async () => {
    const payment = getPayment(await paidWith({ 'PAYMENT-RESPONSE': V4_SUCCESS_HEADER }))!;
    expect(payment.status).toBe('unknown');
    expect(payment.transaction).toBeUndefined();
    expect(payment.payer).toBe(testAccount.address);
  });
});

describe('receipts built for our payer', () => {
  it('v2 success', async () => {
    const payment = getPayment(await paidWith({ 'PAYMENT-RESPONSE': ours({}) }))!;
    expect(payment).toMatchObject({ status: 'settled', transaction: TX, network: 'eip155:84532', payer: testAccount.address, amount: 10000n });
  });

  it('v1 success via X-PAYMENT-RESPONSE', async () => {
    const payment = getPayment(await paidWith({ 'X-PAYMENT-RESPONSE': ours({ network: 'base-sepolia' }) }, { version: 1 }))!;
    expect(payment).toMatchObject({ status: 'settled', transaction: TX, network: 'eip155:84532' });
  });

  it('payer in lower case still matches', async () => {
    expect(getPayment(await paidWith({ 'PAYMENT-RESPONSE': ours({ payer: testAccount.address.toLowerCase() }) }))!.status).toBe('settled');
  });

  it('no payer and no network in the receipt → settled (nothing contradicts)', async () => {
    const header = settlementHeader({ success: true, transaction: TX });
    expect(getPayment(await paidWith({ 'PAYMENT-RESPONSE': header }))!.status).toBe('settled');
  });

  it('a receipt on another network → unknown', async () => {
    expect(getPayment(await paidWith({ 'PAYMENT-RESPONSE': ours({ network: 'eip155:8453' }) }))!.status).toBe('unknown');
  });

  it('a v1 receipt with an unknown network name → unknown', async () => {
    expect(getPayment(await paidWith({ 'X-PAYMENT-RESPONSE': ours({ network: 'base-sepolia-2' }) }, { version: 1 }))!.status).toBe('unknown');
  });

  it('a success receipt with no transaction hash → unknown', async () => {
    expect(getPayment(await paidWith({ 'PAYMENT-RESPONSE': ours({ transaction: '' }) }))!.status).toBe('unknown');
    server.resetHandlers();
    expect(getPayment(await paidWith({ 'PAYMENT-RESPONSE': ours({ transaction: '0x1234' }) }))!.status).toBe('unknown');
  });

  it('a failure receipt without a reason → failed, "settlement failed"', async () => {
    const payment = getPayment(await paidWith({ 'PAYMENT-RESPONSE': settlementHeader({ success: false, transaction: '', network: 'eip155:84532' }) }))!;
    expect(payment.status).toBe('failed');
    expect(payment.reason).toBe('settlement failed');
  });

  it('PAYMENT-RESPONSE is read before X-PAYMENT-RESPONSE', async () => {
    const payment = getPayment(
      await paidWith({ 'PAYMENT-RESPONSE': ours({}), 'X-PAYMENT-RESPONSE': settlementHeader({ success: false, errorReason: 'x' }) }),
    )!;
    expect(payment.status).toBe('settled');
  });

  it('the receipt carries the frozen quote that was signed', async () => {
    const payment = getPayment(await paidWith({ 'PAYMENT-RESPONSE': ours({}) }))!;
    expect(Object.isFrozen(payment)).toBe(true);
    expect(payment.quote.amount).toBe(10000n);
    expect(payment.quote.option.wire).toEqual((paymentRequiredV2().accepts as unknown[])[0]);
    expect(payment.quote.network).toBe('eip155:84532');
  });
});

describe('absent or garbled receipts are unknown, never a crash', () => {
  it('absent header → unknown', async () => {
    const res = await paidWith({});
    expect(res.status).toBe(200);
    const payment = getPayment(res)!;
    expect(payment.status).toBe('unknown');
    expect(payment.amount).toBe(10000n);
  });

  const garbled: [string, string][] = [
    ['bad base64', '%%%not-base64%%%'],
    ['base64url', ours({}).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '') + '-_'],
    ['base64 of non-JSON', Buffer.from('success=true').toString('base64')],
    ['base64 of invalid UTF-8', Buffer.from([0x7b, 0xff, 0x7d]).toString('base64')],
    ['JSON null', encodeBase64Json(null)],
    ['JSON array', encodeBase64Json([true])],
    ['success as a string', encodeBase64Json({ success: 'true', transaction: TX })],
    ['transaction as a number', encodeBase64Json({ success: true, transaction: 12345 })],
    ['payer as a number', encodeBase64Json({ success: true, transaction: TX, payer: 5 })],
    ['payer not an address', encodeBase64Json({ success: true, transaction: TX, payer: 'me' })],
    ['network as an object', encodeBase64Json({ success: true, transaction: TX, network: { id: 1 } })],
    ['amount not atomic', encodeBase64Json({ success: true, transaction: TX, amount: '1.5' })],
    ['huge', encodeBase64Json({ success: true, transaction: TX, pad: 'x'.repeat(20_000) })],
  ];
  for (const [label, value] of garbled) {
    it(label, async () => {
      const res = await paidWith({ 'PAYMENT-RESPONSE': value });
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ data: 'paid content' });
      expect(getPayment(res)!.status).toBe('unknown');
      expect(getPayment(res)!.transaction).toBeUndefined();
    });
  }
});

describe('getPayment', () => {
  it('is undefined for an unpaid response', async () => {
    server.use(paywall({ url: URL_, challenge: () => HttpResponse.json({ free: true }) }).handler);
    const res = await wrapFetch(fetch, countingSigner())(URL_);
    expect(res.status).toBe(200);
    expect(getPayment(res)).toBeUndefined();
  });

  it('is undefined for any response not from a wrapped fetch, and for non-objects', () => {
    expect(getPayment(new Response('x'))).toBeUndefined();
    expect(getPayment(null as unknown as Response)).toBeUndefined();
    expect(getPayment('response' as unknown as Response)).toBeUndefined();
  });

  it('the payment is not an enumerable property of the response', async () => {
    const res = await paidWith({ 'PAYMENT-RESPONSE': ours({}) });
    expect(Object.keys(res)).toEqual([]);
    expect(getPayment(res)).toBeDefined();
  });
});
