/** What is known about the paid call of an `Idempotency-Key`. */
export type KeyedCall<T> =
  /** A call with the key is paying now (nothing may be known yet). */
  | { readonly kind: 'in_flight' }
  /** A payment was sent and did not deliver (unknown outcome, a refusal, a non-2xx): it may be sent again. */
  | { readonly kind: 'open'; readonly payment: T }
  /** A payment was sent and delivered (a 2xx), or the chain shows it settled. */
  | { readonly kind: 'done'; readonly payment: T };

/** The calls of each `Idempotency-Key` (scoped by the caller, e.g. per origin), in this process. */
export interface IdempotencyKeys<T> {
  /** The key's call; when the key has none, claims it as in flight and returns undefined. */
  claim(key: string): KeyedCall<T> | undefined;
  /** Records what is now known about the key's call. */
  set(key: string, call: KeyedCall<T>): void;
  /** Forgets the key (its call sent nothing, or its payment is known to be dead). */
  forget(key: string): void;
}

/** How long a key is remembered after its last change (Stripe keeps idempotency keys 24 h). */
export const KEY_KEPT_MS = 24 * 3_600_000;
/** Most keys remembered at once; beyond that the oldest are forgotten. */
export const MAX_KEYS = 10_000;

/**
 * A bounded, in-memory record of the paid calls of each `Idempotency-Key` (THREATS F1): kept
 * {@link KEY_KEPT_MS} after the last change, at most {@link MAX_KEYS} (the oldest go first).
 * Nothing here survives the process; the header itself never appears in it, only what the
 * caller stores as `T`.
 *
 * @example
 * ```ts
 * import { createIdempotencyKeys } from './idempotencyKeys.js';
 * const keys = createIdempotencyKeys<string>(Date.now);
 * keys.claim('https://api.example.com pay_1'); // undefined: claimed, in flight
 * keys.claim('https://api.example.com pay_1'); // { kind: 'in_flight' }
 * ```
 */
export function createIdempotencyKeys<T>(clock: () => number): IdempotencyKeys<T> {
  const calls = new Map<string, { call: KeyedCall<T>; until: number }>();
  const set = (key: string, call: KeyedCall<T>) => {
    calls.delete(key); // re-inserted last: the map's order is the order of last change
    calls.set(key, { call, until: clock() + KEY_KEPT_MS });
    for (const oldest of calls.keys()) {
      if (calls.size <= MAX_KEYS) break;
      calls.delete(oldest);
    }
  };
  return {
    claim(key) {
      const entry = calls.get(key);
      if (entry && entry.until > clock()) return entry.call;
      set(key, { kind: 'in_flight' });
      return undefined;
    },
    set,
    forget: (key) => void calls.delete(key),
  };
}
