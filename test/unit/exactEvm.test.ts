import { HttpResponse } from 'msw';
import { describe, expect, it } from 'vitest';
import { domainSeparator, getAddress, hashStruct, hashTypedData, recoverTypedDataAddress, verifyTypedData, type Hex } from 'viem';
import { wrapFetch, type WrapFetchOptions } from '../../src/index.js';
import { readChallenge } from '../../src/protocol/read.js';
import { selectQuote, type Quote } from '../../src/select.js';
import { resolveOptions } from '../../src/options.js';
import { signExactEvm, transferAuthorization, TRANSFER_WITH_AUTHORIZATION, VALID_AFTER_SKEW_SECONDS } from '../../src/schemes/exactEvm.js';
import { toWallet } from '../../src/wallets/toWallet.js';
import { KNOWN_ASSETS } from '../../src/protocol/assets.js';
import { challengeV2, paywall, useMswServer } from '../support/msw.js';
import {
  decodeHeader,
  PAY_TO,
  paymentRequiredV1,
  paymentRequiredV2,
  requirementV1,
  requirementV2,
  testAccount,
  V2_HEADER,
  V5_DIGEST,
  V5_DOMAIN,
  V5_DOMAIN_SEPARATOR,
  V5_MESSAGE,
  V5_PAYER,
  V5_SIGNATURE,
  V6_DIGEST,
  V6_SIGNATURE,
} from '../support/challenges.js';
import { BASE_SEPOLIA_USDC_DOMAIN, countingSigner, verifyWirePayload, type WirePayload } from '../support/signers.js';

const server = useMswServer();
const URL_ = 'https://api.example.com/premium-data';
const types = { TransferWithAuthorization: TRANSFER_WITH_AUTHORIZATION };

/** The quote the client freezes for the PROTOCOL §9 V2 challenge. */
async function v2VectorQuote(): Promise<Quote> {
  const response = new Response('{}', { status: 402, headers: { 'PAYMENT-REQUIRED': V2_HEADER } });
  const challenge = await readChallenge(response, URL_, { maxBodyBytes: 65536, maxHeaderBytes: 16384, versions: [1, 2] });
  const options = resolveOptions();
  return selectQuote(challenge, { url: URL_, assets: options.assets, check: () => undefined });
}

/** Pays one challenge through the wrapped fetch and returns the decoded payment. */
async function payOnce(accepts: Record<string, unknown>[], options?: WrapFetchOptions, signer = countingSigner()) {
  const p = paywall({ url: URL_, challenge: () => challengeV2(paymentRequiredV2(accepts)) });
  server.use(p.handler);
  const res = await wrapFetch(fetch, signer, options)(URL_);
  expect(res.status).toBe(200);
  expect(p.paid()).toHaveLength(1);
  return decodeHeader(p.paid()[0]!.headers['payment-signature']!) as { accepted: Record<string, unknown>; payload: WirePayload };
}

describe('PROTOCOL §9 V5: the spec’s known-good typed data', () => {
  it('domain separator, struct hash and digest', () => {
    expect(domainSeparator({ domain: V5_DOMAIN })).toBe(V5_DOMAIN_SEPARATOR);
    expect(hashStruct({ data: V5_MESSAGE, primaryType: 'TransferWithAuthorization', types })).toBe(
      '0x49ad644555c7bdf3ea4fc022a4940ae5589b230b1dde0065c5504fa19bbe39a4',
    );
    expect(hashTypedData({ domain: V5_DOMAIN, types, primaryType: 'TransferWithAuthorization', message: V5_MESSAGE })).toBe(V5_DIGEST);
  });

  it('the spec signature recovers to 0x857b…6b66', async () => {
    const recovered = await recoverTypedDataAddress({
      domain: V5_DOMAIN,
      types,
      primaryType: 'TransferWithAuthorization',
      message: V5_MESSAGE,
      signature: V5_SIGNATURE,
    });
    expect(recovered).toBe('0x857b06519E91e3A54538791bDbb0E22373e36b66');
    expect(
      await verifyTypedData({ address: V5_PAYER, domain: V5_DOMAIN, types, primaryType: 'TransferWithAuthorization', message: V5_MESSAGE, signature: V5_SIGNATURE }),
    ).toBe(true);
  });

  it('our type list is the EIP-3009 one (typehash 0x7c7c…2267)', () => {
    expect(TRANSFER_WITH_AUTHORIZATION.map((f) => `${f.type} ${f.name}`).join(',')).toBe(
      'address from,address to,uint256 value,uint256 validAfter,uint256 validBefore,bytes32 nonce',
    );
  });
});

