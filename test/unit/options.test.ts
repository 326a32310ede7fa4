import { describe, expect, it } from 'vitest';
import { wrapFetch, type WrapFetchOptions } from '../../src/index.js';
import { DEFAULT_PER_REQUEST_USD, resolveOptions } from '../../src/options.js';
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
    expect(DEFAULT_PER_REQUEST_USD).toBe('0.10');
    expect(o.perRequestUsd).toBe(10n ** 35n); // 0.10 in 36-decimal fixed point
    expect(o.perRequestLabel).toBe('0.10 USD');
    expect(o.maxAuthSeconds).toBe(300);
    expect(o.versions).toEqual([1, 2]);
    expect(o.maxChallengeBytes).toBe(64 * 1024);
    expect(o.maxHeaderBytes).toBe(16 * 1024);
    expect(o.maxRequestBodyBytes).toBe(10 * 1024 * 1024);
    expect(o.networks).toBeUndefined();
    expect(o.assets.size).toBe(KNOWN_ASSETS.size);
    expect(o.assetCaps.size).toBe(0);
    expect(typeof o.clock()).toBe('number');
    expect(Object.isFrozen(o)).toBe(true);
  });

  it('an empty object is the defaults', () => {
    expect(resolveOptions({}).perRequestUsd).toBe(resolveOptions().perRequestUsd);
  });
});

describe('valid options', () => {
  it('budget.perRequest', () => {
    expect(resolveOptions({ budget: { perRequest: '0.05' } }).perRequestUsd).toBe(5n * 10n ** 34n);
    expect(resolveOptions({ budget: { perRequest: '2' } }).perRequestLabel).toBe('2 USD');
    expect(resolveOptions({ budget: {} }).perRequestLabel).toBe('0.10 USD');
  });

  it('declared assets join the table; non-pegged ones carry a cap in their units', () => {
    const o = resolveOptions({ assets: [token, { ...token, address: '0x2222222222222222222222222222222222222222', usdPegged: false, perRequest: '2.5' }] });
    expect(o.assets.get(assetKey('eip155:84532', TOKEN))).toMatchObject({ name: 'Test Token', version: '1', decimals: 18, usdPegged: true, builtIn: false, symbol: 'TOKEN' });
    expect(o.assetCaps.get(assetKey('eip155:84532', '0x2222222222222222222222222222222222222222'))).toBe(25n * 10n ** 17n);
    expect(o.assetCaps.has(assetKey('eip155:84532', TOKEN))).toBe(false);
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
    expect([...resolveOptions({ networks: ['eip155:8453', 'eip155:84532'] }).networks!]).toEqual(['eip155:8453', 'eip155:84532']);
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
    rejects({ assets: [{ ...token, usdPegged: false, decimals: 2, perRequest: '0.001' }] }, 'assets[0].perRequest');
  });

  it('networks', () => {
    rejects({ networks: 'eip155:8453' }, 'networks', /must be an array/);
    rejects({ networks: ['eip155:8453', 'EIP155:1'] }, 'networks[1]', /canonical eip155/);
    rejects({ networks: ['base'] }, 'networks[0]');
    rejects({ networks: [8453] }, 'networks[0]');
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
