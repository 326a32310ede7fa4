import * as z from 'zod/mini';
import { getAddress, isAddress } from 'viem';
import { evmChainId } from '../protocol/networks.js';
import { parseDecimal } from '../internal/amount.js';
import type { Quote } from '../select.js';

/** Allow and deny lists; deny wins, and a present `allow` list admits only what it names. */
export interface AllowDeny {
  /** When given, only what it names may be paid. */
  readonly allow?: readonly string[];
  /** Never paid, even when `allow` names it. */
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
const USD_PROBLEM = "must be a USD decimal string with at most 6 decimals, such as '0.05'";
const COUNT_PROBLEM = 'must be a whole number from 0 to 1e9';

const usdString = z.string({ error: USD_PROBLEM }).check(z.regex(USD, USD_PROBLEM));
const count = z.number({ error: COUNT_PROBLEM }).check(z.int(COUNT_PROBLEM), z.gte(0, COUNT_PROBLEM), z.lte(1e9, COUNT_PROBLEM));
const maxPayments = z.strictObject(
  { perMinute: z.optional(count), perDay: z.optional(count) },
  { error: 'must be { perMinute?, perDay? }' },
);
const scopeShape = {
  perRequest: z.optional(usdString),
  hourly: z.optional(usdString),
  daily: z.optional(z.union([z.literal('unlimited'), usdString], { error: USD_PROBLEM })),
  total: z.optional(usdString),
  maxPayments: z.optional(maxPayments),
};
const strings = z.array(z.string({ error: 'must be a string' }), { error: 'must be an array of strings' });
const allowDeny = z.optional(
  z.strictObject({ allow: z.optional(strings), deny: z.optional(strings) }, { error: 'must be { allow?: string[], deny?: string[] }' }),
);

/** The shape of `options.budget`: types, formats and unknown keys (normalisation follows in {@link resolveBudget}). */
const budgetSchema = z
  .strictObject(
    {
      ...scopeShape,
      window: z.optional(z.enum(['rolling', 'utc-day'], { error: "must be 'rolling' or 'utc-day'" })),
      hosts: allowDeny,
      payees: allowDeny,
      assets: allowDeny,
      networks: allowDeny,
      perHost: z.optional(
        z.record(z.string(), z.strictObject(scopeShape, { error: 'must be an object of limits' }), { error: 'must be an object keyed by host' }),
      ),
      approveAbove: z.optional(usdString),
      approve: z.optional(
        z.custom<(quote: Quote) => boolean | Promise<boolean>>((v) => typeof v === 'function', {
          error: 'must be a function (quote) => boolean | Promise<boolean>',
        }),
      ),
      approveTimeoutMs: z.optional(
        z.number({ error: 'must be an integer from 1 to 3600000' }).check(
          z.int('must be an integer from 1 to 3600000'),
          z.gte(1, 'must be an integer from 1 to 3600000'),
          z.lte(3_600_000, 'must be an integer from 1 to 3600000'),
        ),
      ),
    },
    { error: 'must be an object' },
  )
  .check(
    z.refine((b) => b.approveAbove === undefined || b.approve !== undefined, {
      error: 'needs budget.approve to ask',
      path: ['approveAbove'],
    }),
  );

/** Validates `options.budget` with zod, then normalises it; a problem is a `TypeError` naming the field. */
export function resolveBudget(input: BudgetOptions | undefined): ResolvedBudget {
  const parsed = budgetSchema.safeParse(input === undefined ? {} : input);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const path = issue.path as readonly (string | number)[];
    if (issue.code === 'unrecognized_keys') {
      const key = (issue as { keys: string[] }).keys[0]!;
      fail(fieldPath([...path, key]), unknownKeyProblem(path), undefined);
    }
    fail(fieldPath(path), issue.message, valueAt(input, path));
  }
  const budget = parsed.data as BudgetOptions;
  const window = budget.window ?? 'rolling';
  const global = limits(budget, 'budget', true);
  const perHost = Object.entries(budget.perHost ?? {}).map(([pattern, scope]) => {
    const at = `budget.perHost[${JSON.stringify(pattern)}]`;
    return { pattern: hostPattern(pattern, at), limits: limits(scope, at, false) };
  });
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
    approveAbove: budget.approveAbove === undefined ? (budget.approve ? 0n : undefined) : parseDecimal(budget.approveAbove, 6),
    approve: budget.approve,
    approveTimeoutMs: budget.approveTimeoutMs ?? 60_000,
  });
}

/** `budget.perHost["api.a.com"].daily`, `budget.hosts.allow[0]`. */
function fieldPath(path: readonly (string | number)[]): string {
  let out = 'budget';
  path.forEach((key, i) => {
    if (typeof key === 'number') out += `[${key}]`;
    else if (path[i - 1] === 'perHost') out += `[${JSON.stringify(key)}]`;
    else out += `.${key}`;
  });
  return out;
}

function unknownKeyProblem(parent: readonly (string | number)[]): string {
  const last = parent[parent.length - 1];
  if (parent.length === 0) return 'is not a budget option';
  if (last === 'maxPayments') return 'is not a limit (perMinute or perDay)';
  if (parent[parent.length - 2] === 'perHost') return 'is not a per-host limit';
  return 'is not allow or deny';
}

function valueAt(input: unknown, path: readonly (string | number)[]): unknown {
  let value = input;
  for (const key of path) value = typeof value === 'object' && value !== null ? (value as Record<string | number, unknown>)[key] : undefined;
  return value === undefined ? 'undefined' : value;
}

function limits(scope: ScopeLimits, at: string, withDefaults: boolean): ResolvedLimits {
  // Only a missing field takes the default (null was refused by the schema).
  const orDefault = <T>(value: T | undefined, fallback: T): T | undefined => (value === undefined && withDefaults ? fallback : value);
  const usd = (value: string | undefined) => (value === undefined ? undefined : parseDecimal(value, 6));
  return Object.freeze({
    perRequest: usd(orDefault(scope.perRequest, BUDGET_DEFAULTS.perRequest)),
    hourly: usd(scope.hourly),
    daily: scope.daily === 'unlimited' ? undefined : usd(orDefault(scope.daily, BUDGET_DEFAULTS.daily)),
    total: usd(scope.total),
    perMinute: orDefault(scope.maxPayments?.perMinute, BUDGET_DEFAULTS.maxPaymentsPerMinute),
    perDay: scope.maxPayments?.perDay,
  });
}

function list(value: AllowDeny | undefined, at: string, normalise: (v: string, at: string) => string): ResolvedList {
  const each = (items: readonly string[] | undefined, name: string) => items?.map((v, i) => normalise(v, `${at}.${name}[${i}]`));
  return { allow: each(value?.allow, 'allow'), deny: each(value?.deny, 'deny') ?? [] };
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
  // (An empty name never gets here: `http://` alone does not parse, and a parsed http URL always has a host.)
  if (!bare) fail(at, 'must be a bare host name (no scheme, port or path)', value);
  return glob ? `*.${host}` : host;
}

function fail(at: string, problem: string, value: unknown): never {
  const got = value === undefined ? '' : `; got ${typeof value === 'string' ? JSON.stringify(value.slice(0, 60)) : typeof value === 'function' ? 'a function' : String(value)}`;
  throw new TypeError(`wrapFetch: options.${at} ${problem}${got}.`);
}
