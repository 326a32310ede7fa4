import { HttpResponse } from 'msw';
import { describe, expect, it } from 'vitest';
import { isDeepStrictEqual } from 'node:util';
import { BudgetExceededError, getPayment, NoAcceptableOptionError, wrapFetch, type WrapFetchOptions } from '../../src/index.js';
import { challengeV2, paywall, useMswServer } from '../support/msw.js';
import {
  BASE_SEPOLIA_USDC,
  BASE_USDC,
  decodeHeader,
  DECLARED_TOKEN,
  PAY_TO,
  paymentRequiredV1,
  paymentRequiredV2,
  requirementV1,
  requirementV2,
  testAccount,
} from '../support/challenges.js';
import { BASE_SEPOLIA_USDC_DOMAIN, BASE_USDC_DOMAIN, countingSigner, verifyWirePayload } from '../support/signers.js';
import { rejectionOf } from '../support/secrets.js';

const server = useMswServer();
const URL_ = 'https://api.example.com/premium-data';

const baseUsdc = (amount: string, overrides: Record<string, unknown> = {}) =>
  requirementV2({ network: 'eip155:8453', asset: BASE_USDC, amount, extra: { name: 'USD Coin', version: '2' }, ...overrides });
const sepoliaUsdc = (amount: string, overrides: Record<string, unknown> = {}) => requirementV2({ amount, ...overrides });

const declaredToken = DECLARED_TOKEN;
const TOKEN = DECLARED_TOKEN.address;
const tokenOption = (amount: string, extra: Record<string, unknown> = { name: 'Test Token', version: '1' }) =>
  requirementV2({ asset: TOKEN, amount, extra });

/** Serves a v2 challenge with `accepts`, pays it, and returns the index of the option paid. */
async function chosen(accepts: Record<string, unknown>[], options?: WrapFetchOptions): Promise<{ index: number; payment: Record<string, any>; res: Response }> {
  const p = paywall({ url: URL_, challenge: () => challengeV2(paymentRequiredV2(accepts)) });
  server.use(p.handler);
  const signer = countingSigner();
  const res = await wrapFetch(fetch, signer, options)(URL_);
  expect(res.status).toBe(200);
  expect(p.paid()).toHaveLength(1);
  expect(signer.calls).toBe(1);
  const payment = decodeHeader(p.paid()[0]!.headers['payment-signature']!);
  const index = accepts.findIndex((a) => isDeepStrictEqual(JSON.parse(JSON.stringify(a)), payment.accepted));
  expect(index).toBeGreaterThanOrEqual(0);
  return { index, payment, res };
}

/** Serves a v2 (or v1) challenge that must be refused: nothing signed, nothing paid. */
async function refusedWith(accepts: Record<string, unknown>[], options?: WrapFetchOptions, version: 1 | 2 = 2) {
  const p = paywall({
    url: URL_,
    challenge: () => (version === 2 ? challengeV2(paymentRequiredV2(accepts)) : HttpResponse.json(paymentRequiredV1(accepts), { status: 402 })),
  });
  server.use(p.handler);
  const signer = countingSigner();
  const error = await rejectionOf(wrapFetch(fetch, signer, options)(URL_));
  expect(p.seen).toHaveLength(1);
  expect(p.paid()).toHaveLength(0);
  expect(signer.calls).toBe(0);
  expect(error.moneyMoved).toBe('no');
  return error;
}

/** Expects a NoAcceptableOptionError and returns its refusals as `[index, code]` pairs. */
async function refusals(accepts: Record<string, unknown>[], options?: WrapFetchOptions, version: 1 | 2 = 2) {
  const error = await refusedWith(accepts, options, version);
  expect(error).toBeInstanceOf(NoAcceptableOptionError);
  expect(error.code).toBe('no_acceptable_option');
  return (error as NoAcceptableOptionError).refusals.map((r) => [r.index, r.code]);
}

