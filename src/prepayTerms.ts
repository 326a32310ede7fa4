import { placeKey } from './internal/placeKey.js';
import type { Challenge } from './protocol/challenge.js';
import type { Quote } from './select.js';

/** Settings of opt-in prepayment (`options.prepay`). */
export interface PrepayOptions {
  /** How long remembered terms may be used, in ms (default 60,000; at most 600,000). */
  readonly ttlMs?: number;
  /** Most places remembered at once; the oldest is forgotten first (default 256). */
  readonly maxEntries?: number;
}

/** {@link PrepayOptions} after validation. */
export interface ResolvedPrepay {
  readonly ttlMs: number;
  readonly maxEntries: number;
}

/** Remembered terms of one place (origin + method + path). */
interface Entry {
  readonly challenge: Challenge;
  readonly expires: number;
}

/**
 * The terms a place accepted last, kept so that the next call there can carry a payment at once
 * and save the 402 round trip. Keyed by origin, method and path (never shared across hosts), with
 * a short life and a bounded size. Only the option that was paid is remembered.
 */
export interface PrepayTerms {
  /** Remembers what `url` (requested with `method`) accepted. */
  remember(method: string, url: string, challenge: Challenge, quote: Quote): void;
  /** The remembered terms of a place, as a one-option challenge, or undefined. */
  recall(method: string, url: string): Challenge | undefined;
  /** Forgets a place (its server answered 402 to a prepaid request). */
  forget(method: string, url: string): void;
}

/**
 * Creates the prepay memory of one wrapped fetch.
 *
 * @example
 * ```ts
 * import { createPrepayTerms } from './prepayTerms.js';
 * const terms = createPrepayTerms({ ttlMs: 60_000, maxEntries: 256 }, Date.now);
 * terms.remember('GET', 'https://api.example.com/a', challenge, quote);
 * terms.recall('GET', 'https://api.example.com/a'); // one-option challenge
 * ```
 */
export function createPrepayTerms(settings: ResolvedPrepay, clock: () => number): PrepayTerms {
  const entries = new Map<string, Entry>();
  return {
    remember(method, url, challenge, quote) {
      const key = placeKey(method, url);
      entries.delete(key);
      entries.set(key, {
        challenge: Object.freeze({ ...challenge, options: Object.freeze([quote.option]) }),
        expires: clock() + settings.ttlMs,
      });
      while (entries.size > settings.maxEntries) entries.delete(entries.keys().next().value as string);
    },
    recall(method, url) {
      const key = placeKey(method, url);
      const entry = entries.get(key);
      if (!entry) return undefined;
      if (entry.expires <= clock()) {
        entries.delete(key);
        return undefined;
      }
      return entry.challenge;
    },
    forget(method, url) {
      entries.delete(placeKey(method, url));
    },
  };
}

/** Validates `options.prepay`; `false`/absent turns prepayment off. */
export function resolvePrepay(value: unknown): ResolvedPrepay | false {
  if (value === undefined || value === false) return false;
  if (value === true) return { ttlMs: 60_000, maxEntries: 256 };
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new TypeError('wrapFetch: options.prepay must be true, false or { ttlMs?, maxEntries? }.');
  }
  const { ttlMs = 60_000, maxEntries = 256, ...rest } = value as PrepayOptions & Record<string, unknown>;
  const extra = Object.keys(rest)[0];
  if (extra !== undefined) throw new TypeError(`wrapFetch: options.prepay.${extra} is not a prepay option.`);
  if (!Number.isInteger(ttlMs) || ttlMs < 1 || ttlMs > 600_000) throw new TypeError('wrapFetch: options.prepay.ttlMs must be an integer from 1 to 600000.');
  if (!Number.isInteger(maxEntries) || maxEntries < 1 || maxEntries > 100_000) {
    throw new TypeError('wrapFetch: options.prepay.maxEntries must be an integer from 1 to 100000.');
  }
  return Object.freeze({ ttlMs, maxEntries });
}
