import { X402Error } from './X402Error.js';
import { authorizationFacts } from './authorizationFacts.js';
import type { AuthorizationRef } from '../schemes/exactEvm.js';

/**
 * Why a call with an `Idempotency-Key` that was already used did not pay:
 * - `in_flight`: another call with that key is paying right now;
 * - `paid`: an earlier call with that key was paid (it got a 2xx, or the chain shows its
 *   authorization used);
 * - `in_doubt`: an earlier call with that key sent a payment whose outcome is unknown, and it
 *   cannot be sent again (it expires in less than 10 s, or has expired and the chain was not or
 *   could not be asked);
 * - `conflict`: the earlier payment is still open, but this call is for another place, or the
 *   server now asks for other terms, so it cannot be sent again for it;
 * - `claimed`: this wrapped fetch has no record of the key, but the spend store shows a payment
 *   made with it in the last 24 hours that was not given back: by another process or wrapped
 *   fetch sharing the store, or before a restart. It may be in flight, paid or in doubt; only
 *   the process that signed it could send it again. `authorization` names it when the store's
 *   report still has its record. (With the `reconcile` option, a holder the chain shows expired
 *   unused is given back first and the call pays: this state then means it was not.)
 */
export type DuplicateRequestState = 'in_flight' | 'paid' | 'in_doubt' | 'conflict' | 'claimed';

/**
 * A call carried an `Idempotency-Key` already used for a payment, and paying for it again could
 * pay twice for one logical request (THREATS F1). Nothing was signed for this call. When the
 * earlier payment was still open and could be settled, the client sent it again instead of
 * signing a new one; this error says why it could not.
 *
 * @example
 * ```ts
 * import { DuplicateRequestError } from 'x402-autopay';
 * if (error instanceof DuplicateRequestError && error.state === 'in_doubt') {
 *   const check = await checkAuthorization(publicClient, error.authorization!);
 * }
 * ```
 */
export class DuplicateRequestError extends X402Error {
  /** Why nothing was paid; see {@link DuplicateRequestState}. */
  readonly state: DuplicateRequestState;
  /** The `Idempotency-Key` of the call. */
  readonly key: string;
  /** The earlier payment's authorization (no signature), when one was sent. */
  readonly authorization: AuthorizationRef | undefined;
  /** The earlier payment's `payment-identifier`, when the server advertised that extension. */
  readonly paymentId: string | undefined;

  constructor(args: { url: string; key: string; state: DuplicateRequestState; authorization?: AuthorizationRef; paymentId?: string; reason?: string }) {
    const what = {
      in_flight: 'another call with this key is paying right now',
      paid: 'an earlier call with this key was paid',
      in_doubt: 'an earlier call with this key sent a payment whose outcome is unknown, and it can no longer be sent again',
      conflict: `the earlier payment with this key is still open, but ${args.reason ?? 'it does not fit this call'}`,
      claimed: 'the spend store holds a payment made with this key in the last 24 hours (by another process or wrapped fetch sharing the store, or before a restart)',
    }[args.state];
    super(`Not paid: Idempotency-Key ${JSON.stringify(args.key.slice(0, 80))} was already used for ${args.url}: ${what}.`, {
      code: 'duplicate_request',
      moneyMoved: 'no',
      details: {
        url: args.url,
        key: args.key.slice(0, 80),
        state: args.state,
        paymentId: args.paymentId,
        ...(args.authorization ? authorizationFacts(args.authorization) : {}),
      },
      hint:
        args.state === 'paid'
          ? 'Nothing new was paid. To buy again, use a new Idempotency-Key.'
          : args.state === 'in_flight'
            ? 'Nothing was paid for this call. Wait for the other call to end, then read its outcome.'
            : args.state === 'claimed'
              ? 'Nothing was paid for this call. The earlier payment is in the spend report (budget.report(), or the CLI\'s spend); checkAuthorization(publicClient, error.authorization), or reconcile, tells whether it was settled. Use a new Idempotency-Key only once you know it was not.'
              : 'Nothing was paid for this call. checkAuthorization(publicClient, error.authorization) tells whether the earlier payment was settled; with the reconcile option the client asks the chain itself once it has expired. Use a new Idempotency-Key only once you know.',
    });
    this.state = args.state;
    this.key = args.key;
    this.authorization = args.authorization;
    this.paymentId = args.paymentId;
  }
}
