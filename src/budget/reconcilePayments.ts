import { PENDING_TTL_MS } from './ledgerState.js';
import { authorizationOf } from './authorizationOf.js';
import { isX402Error } from '../errors/X402Error.js';
import type { SpendStore } from './store.js';
import type { AuthorizationChecker } from '../chainChecker.js';
import type { AuthorizationRef } from '../schemes/exactEvm.js';

/**
 * What a reconciliation found for one payment whose outcome was `failed` or `unknown`, for one
 * still `reserved` past the latest `validBefore` planned for it (its process died or gave up
 * before recording that it sent it; it may never have been signed), or, when receipts are
 * checked, for one `settled`:
 * - `used`: the chain shows it settled; it stays counted, now as `settled`;
 * - `expired`: its authorization expired unused, so it never moved money; `released` says
 *   whether the store gave the amount back now (false when another process already did, or
 *   when the payment is older than the store keeps what is needed to release it: an hour);
 * - `pending`: it can still be settled; it stays counted, and is asked about again next time;
 * - `unavailable`: the chain (or the store) could not answer; asked again next time.
 */
export interface ReconciledPayment {
  /** `used`, `expired`, `pending` or `unavailable`. */
  readonly state: 'used' | 'expired' | 'pending' | 'unavailable';
  /** The reservation id (as in the spend report). */
  readonly id: string;
  /** Where the authorization was looked up. */
  readonly authorization: AuthorizationRef;
  /** Host name of the URL that was paid. */
  readonly host: string;
  /** Recipient address. */
  readonly payTo: string;
  /** Atomic units signed for. */
  readonly amount: bigint;
  /** Token contract address. */
  readonly asset: string;
  /** For `expired`: whether the budget got the amount back now. */
  readonly released?: boolean;
  /** For `unavailable`: why (a `ReconcileUnavailableError`, or the store's error). */
  readonly error?: Error;
  /**
   * Only for a payment whose receipt said `settled` (with `{ receipts: true }`): `confirmed` when
   * the chain shows its authorization used; `not_on_chain` when it does not (`pending` or
   * `expired`): the server's receipt was false or early (THREATS F4). Such a payment stays
   * counted either way: the store keeps nothing to give a settled payment back.
   */
  readonly receipt?: 'confirmed' | 'not_on_chain';
}

/** Options of a reconciliation. */
export interface ReconcileOptions {
  /**
   * Also check the payments whose receipt said `settled` (default false): a receipt is the
   * server's word, and a forged or replayed one is not proof (THREATS F4). One chain read each.
   */
  readonly receipts?: boolean;
}

/**
 * Reconciles the `failed` and `unknown` payments of a store's last hour (while the store can
 * still release them), and the reservations still `reserved` past the latest `validBefore`
 * planned for them (left behind by a crash before sending: THREATS H4), with `checker`: a
 * payment is given back to the budget only when the chain shows its authorization (for a
 * reservation: its planned nonce) expired unused (THREATS F3, G5); one found used is recorded
 * `settled`; anything undecided stays counted. With `receipts`, the `settled` payments of that hour are
 * asked about too, and only reported (`receipt`: confirmed, or not on chain). It reads the store's report, so any process sharing the store
 * can reconcile what another one paid; a store's release is atomic, so two at once give an
 * amount back once.
 *
 * @param store - the spend store.
 * @param checker - how authorizations are looked up on chain.
 * @param nowMs - now, by the engine's clock.
 * @param options - `receipts: true` also checks the payments whose receipt said settled.
 * @returns one outcome per payment asked about, oldest first.
 * @throws what the checker throws that is not an `X402Error` (a misconfigured checker), and the store's report error.
 *
 * @example
 * ```ts
 * import { reconcilePayments } from './reconcilePayments.js';
 * const outcomes = await reconcilePayments(store, chainChecker({ 'eip155:8453': publicClient }), Date.now());
 * ```
 */
export async function reconcilePayments(store: SpendStore, checker: AuthorizationChecker, nowMs: number, options: ReconcileOptions = {}): Promise<ReconciledPayment[]> {
  const outcomes: ReconciledPayment[] = [];
  // Ten minutes more than the store keeps undo information, for a store whose clock is not ours (Redis).
  const nowSeconds = BigInt(Math.floor(nowMs / 1000));
  for (const record of await store.report({ since: nowMs - PENDING_TTL_MS - 600_000 })) {
    if (!record.authorization) continue;
    const receipt = record.status === 'settled';
    // A reservation is asked about only once no signature for it can be valid: one in flight is left alone.
    const leftBehind = record.status === 'reserved' && BigInt(record.authorization.validBefore) < nowSeconds;
    if (receipt ? !options.receipts : record.status !== 'failed' && record.status !== 'unknown' && !leftBehind) continue;
    const authorization = authorizationOf(record);
    const facts = { id: record.id, authorization, host: record.host, payTo: record.payee, amount: BigInt(record.amount), asset: record.asset };
    let state: 'used' | 'expired' | 'pending';
    try {
      state = (await checker.check(authorization)).state;
    } catch (error) {
      if (!isX402Error(error)) throw error;
      outcomes.push({ ...facts, state: 'unavailable', error });
      continue;
    }
    if (receipt) {
      // Nothing to change: a settled payment stays counted. Only say whether the chain agrees.
      outcomes.push({ ...facts, state, receipt: state === 'used' ? 'confirmed' : 'not_on_chain' });
      continue;
    }
    try {
      if (state === 'used') {
        await store.settle(record.id, 'settled', record.transaction, record.authorization);
        outcomes.push({ ...facts, state });
      } else if (state === 'expired') {
        outcomes.push({ ...facts, state, released: (await store.release(record.id)) === true });
      } else {
        outcomes.push({ ...facts, state });
      }
    } catch (cause) {
      outcomes.push({ ...facts, state: 'unavailable', error: cause instanceof Error ? cause : new Error(String(cause)) });
    }
  }
  return outcomes;
}
