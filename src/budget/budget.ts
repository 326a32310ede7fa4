import { assetKey } from '../protocol/assets.js';
import { formatUnits, USD_DECIMALS } from '../internal/amount.js';
import { randomBytes, toHex } from '../internal/random.js';
import { BudgetExceededError } from '../errors/BudgetExceededError.js';
import { BudgetUnavailableError } from '../errors/BudgetUnavailableError.js';
import { ApprovalDeniedError } from '../errors/ApprovalDeniedError.js';
import type { ResolvedBudget, ResolvedLimits, ResolvedList } from './budgetOptions.js';
import type { CounterCheck, CounterWindow, SpendAuthorization, SpendRecord, SpendStore } from './store.js';
import { keyClaimCheck } from './keyClaimCheck.js';
import type { PolicyRefusal, Quote } from '../select.js';

/** Remaining room under one limit. Amounts are decimal strings in `unit`. */
export interface RemainingLimit {
  /** `global`, `host:<pattern>` or `asset:<network>/<address>`. */
  readonly scope: string;
  /** `hourly`, `daily`, `total`, `maxPayments.perMinute` or `maxPayments.perDay`. */
  readonly limit: string;
  /** `USD`, `payments`, or the token's symbol. */
  readonly unit: string;
  /** The limit, e.g. `'1.00'` (USD and tokens: decimal; payments: a count). */
  readonly max: string;
  /** How much of it the current window has used (reservations included). */
  readonly used: string;
  /** `max` minus `used`, never below zero. */
  readonly remaining: string;
}

/** A reservation made before signing. */
export interface Reservation {
  readonly id: string;
  /** The payment was provably never sent, or its authorization expired unused on chain: undo the reservation (true when the store gave the amount back). */
  release(): Promise<boolean | void>;
  /** Record the outcome of a sent payment (it stays counted), and where its authorization can be looked up on chain. */
  settle(status: 'settled' | 'failed' | 'unknown', transaction?: string, authorization?: SpendAuthorization): Promise<void>;
}

/** An `Idempotency-Key` a reservation claims in the store (see `keyClaimCheck`). */
export interface KeyClaim {
  /** Hex digest of the scoped key: only this is stored (in the claim, and at the end of the reservation id). */
  readonly digest: string;
  /** Records from this time on (ms since the epoch) are searched for the payment holding a taken claim. */
  readonly sinceMs: number;
  /**
   * The error to throw when the key is already claimed (a payment with it counts in the store),
   * given that payment's record when the store's report still has it.
   */
  readonly taken: (holder: SpendRecord | undefined) => Error;
}

/** Limits in token micro-units of a declared, non-USD token, by asset key. */
export type AssetLimits = ReadonlyMap<string, ResolvedLimits & { readonly symbol: string }>;

interface Labelled {
  readonly check: CounterCheck;
  readonly scope: string;
  readonly limit: string;
  readonly unit: string;
}

/**
 * The budget logic, written once over any {@link SpendStore}: the stateless checks (allow and
 * deny lists, per-request caps) used while choosing an option, and the atomic windowed
 * check-and-reserve done in the store right before signing.
 */
export class Budget {
  constructor(
    private readonly config: ResolvedBudget,
    private readonly assetLimits: AssetLimits,
    private readonly store: SpendStore,
  ) {}

  /** Whether `budget.hosts` admits the host of `url`: where a sign-in, which pays nothing, may go. */
  admitsHost(url: string): boolean {
    const host = hostOf(url);
    return listAdmits(this.config.hosts, (p) => hostMatches(host, p));
  }

  /** Whether `budget.networks` admits a CAIP-2 network. */
  admitsNetwork(network: string): boolean {
    return listAdmits(this.config.networks, (n) => n === network);
  }