describe('PROTOCOL §9 V6: signing with a known key', () => {
  it('transferAuthorization builds the V5 domain and types from the V2 challenge', async () => {
    const quote = await v2VectorQuote();
    const typed = transferAuthorization({ quote, from: testAccount.address, nowSeconds: 1740672689n, maxAuthSeconds: 300, nonce: V5_MESSAGE.nonce });
    expect(typed.domain).toEqual(V5_DOMAIN);
    expect(typed.primaryType).toBe('TransferWithAuthorization');
    expect(typed.types).toEqual(types);
    expect(typed.message).toEqual({
      from: testAccount.address,
      to: V5_MESSAGE.to,
      value: 10000n,
      validAfter: 1740672089n,
      validBefore: 1740672689n + 60n,
      nonce: V5_MESSAGE.nonce,
    });
  });

  it('validBeforeAtMost (the bound planned at reservation) caps validBefore, and never extends it', async () => {
    const quote = await v2VectorQuote();
    const at = (validBeforeAtMost: bigint) =>
      transferAuthorization({ quote, from: testAccount.address, nowSeconds: 1740672689n, maxAuthSeconds: 300, nonce: V5_MESSAGE.nonce, validBeforeAtMost }).message.validBefore;
    expect(at(1740672689n + 45n)).toBe(1740672689n + 45n);
    expect(at(1740672689n + 60n)).toBe(1740672689n + 60n);
    expect(at(1740672689n + 90n)).toBe(1740672689n + 60n);
  });

  it('digest 0x5070…dc86 and signature 0xdc53…2f1b exactly', async () => {
    const quote = await v2VectorQuote();
    const built = transferAuthorization({ quote, from: testAccount.address, nowSeconds: 1740672689n, maxAuthSeconds: 300, nonce: V5_MESSAGE.nonce });
    // V6 keeps V5's window (65 s, set by the spec's example), which no clock can produce: pin it.
    const typed = { ...built, message: { ...built.message, validAfter: V5_MESSAGE.validAfter, validBefore: V5_MESSAGE.validBefore } };
    expect(hashTypedData(typed)).toBe(V6_DIGEST);
    expect(await toWallet(testAccount, KNOWN_ASSETS).signTypedData(typed)).toBe(V6_SIGNATURE);
    expect(await testAccount.signTypedData(typed)).toBe(V6_SIGNATURE);
    expect(await recoverTypedDataAddress({ ...typed, signature: V6_SIGNATURE })).toBe('0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266');
  });

  it('signExactEvm calls the wallet once and returns the payload with decimal strings', async () => {
    const quote = await v2VectorQuote();
    const signer = countingSigner();
    const signed = await signExactEvm({ quote, wallet: toWallet(signer, KNOWN_ASSETS), from: testAccount.address, nowSeconds: 1740672689n, maxAuthSeconds: 300 });
    expect(signer.calls).toBe(1);
    expect(signed.payload.authorization).toEqual({
      from: testAccount.address,
      to: PAY_TO,
      value: '10000',
      validAfter: '1740672089',
      validBefore: '1740672749',
      nonce: expect.stringMatching(/^0x[0-9a-f]{64}$/),
    });
    // Where to look it up on chain: the same authorizer, nonce and expiry, on the quote's token.
    expect(signed.authorization).toEqual({
      network: 'eip155:84532',
      token: BASE_SEPOLIA_USDC_DOMAIN.verifyingContract,
      from: testAccount.address,
      nonce: signed.payload.authorization.nonce,
      validBefore: 1740672749n,
    });
    expect(Object.isFrozen(signed.authorization)).toBe(true);
    expect(Object.keys(signed.payload)).toEqual(['signature', 'authorization']);
    expect(await verifyWirePayload(signed.payload, BASE_SEPOLIA_USDC_DOMAIN, testAccount.address)).toBe(true);
  });
});

