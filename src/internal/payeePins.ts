import { PayeeChangedError } from '../errors/PayeeChangedError.js';
import { hostKey } from './hostKey.js';
import type { PolicyRefusal, Quote } from '../select.js';

/** The payee each host was first paid, per wrapped fetch (THREATS D1). */
export interface PayeePins {
  /** During selection: a refusal when the quote's host is pinned to another payee (not allowed explicitly). */
  refusal(quote: Quote): PolicyRefusal | undefined;
  /**
   * Right before signing: pins the quote's payee to its host if the host has none, or throws
   * {@link PayeeChangedError} if it has another. Returns an undo for when nothing was sent.
   */
  claim(quote: Quote): () => void;
}

const MAX_HOSTS = 10_000;

/**
 * Trust on first use for recipients: the first payee a host is paid is pinned for that host
 * (`name:port`); a later 402 from it naming another `payTo` is refused with
 * {@link PayeeChangedError}, unless `allowed(payTo)` (the caller's `budget.payees.allow`) says
 * the new payee is fine. Check and pin happen in one synchronous step, so two concurrent first
 * payments cannot pin two payees. `enabled === false` pins nothing.
 *
 * @example
 * ```ts
 * import { createPayeePins } from './payeePins.js';
 * const pins = createPayeePins(true, (payTo) => false);
 * const undo = pins.claim(quote); // throws PayeeChangedError if the host was paid to someone else
 * ```
 */
export function createPayeePins(enabled: boolean, allowed: (payTo: string) => boolean): PayeePins {
  const pins = new Map<string, string>();
  const conflict = (quote: Quote): PayeeChangedError | undefined => {
    if (!enabled) return undefined;
    const host = hostKey(quote.url);
    const pinned = pins.get(host);
    if (pinned === undefined || pinned === quote.payTo || allowed(quote.payTo)) return undefined;
    return new PayeeChangedError({ url: quote.url, host, pinned, offered: quote.payTo });
  };
  return {
    refusal(quote) {
      const error = conflict(quote);
      return error ? { code: 'payee_changed', message: error.shortMessage, error } : undefined;
    },
    claim(quote) {
      if (!enabled) return () => undefined;
      const error = conflict(quote);
      if (error) throw error;
      const host = hostKey(quote.url);
      if (pins.has(host)) return () => undefined;
      pins.set(host, quote.payTo);
      if (pins.size > MAX_HOSTS) pins.delete(pins.keys().next().value as string);
      return () => {
        if (pins.get(host) === quote.payTo) pins.delete(host);
      };
    },
  };
}
