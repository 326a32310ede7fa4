import { getAddress, isAddress } from 'viem';
import { evmChainId } from '../protocol/networks.js';
import { parseDecimal } from '../internal/amount.js';
import type { Quote } from '../select.js';

/** Allow and deny lists; deny wins, and a present `allow` list admits only what it names. */
export interface AllowDeny {
  readonly allow?: readonly string[];
  readonly deny?: readonly string[];
}

/** Limits that can also be set per host. Amounts are USD decimal strings such as `'0.05'`. */
export interface ScopeLimits {
  /** Most one payment may cost, in USD. */
  readonly perRequest?: string;
  /** Most paid per hour (rolling 1 h, or the UTC hour), in USD. */
  readonly hourly?: string;
  /** Most paid per day (rolling 24 h, or the UTC day), in USD; `'unlimited'` lifts the default. */
  readonly daily?: string;
  /** Most paid ever (as long as the store remembers), in USD. */
  readonly total?: string;
  /** Most payments per minute and per day, whatever their amounts. */
  readonly maxPayments?: { readonly perMinute?: number; readonly perDay?: number };
}

/**
 * The budget: plain data, validated once. Amounts are USD for known USD stablecoins (and
 * declared `usdPegged` tokens); other declared tokens have their own limits in `options.assets`.
 *
 * @example
 * ```ts
 * import { wrapFetch } from 'x402-autopay';
 * const paidFetch = wrapFetch(fetch, account, {
 *   budget: {
 *     perRequest: '0.05', daily: '2.00', window: 'rolling',
 *     hosts: { allow: ['api.example.com', '*.data.example'] },
 *     perHost: { 'api.example.com': { daily: '0.50' } },
 *     approveAbove: '0.02', approve: async (quote) => confirm(`Pay ${quote.amount}?`),
 *   },
 * });
 * ```
 */
export interface BudgetOptions extends ScopeLimits {
  /** `'rolling'` (default): true rolling windows ending now. `'utc-day'`: calendar UTC days, hours and minutes. */
  readonly window?: 'rolling' | 'utc-day';
  /** Hosts that may be paid, matched on the URL actually requested (exact names or `*.example.com`). */
  readonly hosts?: AllowDeny;
  /** Recipient addresses. */
  readonly payees?: AllowDeny;
  /** Token addresses (`0x…` on any network, or `eip155:8453/0x…`). */
  readonly assets?: AllowDeny;
  /** CAIP-2 networks, e.g. `eip155:8453`. */
  readonly networks?: AllowDeny;
  /**
   * Limits for particular hosts (exact names or `*.` globs): `perRequest` replaces the global one;
   * windows add to the global ones. One entry applies to a host: its exact name, else the longest
   * matching glob. A glob's windows are shared by every host it matches.
   */
  readonly perHost?: Readonly<Record<string, ScopeLimits>>;
  /** Ask `approve` before paying more than this (USD). Default: ask for every payment when `approve` is given. */
  readonly approveAbove?: string;
  /** Asked before signing; shown the exact frozen quote that will be signed. No answer in time = deny. */
  readonly approve?: (quote: Quote) => boolean | Promise<boolean>;
  /** How long `approve` may take, in ms (default 60,000). */
  readonly approveTimeoutMs?: number;
}

/** Defaults when a limit is not given. */
export const BUDGET_DEFAULTS = Object.freeze({ perRequest: '0.10', daily: '1.00', maxPaymentsPerMinute: 120 });

/** Limits of one scope, in micro-units (1e-6) of USD, and counts. */
export interface ResolvedLimits {
  readonly perRequest?: bigint;
  readonly hourly?: bigint;
  readonly daily?: bigint;
  readonly total?: bigint;
  readonly perMinute?: number;
  readonly perDay?: number;
}

/** One matcher of allow/deny lists. */
export interface ResolvedList {
  readonly allow: readonly string[] | undefined;
  readonly deny: readonly string[];
}

/** The budget after validation. */
export interface ResolvedBudget {
  readonly window: 'rolling' | 'utc-day';
  readonly global: ResolvedLimits;
  readonly perHost: readonly { readonly pattern: string; readonly limits: ResolvedLimits }[];
  readonly hosts: ResolvedList;
  readonly payees: ResolvedList;
  readonly assets: ResolvedList;
  readonly networks: ResolvedList;
  readonly approveAbove: bigint | undefined;
  readonly approve: ((quote: Quote) => boolean | Promise<boolean>) | undefined;
  readonly approveTimeoutMs: number;
}

