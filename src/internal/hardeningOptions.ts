import type { BreakerSettings } from './circuitBreaker.js';
import type { PricePinSettings } from './pricePins.js';
import type { ResendSettings } from './sendPaid.js';

/** The options of `wrapFetch` that bound what a hostile server can make the client do. */
export interface HardeningOptions {
  readonly challengeTimeoutMs?: number;
  readonly paidRequestTimeoutMs?: number;
  readonly breaker?: { readonly threshold?: number; readonly coolDownMs?: number } | false;
  readonly pinPayees?: boolean;
  readonly pinPrices?: boolean | { readonly maxRatio?: number };
  readonly allowInsecureHttp?: boolean;
  readonly resend?: { readonly times?: number; readonly delayMs?: number } | false;
}

/** {@link HardeningOptions} after validation, defaults filled in. */
export interface ResolvedHardening {
  /** Most ms reading a 402 body may take. */
  readonly challengeTimeoutMs: number;
  /** Most ms to wait for the answer (its headers) to the paid request. */
  readonly paidRequestTimeoutMs: number;
  /** The circuit breaker, or false when it is off. */
  readonly breaker: BreakerSettings | false;
  /** Whether the first payee of each host is pinned. */
  readonly pinPayees: boolean;
  /** The price pins per place, or false when off (the default). */
  readonly pinPrices: PricePinSettings | false;
  /** Whether plain-HTTP 402s from hosts that are not loopback may be paid. */
  readonly allowInsecureHttp: boolean;
  /** How a paid request without a usable answer is sent again with the same payment, or false when never. */
  readonly resend: ResendSettings | false;
}

/** Defaults of the hardening options. */
export const HARDENING_DEFAULTS = Object.freeze({
  challengeTimeoutMs: 5_000,
  paidRequestTimeoutMs: 120_000,
  breakerThreshold: 3,
  breakerCoolDownMs: 60_000,
  pinPricesMaxRatio: 2,
  resendTimes: 1,
  resendDelayMs: 500,
});

/**
 * Validates the hardening options once, at `wrapFetch` time; a bad one is a `TypeError` naming it.
 *
 * @example
 * ```ts
 * import { resolveHardening } from './hardeningOptions.js';
 * resolveHardening({ breaker: { threshold: 5 } }).breaker; // { threshold: 5, coolDownMs: 60000 }
 * ```
 */
export function resolveHardening(options: HardeningOptions): ResolvedHardening {
  const breaker = options.breaker;
  let resolvedBreaker: BreakerSettings | false;
  if (breaker === false) resolvedBreaker = false;
  else if (breaker === undefined) resolvedBreaker = { threshold: HARDENING_DEFAULTS.breakerThreshold, coolDownMs: HARDENING_DEFAULTS.breakerCoolDownMs };
  else if (typeof breaker !== 'object' || breaker === null || Array.isArray(breaker)) {
    return fail('breaker', 'must be { threshold?, coolDownMs? } or false', breaker);
  } else {
    for (const key of Object.keys(breaker)) {
      if (key !== 'threshold' && key !== 'coolDownMs') fail(`breaker.${key}`, 'is not a breaker option', undefined);
    }
    resolvedBreaker = Object.freeze({
      threshold: integer(breaker.threshold, 'breaker.threshold', HARDENING_DEFAULTS.breakerThreshold, 1, 1000),
      coolDownMs: integer(breaker.coolDownMs, 'breaker.coolDownMs', HARDENING_DEFAULTS.breakerCoolDownMs, 0, 7 * 24 * 3_600_000),
    });
  }
  return Object.freeze({
    challengeTimeoutMs: integer(options.challengeTimeoutMs, 'challengeTimeoutMs', HARDENING_DEFAULTS.challengeTimeoutMs, 10, 600_000),
    paidRequestTimeoutMs: integer(options.paidRequestTimeoutMs, 'paidRequestTimeoutMs', HARDENING_DEFAULTS.paidRequestTimeoutMs, 10, 3_600_000),
    breaker: resolvedBreaker,
    pinPayees: boolean(options.pinPayees, 'pinPayees', true),
    pinPrices: resolvePinPrices(options.pinPrices),
    allowInsecureHttp: boolean(options.allowInsecureHttp, 'allowInsecureHttp', false),
    resend: resolveResend(options.resend),
  });
}

function resolveResend(value: HardeningOptions['resend'] | unknown): ResendSettings | false {
  if (value === false) return false;
  if (value === undefined) return Object.freeze({ times: HARDENING_DEFAULTS.resendTimes, delayMs: HARDENING_DEFAULTS.resendDelayMs });
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return fail('resend', 'must be { times?, delayMs? } or false', value);
  for (const key of Object.keys(value)) {
    if (key !== 'times' && key !== 'delayMs') fail(`resend.${key}`, 'is not a resend option', undefined);
  }
  const { times, delayMs } = value as { times?: unknown; delayMs?: unknown };
  return Object.freeze({
    times: integer(times, 'resend.times', HARDENING_DEFAULTS.resendTimes, 0, 5),
    delayMs: integer(delayMs, 'resend.delayMs', HARDENING_DEFAULTS.resendDelayMs, 0, 60_000),
  });
}

function resolvePinPrices(value: HardeningOptions['pinPrices'] | unknown): PricePinSettings | false {
  if (value === undefined || value === false) return false;
  if (value === true) return Object.freeze({ maxRatio: HARDENING_DEFAULTS.pinPricesMaxRatio });
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return fail('pinPrices', 'must be true, false or { maxRatio? }', value);
  for (const key of Object.keys(value)) {
    if (key !== 'maxRatio') fail(`pinPrices.${key}`, 'is not a pinPrices option', undefined);
  }
  const maxRatio = (value as { maxRatio?: unknown }).maxRatio ?? HARDENING_DEFAULTS.pinPricesMaxRatio;
  if (typeof maxRatio !== 'number' || !Number.isFinite(maxRatio) || maxRatio < 1 || maxRatio > 1_000_000) {
    fail('pinPrices.maxRatio', 'must be a number from 1 to 1000000', maxRatio);
  }
  return Object.freeze({ maxRatio: maxRatio as number });
}

function integer(value: unknown, name: string, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    fail(name, `must be an integer from ${min} to ${max}`, value);
  }
  return value as number;
}

function boolean(value: unknown, name: string, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') fail(name, 'must be true or false', value);
  return value as boolean;
}

function fail(name: string, problem: string, value: unknown): never {
  const got = value === undefined ? '' : `; got ${typeof value === 'string' ? JSON.stringify(value.slice(0, 60)) : typeof value === 'object' ? 'an object' : String(value)}`;
  throw new TypeError(`wrapFetch: options.${name} ${problem}${got}.`);
}