  /** Stateless checks of a candidate; undefined when it may be paid (windows permitting). */
  check(quote: Quote, requestUrl: string): PolicyRefusal | undefined {
    const { config } = this;
    for (const host of new Set([hostOf(requestUrl), normaliseHost(quote.host)])) {
      if (!listAdmits(config.hosts, (p) => hostMatches(host, p))) {
        return { code: 'host_not_allowed', message: `host ${host} is not allowed by budget.hosts` };
      }
    }
    if (!this.admitsNetwork(quote.network)) {
      return { code: 'network_not_allowed', message: `network ${quote.network} is not allowed by budget.networks` };
    }
    const asset = quote.option.asset.toLowerCase();
    if (!listAdmits(config.assets, (a) => a === asset || a === `${quote.network}/${asset}`)) {
      return { code: 'asset_not_allowed', message: `asset ${quote.option.asset} is not allowed by budget.assets` };
    }
    if (!listAdmits(config.payees, (p) => p === quote.payTo.toLowerCase())) {
      return { code: 'payee_not_allowed', message: `payee ${quote.payTo} is not allowed by budget.payees` };
    }
    const { unit, amount, limits, decimals } = this.unitOf(quote);
    const hostLimits = this.hostScope(quote.host);
    const perRequest = (unit === 'USD' ? hostLimits?.limits.perRequest : undefined) ?? limits?.perRequest;
    if (perRequest === undefined || amount > perRequest) {
      const label = hostLimits?.limits.perRequest !== undefined && unit === 'USD' ? `perHost["${hostLimits.pattern}"].perRequest` : 'perRequest';
      const allowed = perRequest === undefined ? `0 ${unit} (no cap declared)` : `${formatUnits(perRequest, 6)} ${unit}`;
      const requested = `${formatUnits(quote.amount, decimals)} ${unit}`;
      return {
        code: 'budget_exceeded',
        message: `${requested} is over the ${label} limit of ${allowed}`,
        error: new BudgetExceededError({ url: quote.url, limit: label, allowed, requested }),
      };
    }
    return undefined;
  }

  /**
   * Atomically checks every window and reserves the quote in the store; throws when a limit
   * would break. `planned` (the payer, the nonce to sign with, and the latest `validBefore` the
   * signature may carry) is kept in the record from the start, so that a reservation whose
   * process died before sending can be given back once the chain shows that nonce unused past
   * that time (`reconcile`), whether or not it was signed. With `claim`, the reservation also
   * claims an `Idempotency-Key` in the store, atomically with the limits: `claim.taken()` is
   * thrown, and nothing reserved, when a payment with that key already counts there.
   */
  async reserve(quote: Quote, planned?: SpendAuthorization, claim?: KeyClaim): Promise<Reservation> {
    // A claiming reservation's id ends with the claim's digest, so that the payment holding a
    // claim can be found in the report.
    const id = `pay_${toHex(randomBytes(12)).slice(2)}${claim ? `_${claim.digest}` : ''}`;
    const labelled = this.checksFor(quote);
    // The claim goes first: a key already used is the refusal to report, whatever the limits say.
    const checks = claim ? [keyClaimCheck(claim.digest), ...labelled.map((l) => l.check)] : labelled.map((l) => l.check);
    let result;
    try {
      result = await this.store.reserve({
        id,
        checks,
        record: {
          host: quote.host,
          payee: quote.payTo,
          amount: quote.amount.toString(),
          asset: quote.option.asset,
          network: quote.network,
          ...(planned ? { authorization: planned } : {}),
        },
      });
    } catch (cause) {
      throw new BudgetUnavailableError({ url: quote.url, operation: 'reserve the payment', cause });
    }
    if (!result.ok) {
      if (claim && result.failed === 0) throw claim.taken(await this.claimHolder(claim));
      const failed = labelled[claim ? result.failed - 1 : result.failed]!;
      const show = (v: bigint) => (failed.unit === 'payments' ? `${v} payments` : `${formatUnits(v, 6)} ${failed.unit}`);
      throw new BudgetExceededError({
        url: quote.url,
        limit: failed.scope === 'global' ? failed.limit : `${failed.scope} ${failed.limit}`,
        allowed: show(failed.check.limit),
        requested: `${show(failed.check.amount)} more (${show(result.used)} already used)`,
      });
    }
    const store = this.store;
    return {
      id,
      release: () => store.release(id),
      settle: (status, transaction, authorization) => store.settle(id, status, transaction, authorization),
    };
  }

