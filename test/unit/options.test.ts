import { describe, expect, it } from 'vitest';
import { wrapFetch, type WrapFetchOptions } from '../../src/index.js';
import { resolveOptions } from '../../src/options.js';
import { BUDGET_DEFAULTS } from '../../src/budget/budgetOptions.js';
import { assetKey, KNOWN_ASSETS } from '../../src/protocol/assets.js';
import { countingSigner } from '../support/signers.js';

const TOKEN = '0x1c7D4B196Cb0C7B01d743Fbc6116a902379C7238';
const token = { network: 'eip155:84532', address: TOKEN, decimals: 18, name: 'Test Token', version: '1', usdPegged: true };

/** wrapFetch must throw a TypeError at once, whose message names `name`. */
function rejects(options: unknown, name: string, problem?: RegExp) {
  const signer = countingSigner();
  let thrown: unknown;
  try {
    wrapFetch(fetch, signer, options as WrapFetchOptions);
  } catch (error) {
    thrown = error;
  }
  expect(thrown, `options ${JSON.stringify(options)}`).toBeInstanceOf(TypeError);
  const message = (thrown as Error).message;
  expect(message.startsWith(`wrapFetch: options.${name} `), message).toBe(true);
  if (problem) expect(message).toMatch(problem);
  expect(signer.calls).toBe(0);
}

describe('defaults', () => {
  it('are safe and documented', () => {
    const o = resolveOptions();
    expect(BUDGET_DEFAULTS).toEqual({ perRequest: '0.10', daily: '1.00', maxPaymentsPerMinute: 120 });
    // Micro-USD: 0.10 per request, 1.00 per rolling day, 120 payments a minute, nothing else.
    expect(o.budget.global).toEqual({ perRequest: 100_000n, hourly: undefined, daily: 1_000_000n, total: undefined, perMinute: 120, perDay: undefined });
    expect(o.budget.window).toBe('rolling');
    expect(o.budget.perHost).toEqual([]);
    for (const list of [o.budget.hosts, o.budget.payees, o.budget.assets, o.budget.networks]) expect(list).toEqual({ allow: undefined, deny: [] });
    expect(o.budget.approve).toBeUndefined();
    expect(o.budget.approveAbove).toBeUndefined();
    expect(o.budget.approveTimeoutMs).toBe(60_000);
    expect(typeof o.store.reserve).toBe('function');
    expect(o.maxAuthSeconds).toBe(300);
    expect(o.versions).toEqual([1, 2]);
    expect(o.maxChallengeBytes).toBe(64 * 1024);
    expect(o.maxHeaderBytes).toBe(16 * 1024);
    expect(o.maxRequestBodyBytes).toBe(10 * 1024 * 1024);
    expect(o.assets.size).toBe(KNOWN_ASSETS.size);
    expect(o.assetLimits.size).toBe(0);
    expect(typeof o.clock()).toBe('number');
    expect(Object.isFrozen(o)).toBe(true);
    expect(Object.isFrozen(o.budget)).toBe(true);
    expect(Object.isFrozen(o.budget.global)).toBe(true);
  });

  it('each wrapFetch gets its own memory store', () => {
    expect(resolveOptions().store).not.toBe(resolveOptions().store);
  });

  it('an empty object is the defaults', () => {
    const { store: _a, ...empty } = resolveOptions({});
    const { store: _b, ...none } = resolveOptions();
    expect(empty).toEqual(none);
  });
});

