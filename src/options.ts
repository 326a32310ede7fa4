import { isAddress } from 'viem';
import { assetKey, KNOWN_ASSETS, type AssetInfo } from './protocol/assets.js';
import { evmChainId } from './protocol/networks.js';
import { parseDecimal } from './internal/amount.js';
import { systemClock, type Clock } from './internal/clock.js';
import { resolveBudget, type BudgetOptions, type ResolvedBudget } from './budget/budgetOptions.js';
export type { BudgetOptions };
import { memoryStore } from './budget/stores/memory.js';
import type { SpendStore } from './budget/store.js';
import type { AssetLimits } from './budget/budget.js';
import type { ResolvedLimits } from './budget/budgetOptions.js';
import type { PaymentEvent, DeniedEvent, ErrorEvent, ResendEvent, SignInEvent } from './events.js';
import { resolveHardening, type ResolvedHardening } from './internal/hardeningOptions.js';
import { resolvePrepay, type PrepayOptions, type ResolvedPrepay } from './prepayTerms.js';
import type { AuthorizationChecker } from './chainChecker.js';
import type { SignInStep } from './signInWithX.js';

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
  /** Per-request cap in whole tokens, e.g. `'2.5'` (at most 6 decimals); required unless `usdPegged`. */
  readonly perRequest?: string;
  /** Most paid in this token per hour, in whole tokens (not for `usdPegged` tokens: the USD budget counts those). */
  readonly hourly?: string;
  /** Most paid in this token per day, in whole tokens. */
  readonly daily?: string;
  /** Most paid in this token ever, in whole tokens. */
  readonly total?: string;
}

/** Listeners of what the client does; data is redacted (no keys, no payment headers). A listener that throws is ignored. */
export interface EventListeners {
  /** A payment was sent (with its settlement status as far as known). */
  readonly payment?: (event: PaymentEvent) => void;
  /** A payment was refused by the budget, the allow lists or the approval hook. */
  readonly denied?: (event: DeniedEvent) => void;
  /** Something failed that the call survives (the store could not record an outcome, a balance could not be read). */
  readonly error?: (event: ErrorEvent) => void;
  /** A paid request got no usable answer and is about to be sent again, with the same payment. */
  readonly resend?: (event: ResendEvent) => void;
  /** The client signed in to a site that offered it (the `signIn` option), and whether that let it in. */
  readonly signIn?: (event: SignInEvent) => void;
}

/**
 * Options of {@link wrapFetch}. Everything is optional; the defaults are safe.
 *
 * @example
 * ```ts
 * import { wrapFetch } from 'x402-autopay';
 * import { privateKeyToAccount } from 'viem/accounts';
 * const paidFetch = wrapFetch(fetch, privateKeyToAccount(key), {
 *   budget: { perRequest: '0.05', daily: '1.00', networks: { allow: ['eip155:8453'] } },
 * });
 * ```
 */
