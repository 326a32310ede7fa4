import type { AuthorizationChecker } from '../chainChecker.js';
import type { Reservation } from '../budget/budget.js';
import type { AuthorizationRef } from '../schemes/exactEvm.js';
import { isX402Error } from '../errors/X402Error.js';

/** Most failed or unknown payments remembered for reconciliation; beyond it the oldest is forgotten (it stays counted). */
export const MAX_AMBIGUOUS_PAYMENTS = 1000;

/** A sent payment whose outcome is `failed` or `unknown`, as remembered for reconciliation. */
interface AmbiguousPayment {
  readonly authorization: AuthorizationRef;
  readonly reservation: Reservation;
  readonly host: string;
  readonly payTo: string;
  readonly amount: bigint;
  readonly asset: string;
}

/**
 * What a reconciliation found for one payment whose outcome was `failed` or `unknown`:
 * - `used`: the chain shows it settled; it stays counted (now as `settled`);
 * - `expired`: its authorization expired unused, so it never moved money; `released` says whether
 *   the store gave the amount back (false once the store no longer keeps its undo information,
 *   after an hour);
 * - `pending`: it can still be settled; it stays counted and is asked about again next time;
 * - `unavailable`: the chain (or the store) could not answer; asked again next time.
 */
export interface ReconciledPayment {
  /** `used`, `expired`, `pending` or `unavailable`. */
  readonly state: 'used' | 'expired' | 'pending' | 'unavailable';
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
  /** For `expired`: whether the budget got the amount back. */
  readonly released?: boolean;
  /** For `unavailable`: why (a `ReconcileUnavailableError`, or the store's error). */
  readonly error?: Error;
}

/** The failed and unknown payments of one engine, and their reconciliation. */
export interface AmbiguousPayments {
  /** Remembers a payment recorded as `failed` or `unknown`. */
  track(payment: AmbiguousPayment): void;
  /** Asks the chain about every remembered payment: releases the expired, settles the used, keeps the rest. */
  reconcile(): Promise<ReconciledPayment[]>;
}

/**
 * Keeps the payments of one wrapped fetch whose outcome was `failed` or `unknown` (at most
 * {@link MAX_AMBIGUOUS_PAYMENTS}, in this process only) and reconciles them with `checker`: the
 * budget gets an amount back only when the chain shows its authorization expired unused (THREATS
 * F3, G5); a used one is recorded `settled`; anything undecided stays counted. Reconciliations
 * run one at a time.
 *
 * @example
 * ```ts
 * import { createAmbiguousPayments } from './ambiguousPayments.js';
 * const ambiguous = createAmbiguousPayments(chainChecker({ 'eip155:8453': publicClient }));
 * ambiguous.track({ authorization, reservation, host, payTo, amount, asset });
 * const outcomes = await ambiguous.reconcile();
 * ```
 */
export function createAmbiguousPayments(checker: AuthorizationChecker): AmbiguousPayments {
  const tracked = new Map<string, AmbiguousPayment>();
  let running: Promise<ReconciledPayment[]> = Promise.resolve([]);

  const reconcileOnce = async (): Promise<ReconciledPayment[]> => {
    const outcomes: ReconciledPayment[] = [];
    for (const [nonce, payment] of [...tracked]) {
      const { reservation: _, ...facts } = payment;
      let state: 'used' | 'expired' | 'pending';
      try {
        state = (await checker.check(payment.authorization)).state;
      } catch (error) {
        if (!isX402Error(error)) throw error; // a misconfigured checker: say so, forget nothing
        outcomes.push({ ...facts, state: 'unavailable', error });
        continue;
      }
      try {
        if (state === 'used') {
          await payment.reservation.settle('settled');
          outcomes.push({ ...facts, state });
        } else if (state === 'expired') {
          const released = (await payment.reservation.release()) === true;
          outcomes.push({ ...facts, state, released });
        } else {
          outcomes.push({ ...facts, state });
          continue;
        }
      } catch (cause) {
        outcomes.push({ ...facts, state: 'unavailable', error: cause instanceof Error ? cause : new Error(String(cause)) });
        continue;
      }
      tracked.delete(nonce);
    }
    return outcomes;
  };

  return {
    track(payment) {
      tracked.set(payment.authorization.nonce, payment);
      if (tracked.size > MAX_AMBIGUOUS_PAYMENTS) tracked.delete(tracked.keys().next().value as string);
    },
    reconcile() {
      running = running.catch(() => []).then(reconcileOnce);
      return running;
    },
  };
}