describe('valid options', () => {
  it('budget.perRequest', () => {
    expect(resolveOptions({ budget: { perRequest: '0.05' } }).budget.global.perRequest).toBe(50_000n);
    expect(resolveOptions({ budget: { perRequest: '2' } }).budget.global.perRequest).toBe(2_000_000n);
    expect(resolveOptions({ budget: { perRequest: '0.000001' } }).budget.global.perRequest).toBe(1n);
    expect(resolveOptions({ budget: {} }).budget.global.perRequest).toBe(100_000n);
  });

  it('declared assets join the table; non-pegged ones carry a cap in their units', () => {
    const o = resolveOptions({ assets: [token, { ...token, address: '0x2222222222222222222222222222222222222222', usdPegged: false, perRequest: '2.5' }] });
    expect(o.assets.get(assetKey('eip155:84532', TOKEN))).toMatchObject({ name: 'Test Token', version: '1', decimals: 18, usdPegged: true, builtIn: false, symbol: 'TOKEN' });
    // Limits of a non-pegged token are in micro-units (1e-6) of whole tokens, whatever its decimals.
    expect(o.assetLimits.get(assetKey('eip155:84532', '0x2222222222222222222222222222222222222222'))).toEqual({
      symbol: 'TOKEN',
      perRequest: 2_500_000n,
      hourly: undefined,
      daily: undefined,
      total: undefined,
    });
    expect(o.assetLimits.has(assetKey('eip155:84532', TOKEN))).toBe(false);
  });

  it('re-declaring a built-in asset identically is allowed', () => {
    expect(() =>
      resolveOptions({ assets: [{ network: 'eip155:84532', address: '0x036CbD53842c5426634e7929541eC2318f3dCF7e', decimals: 6, name: 'USDC', version: '2', usdPegged: true }] }),
    ).not.toThrow();
  });

  it('boundaries', () => {
    expect(resolveOptions({ maxAuthSeconds: 10 }).maxAuthSeconds).toBe(10);
    expect(resolveOptions({ maxAuthSeconds: 3600 }).maxAuthSeconds).toBe(3600);
    expect(resolveOptions({ maxChallengeBytes: 1024 }).maxChallengeBytes).toBe(1024);
    expect(resolveOptions({ maxRequestBodyBytes: 0 }).maxRequestBodyBytes).toBe(0);
    expect(resolveOptions({ versions: [2] }).versions).toEqual([2]);
    expect(resolveOptions({ budget: { networks: { allow: ['eip155:8453', 'eip155:84532'] } } }).budget.networks).toEqual({ allow: ['eip155:8453', 'eip155:84532'], deny: [] });
    expect(resolveOptions({ budget: { networks: { deny: ['eip155:1'] } } }).budget.networks).toEqual({ allow: undefined, deny: ['eip155:1'] });
    expect(resolveOptions({ assets: [{ ...token, usdPegged: false, decimals: 2, perRequest: '0.01' }] }).assetLimits.get(assetKey('eip155:84532', TOKEN))?.perRequest).toBe(10_000n);
    expect(resolveOptions({ clock: () => 42 }).clock()).toBe(42);
  });
});