describe('scheme and network', () => {
  it('only exact is paid', async () => {
    expect(await refusals([requirementV2({ scheme: 'upto' }), requirementV2({ scheme: 'batch-settlement' })])).toEqual([
      [0, 'unsupported_scheme'],
      [1, 'unsupported_scheme'],
    ]);
  });

  it('exact is chosen beside an unsupported scheme, even when that one is cheaper', async () => {
    expect((await chosen([requirementV2({ scheme: 'upto', amount: '1' }), sepoliaUsdc('10000')])).index).toBe(1);
  });

  it('non-EVM networks are refused', async () => {
    expect(
      await refusals([
        requirementV2({ network: 'solana:5eykt4UsFv8P8NJdTREpY1vzqKqZKvdp', asset: 'EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v' }),
        requirementV2({ network: 'cloudflare:402' }),
      ]),
    ).toEqual([
      [0, 'unsupported_network'],
      [1, 'unsupported_network'],
    ]);
  });

  it('non-canonical eip155 ids are refused', async () => {
    expect(
      await refusals([
        requirementV2({ network: 'eip155:84532abc' }),
        requirementV2({ network: 'eip155:084532' }),
        requirementV2({ network: 'EIP155:84532' }),
        requirementV2({ network: 'eip155:84532 ' }),
        requirementV2({ network: ' eip155:84532' }),
        requirementV2({ network: 'eip155:-84532' }),
        requirementV2({ network: 'eip155:0x14a34' }),
      ]),
    ).toEqual([0, 1, 2, 3, 4, 5, 6].map((i) => [i, 'unsupported_network']));
  });

  it('the acceptance-list forms for Base: eip155:8453abc, eip155:08453, EIP155:8453', async () => {
    expect(
      await refusals([baseUsdc('1000', { network: 'eip155:8453abc' }), baseUsdc('1000', { network: 'eip155:08453' }), baseUsdc('1000', { network: 'EIP155:8453' })]),
    ).toEqual([
      [0, 'unsupported_network'],
      [1, 'unsupported_network'],
      [2, 'unsupported_network'],
    ]);
  });

  it('v1: an unknown network name is refused; solana is refused as non-EVM', async () => {
    expect(
      await refusals([requirementV1({ network: 'flat-earth' }), requirementV1({ network: 'solana', asset: 'EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v' })], undefined, 1),
    ).toEqual([
      [0, 'unknown_network'],
      [1, 'unsupported_network'],
    ]);
  });

  it('v1 names are matched exactly (no case folding)', async () => {
    expect(await refusals([requirementV1({ network: 'Base-Sepolia' })], undefined, 1)).toEqual([[0, 'unknown_network']]);
  });

  it('budget.networks.allow filters: a disallowed network is refused', async () => {
    expect(await refusals([sepoliaUsdc('10000')], { budget: { networks: { allow: ['eip155:8453'] } } })).toEqual([[0, 'network_not_allowed']]);
  });

  it('budget.networks.allow filters: the allowed one is paid even when it is dearer', async () => {
    const { index, payment } = await chosen([sepoliaUsdc('10000'), baseUsdc('50000')], { budget: { networks: { allow: ['eip155:8453'] } } });
    expect(index).toBe(1);
    expect(await verifyWirePayload(payment.payload, BASE_USDC_DOMAIN, testAccount.address)).toBe(true);
  });

  it('budget.networks.deny filters: the denied cheaper one is skipped', async () => {
    const { index, payment } = await chosen([sepoliaUsdc('10000'), baseUsdc('50000')], { budget: { networks: { deny: ['eip155:84532'] } } });
    expect(index).toBe(1);
    expect(await verifyWirePayload(payment.payload, BASE_USDC_DOMAIN, testAccount.address)).toBe(true);
    server.resetHandlers();
    expect(await refusals([sepoliaUsdc('10000')], { budget: { networks: { deny: ['eip155:84532'] } } })).toEqual([[0, 'network_not_allowed']]);
  });
});

