import type { CounterCheck, CounterWindow } from './store.js';

/**
 * The window of a key claim: a rolling day, as long as a wrapped fetch keeps its own record of
 * an `Idempotency-Key` (`KEY_KEPT_MS`).
 */
export const KEY_CLAIM_WINDOW: CounterWindow = { kind: 'rolling', seconds: 86400 };

/** Counter keys of key claims start with this (the scope part of `scope|unit|window`). */
const KEY_CLAIM_SCOPE = 'key:';

/**
 * The counter check that claims an `Idempotency-Key` in the spend store (THREATS F1 across
 * processes): a count of 1 under a limit of 1 in a rolling day, reserved together with the
 * payment's own limits. While the payment counts, no other reservation can claim the key,
 * whichever process or wrapped fetch makes it; when the payment is given back (it was never
 * sent, or it expired unused on chain), so is the key. Only a digest of the key is stored.
 *
 * @param digest - hex digest of the scoped key (origin and key), e.g. 32 hex characters.
 * @example
 * ```ts
 * import { keyClaimCheck } from './keyClaimCheck.js';
 * keyClaimCheck('9f86d081884c7d659a2feaa0c55ad015').key; // 'key:9f86d081884c7d659a2feaa0c55ad015|count|rolling:86400'
 * ```
 */
export function keyClaimCheck(digest: string): CounterCheck {
  return { key: `${KEY_CLAIM_SCOPE}${digest}|count|rolling:86400`, window: KEY_CLAIM_WINDOW, amount: 1n, limit: 1n };
}

/**
 * Whether a counter key is a key claim's: such counters, one per keyed payment, are the only
 * ones whose number grows with use, so the plain-object stores sweep them (`reserveIn`).
 *
 * @example
 * ```ts
 * import { isKeyClaim } from './keyClaimCheck.js';
 * isKeyClaim('global|USD|rolling:86400'); // false
 * ```
 */
export function isKeyClaim(counterKey: string): boolean {
  return counterKey.startsWith(KEY_CLAIM_SCOPE);
}

/**
 * Whether a reservation holding this counter check sweeps the expired key claims
 * (`reserveIn`): a key claim whose digest starts with `0`, so one keyed reservation in 16 on
 * average, chosen by the reservation alone (a replay of the same journal sweeps at the same
 * points). Sweeping at every keyed reservation would cost a look at every claim each time.
 *
 * @example
 * ```ts
 * import { keyClaimCheck, sweepsKeyClaims } from './keyClaimCheck.js';
 * sweepsKeyClaims(keyClaimCheck('0f86d081884c7d659a2feaa0c55ad015').key); // true
 * ```
 */
export function sweepsKeyClaims(counterKey: string): boolean {
  return counterKey.startsWith(`${KEY_CLAIM_SCOPE}0`);
}