export interface WrapFetchOptions {
  /** Spending limits and allow lists; see {@link BudgetOptions}. Safe defaults: 0.10 USD per request, 1.00 USD per rolling day. */
  readonly budget?: BudgetOptions;
  /** Where spending is recorded (default: {@link memoryStore}, this process only). */
  readonly store?: SpendStore;
  /** Tokens to accept beyond the built-in stablecoins. */
  readonly assets?: readonly DeclaredAsset[];
  /** Event listeners. */
  readonly on?: EventListeners;
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
  /** Most ms reading a 402 body may take (default 5,000); a slower body is refused (`invalid_challenge`, reason `timeout`). */
  readonly challengeTimeoutMs?: number;
  /** Most ms to wait for the answer to the paid request (default 120,000); then the outcome is unknown (`settlement_unknown`). */
  readonly paidRequestTimeoutMs?: number;
  /**
   * Circuit breaker per host: after `threshold` paid requests in a row that were refused or ended
   * unknown (default 3), no payment goes to that host for `coolDownMs` (default 60,000); such
   * calls fail with `circuit_open`. `false` turns it off.
   */
  readonly breaker?: { readonly threshold?: number; readonly coolDownMs?: number } | false;
  /** Pin the first payee each host was paid (default true): a later 402 naming another is refused (`payee_changed`) unless `budget.payees.allow` lists it. */
  readonly pinPayees?: boolean;
  /**
   * Pin the prices of each place (method + origin + path) (default off; THREATS B3,
   * bait-and-switch, and B4, a slow-burn ramp): a later 402 there asking more than `maxRatio`
   * times the place's reference price (default 2; same token or USD) is refused
   * (`price_changed`), and a cheaper option of the same 402 is taken if there is one. The
   * reference is the last price paid there, or the median of its prices of the last 24 h when
   * that is lower (so +10% a call stops after 14 payments). `true` is `{ maxRatio: 2 }`.
   */
  readonly pinPrices?: boolean | { readonly maxRatio?: number };
  /** Also pay 402s that came over plain `http:` from hosts that are not loopback (default false: `insecure_transport`). */
  readonly allowInsecureHttp?: boolean;
  /**
   * When the paid request gets no usable answer (a timeout, a connection that fails after
   * sending, a 5xx without a settled receipt), send it again with the very same payment (the
   * same authorization, nonce and payment id, which the chain settles at most once; nothing is
   * signed again), at most `times` more times (default 1, at most 5), `delayMs` apart (default
   * 500). Only requests that may be repeated are: idempotent methods (GET, HEAD, OPTIONS, PUT,
   * DELETE), or any method when the server advertised `payment-identifier` (it then answers a
   * repeat with its first answer); and only while the authorization has at least 10 s to live.
   * A caller's abort is never answered with a resend. `false` turns it off (THREATS F2).
   */
  readonly resend?: { readonly times?: number; readonly delayMs?: number } | false;
  /**
   * Opt-in prepayment: after a paid call, the next call to the same origin + method + path
   * carries a payment at once (if the remembered terms still pass the budget), saving the 402
   * round trip. If the server answers 402 anyway, the terms are forgotten and the call may pay
   * once more, within the budget; the receipt says so. Default off.
   */
  readonly prepay?: boolean | PrepayOptions;
  /**
   * How to look payments up on chain, e.g. `chainChecker({ 'eip155:8453': publicClient })`.
   * With it, `paidFetch.budget.reconcile()` gives back to the budget the `failed` and `unknown`
   * payments whose authorization expired unused (and only those). Default: none; such payments
   * stay counted until their window ends.
   */
  readonly reconcile?: AuthorizationChecker;
  /**
   * Read the payer's token balance on chain before signing, with the clients of `reconcile`
   * (default false): an option the payer cannot cover is refused (`insufficient_balance`, under
   * `no_acceptable_option`), so nothing is signed that could never settle, and a cheaper-to-cover
   * option of the same 402 is taken when there is one. A read is reused for 30 s, less what was
   * signed since; a balance too low is always read afresh. A read that fails checks nothing (an
   * `error` event says so). The latest block's time is read too: a local clock so far behind the
   * chain that a signature would be born expired is refused (`clock_behind_chain`).
   */
  readonly checkBalance?: boolean;
  /**
   * Single flight (default false): while a call is in flight, an identical one (a `GET` or
   * `HEAD` without a body, the same URL and the same headers) waits for it instead of paying
   * again, and gets a copy of its answer (without a receipt: it paid nothing). If the first call
   * fails, the calls that waited for it fly again, coalesced among themselves. For agents that
   * fire the same request in parallel; leave it off where two identical requests must get two
   * answers.
   */
  readonly coalesce?: boolean;
  /**
   * Sign in instead of paying again: `signIn: signInWithX()` (default none; x402 v2
   * `sign-in-with-x`). When a 402 offers a sign-in, the wallet signs an EIP-4361 message (no
   * money) and the request is sent again with it; a server that knows this wallet already paid
   * answers without a payment, else the call pays as usual. See `signInWithX` for what is
   * signed and refused. Without it, a sign-in offer is data.
   */
  readonly signIn?: SignInStep;
}

