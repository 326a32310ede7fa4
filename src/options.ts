import { isAddress } from 'viem';
import { assetKey, KNOWN_ASSETS, type AssetInfo } from './protocol/assets.js';
import { evmChainId } from './protocol/networks.js';
import { parseDecimal } from './internal/amount.js';
import { systemClock, type Clock } from './internal/clock.js';

/**
 * A token the caller trusts beyond the built-in stablecoin table. Declaring it is the only way
 * an unknown asset is ever paid.
 */
export interface DeclaredAsset {
  /** CAIP-2 network, e.g. `eip155:8453`. */
  readonly network: string;
  /** Token contract address. */
  readonly address: string;
  /** Token decimals (0–36). */
  readonly decimals: number;
  /** EIP-712 domain name the token signs with (must equal what the server claims). */
  readonly name: string;
  /** EIP-712 domain version the token signs with. */
  readonly version: string;
  /** Ticker for humans (default `TOKEN`). */
  readonly symbol?: string;
  /** True if one whole token is worth one US dollar; the USD budget then applies to it. */
  readonly usdPegged?: boolean;
  /** Per-request cap in whole tokens, e.g. `'2.5'`; required unless `usdPegged`. */
  readonly perRequest?: string;
}

/** Budget limits. This release enforces the per-request cap; windows and allowlists come with the budget policy. */
export interface BudgetOptions {
  /** Most one request may pay, in USD, for USD-pegged assets (default `'0.10'`). */
  readonly perRequest?: string;
}

/**
 * Options of {@link wrapFetch}. Everything is optional; the defaults are safe.
 *
 * @example
 * ```ts
 * import { wrapFetch } from 'x402-autopay';
 * import { privateKeyToAccount } from 'viem/accounts';
 * const paidFetch = wrapFetch(fetch, privateKeyToAccount(key), {
 *   budget: { perRequest: '0.05' },
 *   networks: ['eip155:8453'],
 * });
 * ```
 */
export interface WrapFetchOptions {
  /** Spending limits; see {@link BudgetOptions}. */
  readonly budget?: BudgetOptions;
  /** Tokens to accept beyond the built-in stablecoins. */
  readonly assets?: readonly DeclaredAsset[];
  /** CAIP-2 networks the client may pay on (default: any network of a known or declared asset). */
  readonly networks?: readonly string[];
  /** Longest life of a signed authorization, in seconds (default 300, at most 3600). */
  readonly maxAuthSeconds?: number;
  /** x402 versions to speak (default `[1, 2]`). */
  readonly versions?: readonly (1 | 2)[];
  /** Most bytes of a 402 body to read (default 64 KiB); a larger body is refused unread. */
  readonly maxChallengeBytes?: number;
  /** Most bytes a streamed request body is buffered to, so it can be replayed (default 10 MiB). */
  readonly maxRequestBodyBytes?: number;
  /** Clock in ms since the epoch (default `Date.now`); for tests. */
  readonly clock?: () => number;
}

/** Options after validation, with defaults filled in. */
export interface ResolvedOptions {
  readonly perRequestUsd: bigint;
  readonly perRequestLabel: string;
  readonly assets: ReadonlyMap<string, AssetInfo>;
  /** Per-request caps, in atomic units, of declared non-USD assets, by asset key. */
  readonly assetCaps: ReadonlyMap<string, bigint>;
  readonly networks: ReadonlySet<string> | undefined;
  readonly maxAuthSeconds: number;
  readonly versions: readonly (1 | 2)[];
  readonly maxChallengeBytes: number;
  readonly maxHeaderBytes: number;
  readonly maxRequestBodyBytes: number;
  readonly clock: Clock;
}

/** Default per-request cap in USD. */
export const DEFAULT_PER_REQUEST_USD = '0.10';
const USD_DECIMALS = 36;