describe('cheapest in USD wins', () => {
  it('Base USDC 0.05 vs Base Sepolia USDC 0.01 → the 0.01 one', async () => {
    expect((await chosen([baseUsdc('50000'), sepoliaUsdc('10000')])).index).toBe(1);
  });

  it('same options in the other order → still the 0.01 one', async () => {
    const { index, payment } = await chosen([sepoliaUsdc('10000'), baseUsdc('50000')]);
    expect(index).toBe(0);
    expect(payment.accepted.network).toBe('eip155:84532');
    expect(await verifyWirePayload(payment.payload, BASE_SEPOLIA_USDC_DOMAIN, testAccount.address)).toBe(true);
  });

  it('the cheapest of many, wherever it is', async () => {
    const accepts = [baseUsdc('90000'), sepoliaUsdc('70000'), baseUsdc('20000'), sepoliaUsdc('30000'), baseUsdc('20001')];
    expect((await chosen(accepts)).index).toBe(2);
  });

  it('ties → the lowest index', async () => {
    const a = sepoliaUsdc('10000', { payTo: PAY_TO });
    const b = baseUsdc('10000', { payTo: '0x1111111111111111111111111111111111111111' });
    expect((await chosen([a, b])).index).toBe(0);
    server.resetHandlers();
    expect((await chosen([b, a])).index).toBe(0);
  });

  it('compares across decimals in USD (an 18-decimal pegged token at 0.009 beats USDC at 0.01)', async () => {
    const accepts = [sepoliaUsdc('10000'), tokenOption('9000000000000000')];
    const { index, payment } = await chosen(accepts, { assets: [{ ...declaredToken, usdPegged: true }] });
    expect(index).toBe(1);
    expect(await verifyWirePayload(payment.payload, { name: 'Test Token', version: '1', chainId: 84532, verifyingContract: TOKEN }, testAccount.address)).toBe(true);
  });

  it('USD-pegged options come before a declared non-USD token', async () => {
    const accepts = [tokenOption('1'), sepoliaUsdc('90000')];
    expect((await chosen(accepts, { assets: [{ ...declaredToken, perRequest: '1' }] })).index).toBe(1);
  });
});

describe('assets and EIP-712 domains', () => {
  it('an unknown asset is refused', async () => {
    expect(await refusals([tokenOption('1000')])).toEqual([[0, 'unknown_asset']]);
  });

  it('a known asset address on another network is unknown there', async () => {
    expect(await refusals([baseUsdc('1000', { network: 'eip155:84532' })])).toEqual([[0, 'unknown_asset']]);
  });

  it('an asset with a wrong EIP-55 checksum is refused', async () => {
    expect(await refusals([sepoliaUsdc('1000', { asset: '0x036cbD53842c5426634e7929541eC2318f3dCF7e' })])).toEqual([[0, 'unknown_asset']]);
  });

  it('an asset in lower case is the known asset', async () => {
    const { payment } = await chosen([sepoliaUsdc('1000', { asset: BASE_SEPOLIA_USDC.toLowerCase() })]);
    expect(payment.accepted.asset).toBe(BASE_SEPOLIA_USDC.toLowerCase());
    expect(await verifyWirePayload(payment.payload, BASE_SEPOLIA_USDC_DOMAIN, testAccount.address)).toBe(true);
  });

  it('a declared asset is paid, signed with its domain', async () => {
    const { payment, res } = await chosen([tokenOption('5000000000000000')], { assets: [{ ...declaredToken, usdPegged: true }] });
    expect(await verifyWirePayload(payment.payload, { name: 'Test Token', version: '1', chainId: 84532, verifyingContract: TOKEN }, testAccount.address)).toBe(true);
    expect(await verifyWirePayload(payment.payload, BASE_SEPOLIA_USDC_DOMAIN, testAccount.address)).toBe(false);
    expect(getPayment(res)).toMatchObject({ amount: 5000000000000000n, asset: TOKEN, network: 'eip155:84532' });
  });

  it('a declared asset on another network is still unknown', async () => {
    expect(await refusals([tokenOption('1', { name: 'Test Token', version: '1' })], { assets: [{ ...declaredToken, network: 'eip155:8453', usdPegged: true }] })).toEqual([
      [0, 'unknown_asset'],
    ]);
  });

  it('a declared asset whose claimed domain differs is a domain_mismatch', async () => {
    expect(await refusals([tokenOption('1', { name: 'Test Token', version: '2' })], { assets: [{ ...declaredToken, usdPegged: true }] })).toEqual([
      [0, 'domain_mismatch'],
    ]);
  });

  it('known asset with a wrong claimed name → domain_mismatch', async () => {
    // Base mainnet USDC signs as "USD Coin", not "USDC".
    expect(await refusals([baseUsdc('1000', { extra: { name: 'USDC', version: '2' } })])).toEqual([[0, 'domain_mismatch']]);
  });

  it('known asset with a wrong claimed version → domain_mismatch', async () => {
    expect(await refusals([sepoliaUsdc('1000', { extra: { name: 'USDC', version: '1' } })])).toEqual([[0, 'domain_mismatch']]);
  });

  it('the name is compared exactly (no trimming or case folding)', async () => {
    expect(
      await refusals([
        sepoliaUsdc('1000', { extra: { name: 'usdc', version: '2' } }),
        sepoliaUsdc('1000', { extra: { name: 'USDC ', version: '2' } }),
        sepoliaUsdc('1000', { extra: { name: 'USDC', version: 2 } }),
      ]),
    ).toEqual([
      [0, 'domain_mismatch'],
      [1, 'domain_mismatch'],
      [2, 'domain_missing'],
    ]);
  });

  it('a domain mismatch is never "fixed": a cheaper mismatched option loses to a correct one, which is echoed as sent', async () => {
    const wrong = baseUsdc('1000', { extra: { name: 'USDC', version: '2' } });
    const right = sepoliaUsdc('10000');
    const { index, payment } = await chosen([wrong, right]);
    expect(index).toBe(1);
    expect(payment.accepted).toEqual(right);
  });

  it('missing extra or missing name/version → domain_missing', async () => {
    expect(await refusals([sepoliaUsdc('1000', { extra: undefined }), sepoliaUsdc('1000', { extra: { name: 'USDC' } }), sepoliaUsdc('1000', { extra: { version: '2' } })])).toEqual([
      [0, 'domain_missing'],
      [1, 'domain_missing'],
      [2, 'domain_missing'],
    ]);
  });

  it('Permit2 assetTransferMethod → refused', async () => {
    expect(await refusals([sepoliaUsdc('1000', { extra: { name: 'USDC', version: '2', assetTransferMethod: 'permit2' } })])).toEqual([
      [0, 'transfer_method_unsupported'],
    ]);
  });

  it('other transfer methods (erc7710) → refused', async () => {
    expect(await refusals([sepoliaUsdc('1000', { extra: { name: 'USDC', version: '2', assetTransferMethod: 'erc7710' } })])).toEqual([
      [0, 'transfer_method_unsupported'],
    ]);
  });

  it('a Permit2-only known token (MegaUSD) → refused', async () => {
    const megaUsd = requirementV2({ network: 'eip155:4326', asset: '0xFAfDdbb3FC7688494971a79cc65DCa3EF82079E7', extra: { name: 'MegaUSD', version: '1' } });
    expect(await refusals([megaUsd])).toEqual([[0, 'transfer_method_unsupported']]);
  });

  it('assetTransferMethod eip3009 stated explicitly → paid, echoed unchanged', async () => {
    const option = sepoliaUsdc('1000', { extra: { name: 'USDC', version: '2', assetTransferMethod: 'eip3009' } });
    const { payment } = await chosen([option]);
    expect(payment.accepted).toEqual(option);
  });
});