/** Options after validation, with defaults filled in. */
export interface ResolvedOptions {
  readonly budget: ResolvedBudget;
  readonly store: SpendStore;
  readonly on: EventListeners;
  readonly assets: ReadonlyMap<string, AssetInfo>;
  /** Limits of declared non-USD tokens, in micro-units of the token, by asset key. */
  readonly assetLimits: AssetLimits;
  readonly maxAuthSeconds: number;
  readonly versions: readonly (1 | 2)[];
  readonly maxChallengeBytes: number;
  readonly maxHeaderBytes: number;
  readonly maxRequestBodyBytes: number;
  readonly clock: Clock;
  /** Deadlines, circuit breaker, payee pinning, transport rule. */
  readonly hardening: ResolvedHardening;
  /** Prepayment settings, or false when it is off. */
  readonly prepay: ResolvedPrepay | false;
  /** How payments are looked up on chain for reconciliation, if at all. */
  readonly reconcile: AuthorizationChecker | undefined;
  /** Whether balances are read before signing (with `reconcile`'s clients). */
  readonly checkBalance: boolean;
  /** Whether identical calls in flight share one answer (single flight). */
  readonly coalesce: boolean;
  /** The sign-in made before paying where a 402 offers one, if any. */
  readonly signIn: SignInStep | undefined;
}

/** Every top-level option; anything else is refused. Add new options here. */
const OPTION_NAMES = new Set([
  'budget', 'store', 'assets', 'on', 'maxAuthSeconds', 'versions', 'maxChallengeBytes', 'maxRequestBodyBytes', 'clock',
  // Hardening options (src/internal/hardeningOptions.ts).
  'challengeTimeoutMs', 'paidRequestTimeoutMs', 'breaker', 'pinPayees', 'pinPrices', 'allowInsecureHttp', 'resend',
  // Prepayment (src/prepayTerms.ts).
  'prepay',
  // Reconciliation on chain and balance checks (src/chainChecker.ts).
  'reconcile', 'checkBalance',
  // Single flight for identical calls (src/internal/coalescer.ts).
  'coalesce',
  // Sign-in before paying (src/signInWithX.ts).
  'signIn',
]);