const USD = /^(0|[1-9][0-9]{0,12})(\.[0-9]{1,6})?$/;

/** Validates `options.budget`; a problem is a `TypeError` naming the field. */
export function resolveBudget(input: BudgetOptions | undefined): ResolvedBudget {
  const budget = input === undefined ? {} : input;
  if (typeof budget !== 'object' || budget === null || Array.isArray(budget)) fail('budget', 'must be an object', budget);
  const known = new Set([
    'perRequest', 'hourly', 'daily', 'total', 'maxPayments', 'window', 'hosts', 'payees', 'assets', 'networks',
    'perHost', 'approveAbove', 'approve', 'approveTimeoutMs',
  ]);
  for (const key of Object.keys(budget)) if (!known.has(key)) fail(`budget.${key}`, 'is not a budget option', undefined);
  const window = budget.window === undefined ? 'rolling' : budget.window;
  if (window !== 'rolling' && window !== 'utc-day') fail('budget.window', "must be 'rolling' or 'utc-day'", window);

  const global = limits(budget, 'budget', true);
  const perHost: { pattern: string; limits: ResolvedLimits }[] = [];
  if (budget.perHost !== undefined) {
    if (typeof budget.perHost !== 'object' || budget.perHost === null || Array.isArray(budget.perHost)) fail('budget.perHost', 'must be an object keyed by host', budget.perHost);
    for (const [pattern, scope] of Object.entries(budget.perHost)) {
      const at = `budget.perHost[${JSON.stringify(pattern)}]`;
      perHost.push({ pattern: hostPattern(pattern, at), limits: limits(scope, at, false) });
    }
  }
  if (budget.approve !== undefined && typeof budget.approve !== 'function') fail('budget.approve', 'must be a function (quote) => boolean | Promise<boolean>', budget.approve);
  if (budget.approveAbove !== undefined && budget.approve === undefined) fail('budget.approveAbove', 'needs budget.approve to ask', budget.approveAbove);
  const timeout = budget.approveTimeoutMs === undefined ? 60_000 : budget.approveTimeoutMs;
  if (!Number.isInteger(timeout) || timeout < 1 || timeout > 3_600_000) fail('budget.approveTimeoutMs', 'must be an integer from 1 to 3600000', timeout);

  return Object.freeze({
    window,
    global,
    perHost,
    hosts: list(budget.hosts, 'budget.hosts', (v, at) => hostPattern(v, at)),
    payees: list(budget.payees, 'budget.payees', (v, at) => {
      if (!isAddress(v, { strict: false })) fail(at, 'must be an address', v);
      return getAddress(v).toLowerCase();
    }),
    assets: list(budget.assets, 'budget.assets', (v, at) => {
      const [network, address] = v.includes('/') ? v.split('/', 2) : [undefined, v];
      if ((network !== undefined && evmChainId(network) === undefined) || !address || !isAddress(address, { strict: false })) {
        fail(at, "must be a token address or '<caip2>/<address>'", v);
      }
      return network ? `${network}/${address!.toLowerCase()}` : address!.toLowerCase();
    }),
    networks: list(budget.networks, 'budget.networks', (v, at) => {
      if (evmChainId(v) === undefined) fail(at, "must be a canonical CAIP-2 eip155 id such as 'eip155:8453'", v);
      return v;
    }),
    approveAbove: budget.approveAbove === undefined ? (budget.approve ? 0n : undefined) : usd(budget.approveAbove, 'budget.approveAbove'),
    approve: budget.approve,
    approveTimeoutMs: timeout,
  });
}