describe('authorization window', () => {
  const NOW_MS = 1_750_000_000_123;
  const NOW = 1_750_000_000n;
  const clock = () => NOW_MS;

  it('the client caps the life at maxAuthSeconds (default 300) when the server asks for 7 days', async () => {
    const { payload } = await payOnce([requirementV2({ maxTimeoutSeconds: 604800 })], { clock });
    expect(BigInt(payload.authorization.validBefore)).toBe(NOW + 300n);
    expect(BigInt(payload.authorization.validAfter)).toBe(NOW - VALID_AFTER_SKEW_SECONDS);
    expect(VALID_AFTER_SKEW_SECONDS).toBe(600n);
    expect(await verifyWirePayload(payload, BASE_SEPOLIA_USDC_DOMAIN, testAccount.address)).toBe(true);
  });

  it("uses the server's value when it is smaller", async () => {
    const { payload } = await payOnce([requirementV2({ maxTimeoutSeconds: 60 })], { clock });
    expect(BigInt(payload.authorization.validBefore)).toBe(NOW + 60n);
  });

  it('maxAuthSeconds option lowers the cap', async () => {
    const { payload } = await payOnce([requirementV2({ maxTimeoutSeconds: 600 })], { clock, maxAuthSeconds: 120 });
    expect(BigInt(payload.authorization.validBefore)).toBe(NOW + 120n);
  });

  it('maxAuthSeconds option can raise the cap up to what the server allows', async () => {
    const { payload } = await payOnce([requirementV2({ maxTimeoutSeconds: 604800 })], { clock, maxAuthSeconds: 3600 });
    expect(BigInt(payload.authorization.validBefore)).toBe(NOW + 3600n);
  });

  it('v1 is bounded the same way', async () => {
    const p = paywall({ url: URL_, challenge: () => HttpResponse.json(paymentRequiredV1([requirementV1({ maxTimeoutSeconds: 604800 })]), { status: 402 }) });
    server.use(p.handler);
    await wrapFetch(fetch, countingSigner(), { clock })(URL_);
    const { payload } = decodeHeader(p.paid()[0]!.headers['x-payment']!);
    expect(BigInt(payload.authorization.validBefore)).toBe(NOW + 300n);
    expect(BigInt(payload.authorization.validAfter)).toBe(NOW - 600n);
  });

  it('with the system clock: validBefore - now ≤ 300', async () => {
    const before = BigInt(Math.floor(Date.now() / 1000));
    const { payload } = await payOnce([requirementV2({ maxTimeoutSeconds: 604800 })]);
    const after = BigInt(Math.floor(Date.now() / 1000));
    const validBefore = BigInt(payload.authorization.validBefore);
    expect(validBefore - after).toBeLessThanOrEqual(300n);
    expect(validBefore - before).toBeGreaterThanOrEqual(300n);
  });

  it('the clock option is honoured for validAfter near the epoch (never negative)', async () => {
    const { payload } = await payOnce([requirementV2()], { clock: () => 100_000 });
    expect(payload.authorization.validAfter).toBe('0');
    expect(payload.authorization.validBefore).toBe('160');
  });
});

describe('authorization fields', () => {
  it('the nonce is 32 random bytes: two payments have different nonces', async () => {
    const a = await payOnce([requirementV2()]);
    server.resetHandlers();
    const b = await payOnce([requirementV2()]);
    for (const x of [a, b]) expect(x.payload.authorization.nonce).toMatch(/^0x[0-9a-f]{64}$/);
    expect(a.payload.authorization.nonce).not.toBe(b.payload.authorization.nonce);
    expect(a.payload.signature).not.toBe(b.payload.signature);
  });

  it('value is the decimal string of the amount, exact for large amounts', async () => {
    const token = '0x1c7D4B196Cb0C7B01d743Fbc6116a902379C7238';
    const amount = '123456789012345678901234567891';
    const { payload } = await payOnce([requirementV2({ asset: token, amount, extra: { name: 'Big', version: '1' } })], {
      assets: [{ network: 'eip155:84532', address: token, decimals: 18, name: 'Big', version: '1', perRequest: '1000000000000' }],
    });
    expect(payload.authorization.value).toBe(amount);
    expect(await verifyWirePayload(payload, { name: 'Big', version: '1', chainId: 84532, verifyingContract: token }, testAccount.address)).toBe(true);
  });

  it('`to` is the checksummed payTo, while `accepted` echoes the server’s spelling', async () => {
    const lower = PAY_TO.toLowerCase();
    const { accepted, payload } = await payOnce([requirementV2({ payTo: lower })]);
    expect(payload.authorization.to).toBe(getAddress(PAY_TO));
    expect(payload.authorization.to).toBe(PAY_TO);
    expect(accepted.payTo).toBe(lower);
    expect(await verifyWirePayload(payload, BASE_SEPOLIA_USDC_DOMAIN, testAccount.address)).toBe(true);
  });

  it('`from` is the signer address, checksummed even when the signer gives it in lower case', async () => {
    const inner = countingSigner();
    const signer = { ...inner, address: testAccount.address.toLowerCase() as Hex, signTypedData: inner.signTypedData };
    const { payload } = await payOnce([requirementV2()], undefined, signer as never);
    expect(payload.authorization.from).toBe(testAccount.address);
  });

  it('the signature is 65 bytes, r‖s‖v with v 27 or 28', async () => {
    const { payload } = await payOnce([requirementV2()]);
    expect(payload.signature).toMatch(/^0x[0-9a-f]{128}(1b|1c)$/);
  });

  it('signs with the domain of the chosen network (Base mainnet USDC: "USD Coin", chain 8453)', async () => {
    const { payload } = await payOnce([
      requirementV2({ network: 'eip155:8453', asset: '0x833589fCD6eDb6E08f4c7C32D4f71b54bdA02913', extra: { name: 'USD Coin', version: '2' } }),
    ]);
    const domain = { name: 'USD Coin', version: '2', chainId: 8453, verifyingContract: '0x833589fCD6eDb6E08f4c7C32D4f71b54bdA02913' } as const;
    expect(domainSeparator({ domain })).toBe('0x02fa7265e7c5d81118673727957699e4d68f74cd74b7db77da710fe8a2c7834f');
    expect(await verifyWirePayload(payload, domain, testAccount.address)).toBe(true);
    expect(await verifyWirePayload(payload, BASE_SEPOLIA_USDC_DOMAIN, testAccount.address)).toBe(false);
  });
});
