/**
 * THREATS.md §C — asset, EIP-712 domain and chain spoofing, against the hostile server.
 */
import { describe, expect, it } from 'vitest';
import { BASE_SEPOLIA_USDC, BASE_USDC, PAY_TO, requirementV2 } from '../support/challenges.js';
import { BASE_SEPOLIA_USDC_DOMAIN } from '../support/signers.js';
import { API, expectOneSignature, recordingSigner, useHostile } from './harness.js';
import { paywall, send402v2 } from './hostileServer.js';
import { VERSIONS, challenge, requirement, send402 } from './common.js';

const h = useHostile();
const FAKE_TOKEN = '0x5555555555555555555555555555555555555555';

describe('C1 fake token', () => {
  for (const version of VERSIONS) {
    it(`${version}: an attacker contract named "USD Coin" v2 → REFUSE(no_acceptable_option / unknown_asset)`, async () => {
      const fake = requirement(version, { asset: FAKE_TOKEN, extra: { name: 'USD Coin', version: '2' } });
      h.server.route(API, '/fake', (_q, res) => send402(version, res, challenge(version, [fake])));
      const c = h.client();
      await h.expectRefused(c, () => c.paidFetch(h.url('/fake')), { code: 'no_acceptable_option', refusal: 'unknown_asset' });
    });
  }

  it('v2: a real USDC that the caller did not allow (budget.assets) → REFUSE(asset_not_allowed)', async () => {
    h.server.route(API, '/notallowed', (_q, res) => send402('v2', res, challenge('v2')));
    const c = h.client({ budget: { assets: { allow: [BASE_USDC] } } });
    await h.expectRefused(c, () => c.paidFetch(h.url('/notallowed')), { code: 'no_acceptable_option', refusal: 'asset_not_allowed' });
  });
});

describe('C2 EIP-712 domain spoof or mismatch (never "fixed")', () => {
  for (const version of VERSIONS) {
    it(`${version}: real USDC address with extra.version "1" → REFUSE(domain_mismatch)`, async () => {
      const spoof = requirement(version, { extra: { name: 'USDC', version: '1' } });
      h.server.route(API, '/domain', (_q, res) => send402(version, res, challenge(version, [spoof])));
      const c = h.client();
      await h.expectRefused(c, () => c.paidFetch(h.url('/domain')), { code: 'no_acceptable_option', refusal: 'domain_mismatch' });
    });
  }

  it('v2: Base Sepolia USDC claiming the mainnet name "USD Coin" → REFUSE(domain_mismatch)', async () => {
    const spoof = requirement('v2', { extra: { name: 'USD Coin', version: '2' } });
    h.server.route(API, '/name', (_q, res) => send402('v2', res, challenge('v2', [spoof])));
    const c = h.client();
    await h.expectRefused(c, () => c.paidFetch(h.url('/name')), { code: 'no_acceptable_option', refusal: 'domain_mismatch' });
  });

  it('v2: no extra at all (no domain) → REFUSE(domain_missing)', async () => {
    const bare = requirement('v2', { extra: undefined });
    h.server.route(API, '/nodomain', (_q, res) => send402('v2', res, challenge('v2', [bare])));
    const c = h.client();
    await h.expectRefused(c, () => c.paidFetch(h.url('/nodomain')), { code: 'no_acceptable_option', refusal: 'domain_missing' });
  });
});

describe('C3 Permit2 token swap', () => {
  it('v2: assetTransferMethod "permit2" → REFUSE(transfer_method_unsupported)', async () => {
    const permit2 = requirement('v2', { extra: { name: 'USDC', version: '2', assetTransferMethod: 'permit2' } });
    h.server.route(API, '/permit2', (_q, res) => send402('v2', res, challenge('v2', [permit2])));
    const c = h.client();
    await h.expectRefused(c, () => c.paidFetch(h.url('/permit2')), { code: 'no_acceptable_option', refusal: 'transfer_method_unsupported' });
  });

  it('v2: a Permit2-only stablecoin of the table (MegaUSD, 18 decimals) → REFUSE(transfer_method_unsupported)', async () => {
    const mega = requirementV2({ network: 'eip155:4326', asset: '0xFAfDdbb3FC7688494971a79cc65DCa3EF82079E7', amount: '10000', extra: { name: 'MegaUSD', version: '1' } });
    h.server.route(API, '/mega', (_q, res) => send402('v2', res, challenge('v2', [mega])));
    const c = h.client();
    await h.expectRefused(c, () => c.paidFetch(h.url('/mega')), { code: 'no_acceptable_option', refusal: 'transfer_method_unsupported' });
  });
});