function limits(scope: ScopeLimits, at: string, withDefaults: boolean): ResolvedLimits {
  if (typeof scope !== 'object' || scope === null || Array.isArray(scope)) fail(at, 'must be an object of limits', scope);
  const allowed = new Set(['perRequest', 'hourly', 'daily', 'total', 'maxPayments']);
  if (!withDefaults) for (const key of Object.keys(scope)) if (!allowed.has(key)) fail(`${at}.${key}`, 'is not a per-host limit', undefined);
  // Only a missing field takes the default (null is a bad value, not "no limit").
  const orDefault = <T>(value: T | undefined, fallback: T): T | undefined => (value === undefined && withDefaults ? fallback : value);
  const perRequest = usd(orDefault(scope.perRequest, BUDGET_DEFAULTS.perRequest), `${at}.perRequest`);
  const daily = scope.daily === 'unlimited' ? undefined : usd(orDefault(scope.daily, BUDGET_DEFAULTS.daily), `${at}.daily`);
  const mp = scope.maxPayments;
  if (mp !== undefined && (typeof mp !== 'object' || mp === null || Array.isArray(mp))) fail(`${at}.maxPayments`, 'must be { perMinute?, perDay? }', mp);
  for (const key of Object.keys(mp ?? {})) if (key !== 'perMinute' && key !== 'perDay') fail(`${at}.maxPayments.${key}`, 'is not a limit (perMinute or perDay)', undefined);
  return Object.freeze({
    perRequest,
    hourly: usd(scope.hourly, `${at}.hourly`),
    daily,
    total: usd(scope.total, `${at}.total`),
    perMinute: count(orDefault<unknown>(mp?.perMinute, BUDGET_DEFAULTS.maxPaymentsPerMinute), `${at}.maxPayments.perMinute`),
    perDay: count(mp?.perDay, `${at}.maxPayments.perDay`),
  });
}

/** A USD decimal string (at most 6 decimals) in micro-USD. */
function usd(value: unknown, at: string): bigint | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || !USD.test(value)) fail(at, "must be a USD decimal string with at most 6 decimals, such as '0.05'", value);
  return parseDecimal(value as string, 6);
}

function count(value: unknown, at: string): number | undefined {
  if (value === undefined) return undefined;
  if (!Number.isInteger(value) || (value as number) < 0 || (value as number) > 1e9) fail(at, 'must be a whole number from 0 to 1e9', value);
  return value as number;
}

function list(value: AllowDeny | undefined, at: string, normalise: (v: string, at: string) => string): ResolvedList {
  if (value === undefined) return { allow: undefined, deny: [] };
  if (typeof value !== 'object' || value === null || Array.isArray(value)) fail(at, 'must be { allow?: string[], deny?: string[] }', value);
  // A misspelt `allow` would otherwise admit everything.
  for (const key of Object.keys(value)) if (key !== 'allow' && key !== 'deny') fail(`${at}.${key}`, 'is not allow or deny', undefined);
  const each = (items: unknown, name: string) => {
    if (items === undefined) return undefined;
    if (!Array.isArray(items)) fail(`${at}.${name}`, 'must be an array of strings', items);
    return (items as unknown[]).map((v, i) => {
      if (typeof v !== 'string') fail(`${at}.${name}[${i}]`, 'must be a string', v);
      return normalise(v as string, `${at}.${name}[${i}]`);
    });
  };
  return { allow: each(value.allow, 'allow'), deny: each(value.deny, 'deny') ?? [] };
}

/**
 * Normalises a host name or `*.suffix` glob to lower-case ASCII (punycode) without a trailing
 * dot, as `hostMatches` (budget.ts) compares them. `*` is only allowed as the whole first label.
 */
function hostPattern(value: string, at: string): string {
  const glob = value.startsWith('*.');
  const name = glob ? value.slice(2) : value;
  if (name.includes('*')) fail(at, "must be a host name or a *.example.com glob ('*' only as the whole first label)", value);
  let host: string;
  try {
    host = new URL(`http://${name}`).hostname.replace(/\.$/, '');
  } catch {
    return fail(at, 'must be a host name or a *.example.com glob', value);
  }
  // An ASCII name must already be its own URL form (no scheme, port, path, escapes or numeric
  // shorthand); a non-ASCII (IDN) name may hold only letters, digits, '-' and '.' besides.
  const bare = /[^\x00-\x7f]/.test(name)
    ? !/[\x00-\x2c\x2f\x3a-\x40\x5b-\x60\x7b-\x7f]/.test(name)
    : host === name.toLowerCase().replace(/\.$/, '');
  if (!name || !host || !bare) fail(at, 'must be a bare host name (no scheme, port or path)', value);
  return glob ? `*.${host}` : host;
}

function fail(at: string, problem: string, value: unknown): never {
  const got = value === undefined ? '' : `; got ${typeof value === 'string' ? JSON.stringify(value.slice(0, 60)) : typeof value === 'function' ? 'a function' : String(value)}`;
  throw new TypeError(`wrapFetch: options.${at} ${problem}${got}.`);
}