describe('amount and payee', () => {
  it('zero amount → zero_amount', async () => {
    expect(await refusals([sepoliaUsdc('0')])).toEqual([[0, 'zero_amount']]);
  });

  it('zero-address payTo → invalid_payee', async () => {
    expect(await refusals([sepoliaUsdc('1000', { payTo: '0x0000000000000000000000000000000000000000' })])).toEqual([[0, 'invalid_payee']]);
  });

  it('payTo with a bad checksum → invalid_payee', async () => {
    expect(await refusals([sepoliaUsdc('1000', { payTo: '0x209693bc6afc0C5328bA36FaF03C514EF312287C' })])).toEqual([[0, 'invalid_payee']]);
  });

  it('payTo that is not an address or is a role name → invalid_payee', async () => {
    expect(await refusals([sepoliaUsdc('1000', { payTo: 'merchant' }), sepoliaUsdc('1000', { payTo: '0x1234' })])).toEqual([
      [0, 'invalid_payee'],
      [1, 'invalid_payee'],
    ]);
  });

  it('payTo equal to the token contract → invalid_payee', async () => {
    expect(await refusals([sepoliaUsdc('1000', { payTo: BASE_SEPOLIA_USDC })])).toEqual([[0, 'invalid_payee']]);
  });
});

describe('nothing qualifies', () => {
  it('one refusal per option, in the server order, with index and code', async () => {
    const error = await refusedWith([
      requirementV2({ scheme: 'upto' }),
      sepoliaUsdc('1000', { network: 'EIP155:84532' }),
      tokenOption('1'),
      baseUsdc('1000', { extra: { name: 'USDC', version: '2' } }),
      sepoliaUsdc('0'),
      sepoliaUsdc('1000', { payTo: '0x0000000000000000000000000000000000000000' }),
      sepoliaUsdc('1000', { extra: { name: 'USDC', version: '2', assetTransferMethod: 'permit2' } }),
    ]);
    expect(error).toBeInstanceOf(NoAcceptableOptionError);
    const r = (error as NoAcceptableOptionError).refusals;
    expect(r.map((x) => [x.index, x.code])).toEqual([
      [0, 'unsupported_scheme'],
      [1, 'unsupported_network'],
      [2, 'unknown_asset'],
      [3, 'domain_mismatch'],
      [4, 'zero_amount'],
      [5, 'invalid_payee'],
      [6, 'transfer_method_unsupported'],
    ]);
    expect(r[2]).toMatchObject({ scheme: 'exact', network: 'eip155:84532', asset: TOKEN, amount: '1' });
    for (const x of r) expect(x.message.length).toBeGreaterThan(0);
    expect(error.message).toContain('None of the 7 payment option(s)');
    expect(error.message).toContain('#0 upto/eip155:84532');
  });
});