describe('a bad option is a TypeError at wrapFetch time, naming the option', () => {
  it('options itself', () => rejects(null, 'options', /must be an object/));

  it('budget that is not an object', () => {
    rejects({ budget: '0.05' }, 'budget', /must be an object/);
    rejects({ budget: 0.05 }, 'budget', /must be an object/);
    rejects({ budget: null }, 'budget', /must be an object/);
  });

  it('budget.perRequest', () => {
    for (const perRequest of [0.05, '-1', '1e3', 'abc', '', ' 0.05', '0.05 USD', '$0.05', '0,05']) {
      rejects({ budget: { perRequest } }, 'budget.perRequest', /must be a USD decimal string/);
    }
  });

  it('assets that is not an array', () => {
    rejects({ assets: token }, 'assets', /must be an array/);
    rejects({ assets: 'USDC' }, 'assets', /must be an array/);
  });

  it('assets[i] fields', () => {
    rejects({ assets: [null] }, 'assets[0]', /must be an object/);
    rejects({ assets: [token, { ...token, network: 'base' }] }, 'assets[1].network', /CAIP-2 eip155/);
    rejects({ assets: [{ ...token, network: 'EIP155:1' }] }, 'assets[0].network');
    rejects({ assets: [{ ...token, address: '0x1234' }] }, 'assets[0].address', /must be an address/);
    rejects({ assets: [{ ...token, address: '0x1c7d4B196Cb0C7B01d743Fbc6116a902379C7238' }] }, 'assets[0].address');
    for (const decimals of [37, -1, 1.5, '6', undefined]) rejects({ assets: [{ ...token, decimals }] }, 'assets[0].decimals', /integer from 0 to 36/);
    rejects({ assets: [{ ...token, name: '' }] }, 'assets[0].name');
    rejects({ assets: [{ ...token, name: undefined }] }, 'assets[0].name');
    rejects({ assets: [{ ...token, version: '' }] }, 'assets[0].version');
  });

  it('a declaration that contradicts the built-in table', () => {
    rejects(
      { assets: [{ network: 'eip155:84532', address: '0x036CbD53842c5426634e7929541eC2318f3dCF7e', decimals: 6, name: 'USD Coin', version: '2', usdPegged: true }] },
      'assets[0]',
      /contradicts the built-in entry for USDC on eip155:84532/,
    );
    rejects(
      { assets: [{ network: 'eip155:8453', address: '0x833589fcd6edb6e08f4c7c32d4f71b54bda02913', decimals: 18, name: 'USD Coin', version: '2', usdPegged: true }] },
      'assets[0]',
      /contradicts/,
    );
  });

  it('a non-pegged token needs a perRequest cap in its units', () => {
    rejects({ assets: [{ ...token, usdPegged: false }] }, 'assets[0].perRequest', /is required/);
    rejects({ assets: [{ ...token, usdPegged: false, perRequest: 2 }] }, 'assets[0].perRequest');
    rejects({ assets: [{ ...token, usdPegged: false, decimals: 2, perRequest: '0.001' }] }, 'assets[0].perRequest', /at most 2 decimals/);
    rejects({ assets: [{ ...token, usdPegged: false, decimals: 18, perRequest: '0.0000001' }] }, 'assets[0].perRequest', /at most 6 decimals/);
    rejects({ assets: [{ ...token, usdPegged: false, decimals: 0, perRequest: '1.5' }] }, 'assets[0].perRequest', /at most 0 decimals/);
  });

  it('budget.networks', () => {
    rejects({ budget: { networks: 'eip155:8453' } }, 'budget.networks', /must be \{ allow\?: string\[\], deny\?: string\[\] \}/);
    rejects({ budget: { networks: ['eip155:8453'] } }, 'budget.networks', /must be \{ allow/);
    rejects({ budget: { networks: { allow: 'eip155:8453' } } }, 'budget.networks.allow', /must be an array of strings/);
    rejects({ budget: { networks: { allow: ['eip155:8453', 'EIP155:1'] } } }, 'budget.networks.allow[1]', /canonical CAIP-2 eip155/);
    rejects({ budget: { networks: { allow: ['base'] } } }, 'budget.networks.allow[0]', /canonical CAIP-2 eip155/);
    rejects({ budget: { networks: { deny: [8453] } } }, 'budget.networks.deny[0]', /must be a string/);
  });

  it('the former top-level networks option is refused, pointing at budget.networks', () => {
    rejects({ networks: ['eip155:8453'] }, 'networks', /budget\.networks/);
    rejects({ networks: 'eip155:8453' }, 'networks', /budget\.networks/);
  });

  it('an unknown option is refused rather than ignored', () => {
    rejects({ perRequest: '0.05' }, 'perRequest', /is not an option/);
    rejects({ budjet: { daily: '1' } }, 'budjet', /is not an option/);
  });

  it('maxAuthSeconds', () => {
    for (const v of [9, 3601, 1.5, '300', -1, Number.NaN]) rejects({ maxAuthSeconds: v }, 'maxAuthSeconds', /integer from 10 to 3600/);
  });

  it('versions', () => {
    for (const v of [[], [3], [1, 3], 'all', [2, '1']]) rejects({ versions: v }, 'versions', /non-empty array of 1 and\/or 2/);
  });

  it('clock', () => {
    rejects({ clock: 1700000000000 }, 'clock', /must be a function/);
  });

  it('maxChallengeBytes and maxRequestBodyBytes', () => {
    rejects({ maxChallengeBytes: 1023 }, 'maxChallengeBytes');
    rejects({ maxChallengeBytes: 16 * 1024 * 1024 + 1 }, 'maxChallengeBytes');
    rejects({ maxRequestBodyBytes: -1 }, 'maxRequestBodyBytes');
    rejects({ maxRequestBodyBytes: 2 ** 31 + 1 }, 'maxRequestBodyBytes');
  });
});