describe('C4 raw-transaction and approval extensions', () => {
  it('v2: erc20ApprovalGasSponsoring + eip2612GasSponsoring asking for MaxUint: no raw tx or permit is ever signed', async () => {
    const base = recordingSigner();
    let signTransaction = 0;
    let signMessage = 0;
    const wallet = Object.assign(base, {
      signTransaction: async () => {
        signTransaction++;
        return '0x' as const;
      },
      signMessage: async () => {
        signMessage++;
        return '0x' as const;
      },
    });
    const extensions = {
      erc20ApprovalGasSponsoring: { info: { spender: '0x000000000022D473030F116dDEE9F6B43aC78BA3', amount: (2n ** 256n - 1n).toString() } },
      eip2612GasSponsoring: { info: { value: (2n ** 256n - 1n).toString(), deadline: '99999999999' } },
    };
    h.server.route(API, '/sponsor', paywall((_q, res) => send402v2(res, challenge('v2', undefined, { extensions }))));
    const c = h.client({}, wallet);
    expect((await c.paidFetch(h.url('/sponsor'))).status).toBe(200);
    expectOneSignature(c, h, { to: PAY_TO, value: 10000n });
    expect(signTransaction).toBe(0);
    expect(signMessage).toBe(0);
    expect(c.signer.typed.map((t) => t.primaryType)).toEqual(['TransferWithAuthorization']);
  });

  it('v2: the same extensions with a Permit2 requirement → REFUSE(transfer_method_unsupported)', async () => {
    const permit2 = requirement('v2', { extra: { name: 'USDC', version: '2', assetTransferMethod: 'permit2' } });
    const extensions = { erc20ApprovalGasSponsoring: { info: { amount: (2n ** 256n - 1n).toString() } } };
    h.server.route(API, '/sponsor2', (_q, res) => send402v2(res, challenge('v2', [permit2], { extensions })));
    const c = h.client();
    await h.expectRefused(c, () => c.paidFetch(h.url('/sponsor2')), { code: 'no_acceptable_option', refusal: 'transfer_method_unsupported' });
  });
});

describe('C5 chain and network confusion', () => {
  const tricks: Array<[string, Record<string, unknown>]> = [
    ['eip155:8453abc', { network: 'eip155:8453abc', asset: BASE_USDC, extra: { name: 'USD Coin', version: '2' } }],
    ['eip155:08453', { network: 'eip155:08453', asset: BASE_USDC, extra: { name: 'USD Coin', version: '2' } }],
    ['EIP155:8453', { network: 'EIP155:8453', asset: BASE_USDC, extra: { name: 'USD Coin', version: '2' } }],
    ['"eip155:8453 " (trailing blank)', { network: 'eip155:8453 ', asset: BASE_USDC, extra: { name: 'USD Coin', version: '2' } }],
    ['eip155:84532:1 (extra segment)', { network: 'eip155:84532:1' }],
    ['solana mainnet', { network: 'solana:5eykt4UsFv8P8NJdTREpY1vzqKqZKvdp', asset: 'EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v' }],
    ['ach:us with asset "USD"', { network: 'ach:us', asset: 'USD' }],
  ];
  for (const [label, overrides] of tricks) {
    it(`v2: network ${label} → REFUSE(no_acceptable_option / unsupported_network)`, async () => {
      h.server.route(API, '/chain', (_q, res) => send402('v2', res, challenge('v2', [requirementV2(overrides)])));
      const c = h.client();
      await h.expectRefused(c, () => c.paidFetch(h.url('/chain')), { code: 'no_acceptable_option', refusal: 'unsupported_network' });
    });
  }

  for (const network of ['Base', 'base ', 'base-mainnet']) {
    it(`v1: network name "${network}" → REFUSE(no_acceptable_option / unknown_network)`, async () => {
      h.server.route(API, '/chain1', (_q, res) => send402('v1', res, challenge('v1', [requirement('v1', { network })])));
      const c = h.client();
      await h.expectRefused(c, () => c.paidFetch(h.url('/chain1')), { code: 'no_acceptable_option', refusal: 'unknown_network' });
    });
  }

  it('v2: Base mainnet when only Base Sepolia is allowed (budget.networks) → REFUSE(network_not_allowed)', async () => {
    const mainnet = requirementV2({ network: 'eip155:8453', asset: BASE_USDC, extra: { name: 'USD Coin', version: '2' } });
    h.server.route(API, '/mainnet', (_q, res) => send402('v2', res, challenge('v2', [mainnet])));
    const c = h.client({ budget: { networks: { allow: ['eip155:84532'] } } });
    await h.expectRefused(c, () => c.paidFetch(h.url('/mainnet')), { code: 'no_acceptable_option', refusal: 'network_not_allowed' });
  });
});

describe('C6 what reaches the signer', () => {
  for (const version of VERSIONS) {
    it(`${version}: only TransferWithAuthorization, with the table's domain for the checked chain and token`, async () => {
      h.server.route(API, '/domain-ok', paywall((_q, res) => send402(version, res, challenge(version))));
      const c = h.client();
      expect((await c.paidFetch(h.url('/domain-ok'))).status).toBe(200);
      expectOneSignature(c, h, { to: PAY_TO, value: 10000n });
      const typed = c.signer.typed[0]!;
      expect(typed.domain).toEqual(BASE_SEPOLIA_USDC_DOMAIN);
      expect(typed.domain['verifyingContract']).toBe(BASE_SEPOLIA_USDC);
    });
  }
});