describe('budget', () => {
  it('exactly the default cap of 0.10 USD is paid', async () => {
    expect((await chosen([sepoliaUsdc('100000')])).index).toBe(0);
  });

  it('over the default cap of 0.10 USD → BudgetExceededError, nothing signed', async () => {
    const error = await refusedWith([sepoliaUsdc('100001')]);
    expect(error).toBeInstanceOf(BudgetExceededError);
    expect(error.code).toBe('budget_exceeded');
    expect(error).toMatchObject({ limit: 'perRequest', allowed: '0.1 USD', requested: '0.100001 USD' });
  });

  it('over budget.perRequest → BudgetExceededError', async () => {
    const error = await refusedWith([sepoliaUsdc('50001')], { budget: { perRequest: '0.05' } });
    expect(error).toBeInstanceOf(BudgetExceededError);
    expect(error.code).toBe('budget_exceeded');
    expect(error).toMatchObject({ allowed: '0.05 USD', requested: '0.050001 USD' });
  });

  it('budget.perRequest can raise the cap', async () => {
    // (2.50 is over the default daily cap of 1.00, which must be raised with it.)
    expect((await chosen([baseUsdc('2500000')], { budget: { perRequest: '2.50', daily: '10' } })).index).toBe(0);
    server.resetHandlers();
    const error = await refusedWith([baseUsdc('2500001')], { budget: { perRequest: '2.50', daily: '10' } });
    expect(error).toMatchObject({ code: 'budget_exceeded', limit: 'perRequest', allowed: '2.5 USD', requested: '2.500001 USD' });
  });

  it('a cheaper option under the cap is chosen over an earlier one above it', async () => {
    expect((await chosen([baseUsdc('150000'), sepoliaUsdc('90000')])).index).toBe(1);
  });

  it('with budget.perRequest: the option under the cap wins over earlier ones above it', async () => {
    expect((await chosen([baseUsdc('60000'), sepoliaUsdc('70000'), baseUsdc('40000')], { budget: { perRequest: '0.05' } })).index).toBe(2);
  });

  it('over budget plus otherwise unpayable options → the budget error (only the budget stood in the way)', async () => {
    const error = await refusedWith([tokenOption('1'), sepoliaUsdc('500000')]);
    expect(error).toBeInstanceOf(BudgetExceededError);
  });

  it('a declared non-USD token is capped in its own units', async () => {
    const options = { assets: [{ ...declaredToken, perRequest: '2.5' }] };
    expect((await chosen([tokenOption('2500000000000000000')], options)).index).toBe(0);
    server.resetHandlers();
    const error = await refusedWith([tokenOption('2500000000000000001')], options);
    expect(error).toBeInstanceOf(BudgetExceededError);
    expect(error).toMatchObject({ allowed: '2.5 TT', requested: '2.500000000000000001 TT' });
  });

  it('the cap applies to the amount, whatever the decimals: 18-decimal pegged token over 0.10 USD', async () => {
    const error = await refusedWith([tokenOption('100000000000000001')], { assets: [{ ...declaredToken, usdPegged: true }] });
    expect(error).toBeInstanceOf(BudgetExceededError);
    expect(error.requested).toBe('0.100000000000000001 USD');
  });
});