  /**
   * The newest record whose reservation claimed this key, if the report can say (never throws).
   * While a claim is held, no later reservation can take it, so the newest such record is its
   * holder.
   */
  private async claimHolder(claim: KeyClaim): Promise<SpendRecord | undefined> {
    const records = await this.store.report({ since: claim.sinceMs }).catch((): SpendRecord[] => []);
    for (let i = records.length - 1; i >= 0; i--) {
      if (records[i]!.id.endsWith(`_${claim.digest}`)) return records[i];
    }
    return undefined;
  }

  /** How long {@link Budget.approve} may take for this quote, in ms: 0 when it asks nobody. */
  approvalMs(quote: Quote): number {
    return this.needsApproval(quote) ? this.config.approveTimeoutMs : 0;
  }

  private needsApproval(quote: Quote): boolean {
    const { approve, approveAbove } = this.config;
    if (!approve) return false;
    const { unit, amount } = this.unitOf(quote);
    return !(unit === 'USD' && approveAbove !== undefined && amount <= approveAbove);
  }

  /** Asks the approval hook when the quote needs it; throws {@link ApprovalDeniedError} unless it approves in time. */
  async approve(quote: Quote): Promise<void> {
    const { approve, approveTimeoutMs } = this.config;
    if (!approve || !this.needsApproval(quote)) return;
    const { unit, decimals } = this.unitOf(quote);
    const requested = `${formatUnits(quote.amount, decimals)} ${unit}`;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), approveTimeoutMs);
    });
    let answer: boolean | 'timeout';
    try {
      answer = await Promise.race([Promise.resolve().then(() => approve(quote)), timeout]);
    } catch (cause) {
      throw new ApprovalDeniedError({ url: quote.url, reason: 'error', requested, cause });
    } finally {
      clearTimeout(timer);
    }
    if (answer === 'timeout') throw new ApprovalDeniedError({ url: quote.url, reason: 'timeout', requested });
    if (answer !== true) throw new ApprovalDeniedError({ url: quote.url, reason: 'denied', requested });
  }

  /** Room left under every configured limit. */
  async remaining(): Promise<RemainingLimit[]> {
    const all = this.allLimits();
    const used = await this.store.usage(all.map((l) => l.check));
    return all.map((l, i) => {
      const u = used[i] ?? 0n;
      const show = (v: bigint) => (l.unit === 'payments' ? v.toString() : formatUnits(v, 6));
      return { scope: l.scope, limit: l.limit, unit: l.unit, max: show(l.check.limit), used: show(u), remaining: show(u >= l.check.limit ? 0n : l.check.limit - u) };
    });
  }

  /** The spend report from the store. */
  report(query?: { since?: number; limit?: number }): Promise<SpendRecord[]> {
    return this.store.report(query);
  }

  private unitOf(quote: Quote): { unit: string; amount: bigint; limits: ResolvedLimits | undefined; decimals: number; scope: string } {
    if (quote.usd !== undefined) {
      return { unit: 'USD', amount: ceilDiv(quote.usd, 10n ** BigInt(USD_DECIMALS - 6)), limits: this.config.global, decimals: quote.asset.decimals, scope: 'global' };
    }
    const key = assetKey(quote.network, quote.option.asset);
    const limits = this.assetLimits.get(key);
    return {
      unit: limits?.symbol ?? quote.asset.symbol,
      amount: toMicro(quote.amount, quote.asset.decimals),
      limits,
      decimals: quote.asset.decimals,
      scope: `asset:${quote.network}/${quote.option.asset.toLowerCase()}`,
    };
  }

  /** The `perHost` entry of a host: its exact name, else the most specific (longest) matching glob, whatever the key order. */
  private hostScope(quoteHost: string): { pattern: string; limits: ResolvedLimits } | undefined {
    const host = normaliseHost(quoteHost);
    const exact = this.config.perHost.find((h) => h.pattern === host);
    if (exact) return exact;
    let best: { pattern: string; limits: ResolvedLimits } | undefined;
    for (const h of this.config.perHost) if (hostMatches(host, h.pattern) && (!best || h.pattern.length > best.pattern.length)) best = h;
    return best;
  }

  private windowsOf(limits: ResolvedLimits, scope: string, unit: string, amount: bigint): Labelled[] {
    const rolling = this.config.window === 'rolling';
    const w = (seconds: 60 | 3600 | 86400): CounterWindow => (rolling ? { kind: 'rolling', seconds } : { kind: 'calendar', seconds });
    const out: Labelled[] = [];
    const add = (limit: string, window: CounterWindow, max: bigint | number | undefined, u: string, value: bigint) => {
      if (max === undefined) return;
      const name = window.kind === 'total' ? 'total' : `${window.kind}:${window.seconds}`;
      out.push({ scope, limit, unit: u, check: { key: `${scope}|${u === 'payments' ? 'count' : u}|${name}`, window, amount: value, limit: BigInt(max) } });
    };
    add('hourly', w(3600), limits.hourly, unit, amount);
    add('daily', w(86400), limits.daily, unit, amount);
    add('total', { kind: 'total' }, limits.total, unit, amount);
    add('maxPayments.perMinute', w(60), limits.perMinute, 'payments', 1n);
    add('maxPayments.perDay', w(86400), limits.perDay, 'payments', 1n);
    return out;
  }

  private checksFor(quote: Quote): Labelled[] {
    const { unit, amount, limits, scope } = this.unitOf(quote);
    const out: Labelled[] = [];
    if (unit === 'USD') out.push(...this.windowsOf(this.config.global, 'global', 'USD', amount));
    else {
      // Counts are global whatever the asset; amounts of a non-USD token have their own scope.
      const { perMinute, perDay } = this.config.global;
      out.push(...this.windowsOf({ perMinute, perDay }, 'global', 'USD', 0n));
      if (limits) out.push(...this.windowsOf({ hourly: limits.hourly, daily: limits.daily, total: limits.total }, scope, unit, amount));
    }
    const host = this.hostScope(quote.host);
    if (host) {
      const { hourly, daily, total, perMinute, perDay } = host.limits;
      out.push(...this.windowsOf(unit === 'USD' ? { hourly, daily, total, perMinute, perDay } : { perMinute, perDay }, `host:${host.pattern}`, 'USD', amount));
    }
    return out;
  }

  private allLimits(): Labelled[] {
    const out = [...this.windowsOf(this.config.global, 'global', 'USD', 0n)];
    for (const host of this.config.perHost) out.push(...this.windowsOf(host.limits, `host:${host.pattern}`, 'USD', 0n));
    for (const [key, limits] of this.assetLimits) {
      const [network, address] = key.split('|');
      out.push(...this.windowsOf({ hourly: limits.hourly, daily: limits.daily, total: limits.total }, `asset:${network}/${address}`, limits.symbol, 0n));
    }
    return out;
  }
}

/** Micro-units (1e-6) of a token amount with `decimals` places, rounded up. */
export function toMicro(amount: bigint, decimals: number): bigint {
  return decimals >= 6 ? ceilDiv(amount, 10n ** BigInt(decimals - 6)) : amount * 10n ** BigInt(6 - decimals);
}

function ceilDiv(a: bigint, b: bigint): bigint {
  return (a + b - 1n) / b;
}

function hostOf(url: string): string {
  return normaliseHost(new URL(url).hostname);
}

/** A URL's host name without its trailing dot: `example.com.` is the same host as `example.com`. */
function normaliseHost(host: string): string {
  return host.endsWith('.') ? host.slice(0, -1) : host;
}

/** Exact host name, or `*.suffix`: any host ending in `.suffix` (not the suffix itself). Both already normalised. */
export function hostMatches(host: string, pattern: string): boolean {
  return pattern.startsWith('*.') ? host.endsWith(pattern.slice(1)) && host.length > pattern.length - 1 : host === pattern;
}

function listAdmits(list: ResolvedList, matches: (entry: string) => boolean): boolean {
  if (list.deny.some(matches)) return false;
  return list.allow === undefined || list.allow.some(matches);
}