/** Validates options once, at `wrapFetch` time; a bad option is a `TypeError` naming it. */
export function resolveOptions(options: WrapFetchOptions = {}): ResolvedOptions {
  if (typeof options !== 'object' || options === null) fail('options', 'must be an object');
  // A budget of the wrong shape (e.g. `budget: '0.05'`) must not fall back to the defaults silently.
  if (options.budget !== undefined && (typeof options.budget !== 'object' || options.budget === null)) {
    fail('budget', `must be an object such as { perRequest: '0.05' }; got ${show(options.budget)}`);
  }
  const perRequestLabel = options.budget?.perRequest ?? DEFAULT_PER_REQUEST_USD;
  const perRequestUsd = typeof perRequestLabel === 'string' ? parseDecimal(perRequestLabel, USD_DECIMALS) : undefined;
  if (perRequestUsd === undefined) fail('budget.perRequest', `must be a USD decimal string such as '0.05'; got ${show(perRequestLabel)}`);

  const assets = new Map(KNOWN_ASSETS);
  const assetCaps = new Map<string, bigint>();
  if (options.assets !== undefined && !Array.isArray(options.assets)) fail('assets', 'must be an array of declared tokens');
  (options.assets ?? []).forEach((declared, i) => {
    const at = `assets[${i}]`;
    if (typeof declared !== 'object' || declared === null) fail(at, 'must be an object');
    if (typeof declared.network !== 'string' || evmChainId(declared.network) === undefined) {
      fail(`${at}.network`, `must be a CAIP-2 eip155 network such as 'eip155:8453'; got ${show(declared.network)}`);
    }
    if (typeof declared.address !== 'string' || !isAddress(declared.address)) fail(`${at}.address`, `must be an address; got ${show(declared.address)}`);
    if (!Number.isInteger(declared.decimals) || declared.decimals < 0 || declared.decimals > 36) {
      fail(`${at}.decimals`, `must be an integer from 0 to 36; got ${show(declared.decimals)}`);
    }
    if (typeof declared.name !== 'string' || declared.name === '') fail(`${at}.name`, 'must be the EIP-712 domain name');
    if (typeof declared.version !== 'string' || declared.version === '') fail(`${at}.version`, 'must be the EIP-712 domain version');
    const key = assetKey(declared.network, declared.address);
    const known = KNOWN_ASSETS.get(key);
    if (known && (known.name !== declared.name || known.version !== declared.version || known.decimals !== declared.decimals)) {
      fail(at, `contradicts the built-in entry for ${known.symbol} on ${known.network} (${known.name}/${known.version}, ${known.decimals} decimals)`);
    }
    const usdPegged = declared.usdPegged === true;
    if (!usdPegged) {
      const cap = typeof declared.perRequest === 'string' ? parseDecimal(declared.perRequest, declared.decimals) : undefined;
      if (cap === undefined) fail(`${at}.perRequest`, 'is required for a token that is not usdPegged: a decimal string of whole tokens');
      assetCaps.set(key, cap!);
    }
    assets.set(
      key,
      Object.freeze({
        network: declared.network,
        address: declared.address,
        decimals: declared.decimals,
        name: declared.name,
        version: declared.version,
        symbol: declared.symbol ?? 'TOKEN',
        usdPegged,
        transfer: 'eip3009',
        builtIn: false,
      }),
    );
  });

  let networks: Set<string> | undefined;
  if (options.networks !== undefined) {
    if (!Array.isArray(options.networks)) fail('networks', 'must be an array of CAIP-2 ids');
    networks = new Set();
    for (const [i, network] of options.networks.entries()) {
      if (typeof network !== 'string' || evmChainId(network) === undefined) {
        fail(`networks[${i}]`, `must be a canonical eip155 CAIP-2 id such as 'eip155:8453'; got ${show(network)}`);
      }
      networks.add(network);
    }
  }

  const maxAuthSeconds = integer(options.maxAuthSeconds, 'maxAuthSeconds', 300, 10, 3600);
  const versions = options.versions ?? [1, 2];
  if (!Array.isArray(versions) || versions.length === 0 || versions.some((v) => v !== 1 && v !== 2)) {
    fail('versions', 'must be a non-empty array of 1 and/or 2');
  }
  const clock = options.clock ?? systemClock;
  if (typeof clock !== 'function') fail('clock', 'must be a function returning milliseconds');

  return Object.freeze({
    perRequestUsd: perRequestUsd!,
    perRequestLabel: `${perRequestLabel} USD`,
    assets,
    assetCaps,
    networks,
    maxAuthSeconds,
    versions: Object.freeze([...versions]),
    maxChallengeBytes: integer(options.maxChallengeBytes, 'maxChallengeBytes', 64 * 1024, 1024, 16 * 1024 * 1024),
    maxHeaderBytes: 16 * 1024,
    maxRequestBodyBytes: integer(options.maxRequestBodyBytes, 'maxRequestBodyBytes', 10 * 1024 * 1024, 0, 2 ** 31),
    clock,
  });
}

function integer(value: unknown, name: string, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    fail(name, `must be an integer from ${min} to ${max}; got ${show(value)}`);
  }
  return value as number;
}

function fail(name: string, problem: string): never {
  throw new TypeError(`wrapFetch: options.${name} ${problem}.`);
}

function show(value: unknown): string {
  return typeof value === 'string' ? JSON.stringify(value.slice(0, 60)) : String(value);
}