/** Validates options once, at `wrapFetch` time; a bad option (or an unknown one) is a `TypeError` naming it. */
export function resolveOptions(options: WrapFetchOptions = {}): ResolvedOptions {
  if (typeof options !== 'object' || options === null) fail('options', 'must be an object');
  for (const key of Object.keys(options)) {
    // An ignored option could widen what is paid (e.g. the former top-level `networks`): refuse it.
    if (key === 'networks') fail('networks', 'is no longer an option: use budget.networks: { allow: [...], deny: [...] }');
    if (!OPTION_NAMES.has(key)) fail(key, 'is not an option of wrapFetch');
  }
  const budget = resolveBudget(options.budget);
  const store = options.store ?? memoryStore();
  if (typeof store !== 'object' || store === null) fail('store', 'must be a SpendStore');
  for (const method of ['reserve', 'release', 'settle', 'usage', 'report'] as const) {
    if (typeof (store as unknown as Record<string, unknown>)[method] !== 'function') fail('store', `must be a SpendStore (missing ${method}())`);
  }
  const on = options.on ?? {};
  if (typeof on !== 'object' || on === null) fail('on', 'must be an object of listeners');
  for (const [name, listener] of Object.entries(on)) {
    if (!['payment', 'denied', 'error', 'resend', 'signIn'].includes(name) || typeof listener !== 'function') {
      fail(`on.${name}`, 'must be a payment, denied, error, resend or signIn listener function');
    }
  }

  const assets = new Map(KNOWN_ASSETS);
  const assetLimits = new Map<string, ResolvedLimits & { symbol: string }>();
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
    const symbol = declared.symbol ?? 'TOKEN';
    const tokens = (field: 'perRequest' | 'hourly' | 'daily' | 'total', required: boolean): bigint | undefined => {
      const value = declared[field];
      if (value === undefined && !required) return undefined;
      if (usdPegged) fail(`${at}.${field}`, 'is not for a usdPegged token: the USD budget applies to it');
      // No finer than the token's own unit (nor than the 6 decimals limits are counted in).
      const places = Math.min(6, declared.decimals);
      const micro = typeof value === 'string' && parseDecimal(value, places) !== undefined ? parseDecimal(value, 6) : undefined;
      if (micro === undefined) {
        fail(`${at}.${field}`, `${required ? 'is required for a token that is not usdPegged: ' : 'must be '}a decimal string of whole tokens with at most ${places} decimals, such as '2.5'`);
      }
      return micro;
    };
    if (!usdPegged) {
      assetLimits.set(key, { symbol, perRequest: tokens('perRequest', true), hourly: tokens('hourly', false), daily: tokens('daily', false), total: tokens('total', false) });
    } else {
      for (const field of ['perRequest', 'hourly', 'daily', 'total'] as const) tokens(field, false);
    }
    assets.set(
      key,
      Object.freeze({
        network: declared.network,
        address: declared.address,
        decimals: declared.decimals,
        name: declared.name,
        version: declared.version,
        symbol,
        usdPegged,
        transfer: 'eip3009',
        builtIn: false,
      }),
    );
  });

  const maxAuthSeconds = integer(options.maxAuthSeconds, 'maxAuthSeconds', 300, 10, 3600);
  const versions = options.versions ?? [1, 2];
  if (!Array.isArray(versions) || versions.length === 0 || versions.some((v) => v !== 1 && v !== 2)) {
    fail('versions', 'must be a non-empty array of 1 and/or 2');
  }
  const clock = options.clock ?? systemClock;
  if (typeof clock !== 'function') fail('clock', 'must be a function returning milliseconds');
  const reconcile = options.reconcile;
  if (reconcile !== undefined && (typeof reconcile !== 'object' || reconcile === null || typeof reconcile.check !== 'function')) {
    fail('reconcile', "must be an authorization checker, e.g. chainChecker({ 'eip155:8453': publicClient })");
  }
  const checkBalance = options.checkBalance ?? false;
  if (typeof checkBalance !== 'boolean') fail('checkBalance', 'must be true or false');
  if (checkBalance && typeof reconcile?.balanceOf !== 'function') {
    fail('checkBalance', "needs the chain clients: add reconcile: chainChecker({ 'eip155:8453': publicClient })");
  }

  const coalesce = options.coalesce ?? false;
  if (typeof coalesce !== 'boolean') fail('coalesce', 'must be true or false');
  const signIn = options.signIn;
  if (signIn !== undefined && !(typeof signIn === 'object' && signIn !== null && signIn.kind === 'sign-in-with-x' && typeof (signIn as { run?: unknown }).run === 'function')) {
    fail('signIn', "must be signInWithX() (import { signInWithX } from 'x402-autopay')");
  }

  return Object.freeze({
    budget,
    store,
    on,
    assets,
    assetLimits,
    maxAuthSeconds,
    versions: Object.freeze([...versions]),
    maxChallengeBytes: integer(options.maxChallengeBytes, 'maxChallengeBytes', 64 * 1024, 1024, 16 * 1024 * 1024),
    maxHeaderBytes: 16 * 1024,
    maxRequestBodyBytes: integer(options.maxRequestBodyBytes, 'maxRequestBodyBytes', 10 * 1024 * 1024, 0, 2 ** 31),
    clock,
    hardening: resolveHardening(options),
    prepay: resolvePrepay(options.prepay),
    reconcile,
    checkBalance,
    coalesce,
    signIn,
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
