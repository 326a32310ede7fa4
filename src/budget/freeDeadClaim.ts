import { authorizationOf } from './authorizationOf.js';
import type { SpendRecord, SpendStore } from './store.js';
import type { AuthorizationChecker } from '../chainChecker.js';

/**
 * Whether the payment holding an `Idempotency-Key`'s claim in the store is dead: its record
 * shows no delivery (`failed`, `unknown`, or still `reserved`: its process died or gave up) and
 * the chain shows its authorization expired unused, so it never moved money and never can. It
 * is then given back to the store (amount and claim), as a reconciliation would; a release that
 * fails, or that another process made first, still counts as dead, since the chain decided.
 * Anything else (a settled record, no authorization in the record, the token shows it `used`
 * or still `pending`, a chain that cannot answer) is not: the claim stands (fails closed).
 *
 * @param store - the spend store holding the claim.
 * @param checker - how authorizations are looked up on chain (the `reconcile` option).
 * @param holder - the newest record whose reservation claimed the key.
 * @returns true when the holder expired unused (and was released, by this call or another).
 *
 * @example
 * ```ts
 * import { freeDeadClaim } from './freeDeadClaim.js';
 * if (holder && (await freeDeadClaim(store, checker, holder))) reservation = await budget.reserve(quote, planned, claim);
 * ```
 */
export async function freeDeadClaim(store: SpendStore, checker: AuthorizationChecker, holder: SpendRecord): Promise<boolean> {
  if (!holder.authorization || !UNDELIVERED.has(holder.status)) return false;
  try {
    if ((await checker.check(authorizationOf(holder))).state !== 'expired') return false;
  } catch {
    return false;
  }
  await store.release(holder.id).catch(() => undefined);
  return true;
}

/** Statuses of a payment that may never have been settled. */
const UNDELIVERED = new Set<SpendRecord['status']>(['failed', 'unknown', 'reserved']);
