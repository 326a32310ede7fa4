import { describe, expect, it } from 'vitest';
import type { WrapFetchOptions } from '../../src/index.js';
import { useMswServer } from '../support/msw.js';
import { BASE_SEPOLIA_USDC, BASE_USDC, PAY_TO, requirementV2 } from '../support/challenges.js';
import { failure, payer, sentPayment, serve } from '../support/paying.js';

const server = useMswServer();
const URL_ = 'https://api.example.com/data';
const OTHER_PAYEE = '0x1111111111111111111111111111111111111111';

const sepolia = (amount: string, overrides: Record<string, unknown> = {}) => requirementV2({ amount, ...overrides });
const base = (amount: string, overrides: Record<string, unknown> = {}) =>
  requirementV2({ network: 'eip155:8453', asset: BASE_USDC, amount, extra: { name: 'USD Coin', version: '2' }, ...overrides });

/** Pays `accepts` under `budget`; returns what was paid (index into accepts) or the refusal codes. */
async function judge(accepts: Record<string, unknown>[], budget: WrapFetchOptions['budget']) {
  server.resetHandlers();
  const p = serve(server, URL_, accepts);
  const { paidFetch, signer, store } = payer({ budget });
  try {
    const response = await paidFetch(URL_);
    expect(response.status).toBe(200);
    expect(signer.calls).toBe(1);
    const accepted = sentPayment(p).accepted as Record<string, unknown>;
    return { paid: accepts.findIndex((a) => a.payTo === accepted.payTo && a.network === accepted.network && a.asset === accepted.asset && a.amount === accepted.amount) };
  } catch (error) {
    expect(signer.calls).toBe(0);
    expect(p.paid()).toHaveLength(0);
    expect(await store.report()).toEqual([]);
    const e = error as { code: string; refusals?: { index: number; code: string }[] };
    return { code: e.code, refusals: e.refusals?.map((r) => [r.index, r.code]) };
  }
}

describe('budget.payees', () => {
  it('allow: only listed recipients, in any letter case', async () => {
    expect(await judge([sepolia('10000')], { payees: { allow: [PAY_TO.toLowerCase()] } })).toEqual({ paid: 0 });
    expect(await judge([sepolia('10000')], { payees: { allow: [OTHER_PAYEE] } })).toEqual({ code: 'no_acceptable_option', refusals: [[0, 'payee_not_allowed']] });
    // The allowed one is chosen even when dearer.
    expect(await judge([sepolia('10000', { payTo: OTHER_PAYEE }), sepolia('20000')], { payees: { allow: [PAY_TO] } })).toEqual({ paid: 1 });
  });

  it('deny: a denied recipient is never paid; deny wins over allow', async () => {
    expect(await judge([sepolia('10000')], { payees: { deny: [PAY_TO] } })).toEqual({ code: 'no_acceptable_option', refusals: [[0, 'payee_not_allowed']] });
    expect(await judge([sepolia('10000')], { payees: { allow: [PAY_TO], deny: [PAY_TO.toLowerCase()] } })).toEqual({ code: 'no_acceptable_option', refusals: [[0, 'payee_not_allowed']] });
    expect(await judge([sepolia('10000'), sepolia('30000', { payTo: OTHER_PAYEE })], { payees: { deny: [PAY_TO] } })).toEqual({ paid: 1 });
  });
});

describe('budget.assets', () => {
  it('allow by bare address (any network) or network/address', async () => {
    expect(await judge([sepolia('10000'), base('20000')], { assets: { allow: [BASE_USDC] } })).toEqual({ paid: 1 });
    expect(await judge([sepolia('10000'), base('20000')], { assets: { allow: [`eip155:8453/${BASE_USDC}`] } })).toEqual({ paid: 1 });
    expect(await judge([sepolia('10000')], { assets: { allow: [BASE_SEPOLIA_USDC.toLowerCase()] } })).toEqual({ paid: 0 });
    // A network-qualified entry does not admit the same address on another network.
    expect(await judge([sepolia('10000')], { assets: { allow: [`eip155:8453/${BASE_SEPOLIA_USDC}`] } })).toEqual({ code: 'no_acceptable_option', refusals: [[0, 'asset_not_allowed']] });
  });

  it('deny by bare address or network/address; deny wins over allow', async () => {
    expect(await judge([sepolia('10000'), base('20000')], { assets: { deny: [BASE_SEPOLIA_USDC] } })).toEqual({ paid: 1 });
    expect(await judge([sepolia('10000'), base('20000')], { assets: { deny: [`eip155:84532/${BASE_SEPOLIA_USDC}`] } })).toEqual({ paid: 1 });
    expect(await judge([sepolia('10000')], { assets: { allow: [BASE_SEPOLIA_USDC], deny: [BASE_SEPOLIA_USDC] } })).toEqual({
      code: 'no_acceptable_option',
      refusals: [[0, 'asset_not_allowed']],
    });
  });
});

describe('budget.networks', () => {
  it('allow and deny by CAIP-2 id', async () => {
    expect(await judge([sepolia('10000'), base('20000')], { networks: { allow: ['eip155:8453'] } })).toEqual({ paid: 1 });
    expect(await judge([sepolia('10000'), base('20000')], { networks: { deny: ['eip155:84532'] } })).toEqual({ paid: 1 });
    expect(await judge([sepolia('10000'), base('20000')], { networks: { allow: ['eip155:1'] } })).toEqual({
      code: 'no_acceptable_option',
      refusals: [
        [0, 'network_not_allowed'],
        [1, 'network_not_allowed'],
      ],
    });
    expect(await judge([sepolia('10000')], { networks: { allow: ['eip155:84532'], deny: ['eip155:84532'] } })).toEqual({
      code: 'no_acceptable_option',
      refusals: [[0, 'network_not_allowed']],
    });
  });
});

describe('lists and caps together', () => {
  it('an option refused by a list and another over the cap → the list refusals are reported with the budget error', async () => {
    const result = await judge([sepolia('10000', { payTo: OTHER_PAYEE }), sepolia('200000')], { payees: { deny: [OTHER_PAYEE] } });
    // Only the cap stood in the way of the one allowed option: the budget error wins.
    expect(result).toEqual({ code: 'budget_exceeded', refusals: undefined });
  });

  it('the refusal names the field to change', async () => {
    serve(server, URL_, [sepolia('10000')]);
    const error = await failure(payer({ budget: { networks: { deny: ['eip155:84532'] } } }).paidFetch, URL_);
    expect(error.refusals[0].message).toBe('network eip155:84532 is not allowed by budget.networks');
  });
});
