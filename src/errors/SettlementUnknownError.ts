import { X402Error } from './X402Error.js';
import { authorizationFacts } from './authorizationFacts.js';
import type { Quote } from '../select.js';
import type { AuthorizationRef } from '../schemes/exactEvm.js';

/**
 * What made the outcome of a sent payment unknown: the paid request timed out
 * (`paidRequestTimeoutMs`), the caller aborted it, the connection failed after sending
 * (`network`, e.g. a reset), the server answered 5xx without a settled receipt (`server_error`),
 * or it was sent again after one of those and the server refused it with a 402
 * (`refused_after_resend`: typically because the first send was settled, so its nonce is used).
 * The reason is the last send's.
 */
export type SettlementUnknownReason = 'timeout' | 'aborted' | 'network' | 'server_error' | 'refused_after_resend';

/**
 * The paid request was sent but its outcome is unknown (timeout, connection reset, abort or 5xx
 * after sending): the server holds a signed authorization and may have settled it, so money may
 * have moved. The SDK never signs again for this call; when the request may be repeated, it was
 * already sent again with the same payment (the `resend` option) before this error. It carries what is
 * needed to reconcile: the quote, the `payment-identifier` (when the server supports it) and
 * the authorization (token, payer, nonce, expiry), which {@link checkAuthorization} looks up on
 * chain.
 *
 * @example
 * ```ts
 * import { SettlementUnknownError, checkAuthorization } from 'x402-autopay';
 * if (error instanceof SettlementUnknownError) {
 *   const check = await checkAuthorization(publicClient, error.authorization);
 *   if (check.state === 'expired') console.log('never settled and never can be: safe to pay again');
 * }
 * ```
 */
export class SettlementUnknownError extends X402Error {
  /** What was signed and sent. */
  readonly quote: Quote;
  /** The `payment-identifier` sent with it, when the server supports that extension. */
  readonly paymentId: string | undefined;
  /** Unix seconds after which the authorization can no longer be settled. */
  readonly validBefore: bigint;
  /** Where the signed authorization can be looked up on chain (no signature); see {@link checkAuthorization}. */
  readonly authorization: AuthorizationRef;
  /** Why the outcome is unknown. */
  readonly reason: SettlementUnknownReason;
  /** How many times the paid request was sent, always with the same payment (see the `resend` option). */
  readonly sends: number;
  /** The answer, when there was one (a 5xx). Not enumerable: logs stay small. */
  declare readonly response: Response | undefined;

  constructor(args: {
    url: string;
    quote: Quote;
    authorization: AuthorizationRef;
    paymentId?: string;
    reason?: SettlementUnknownReason;
    response?: Response;
    cause?: unknown;
    sends?: number;
  }) {
    const sends = args.sends ?? 1;
    const reason = args.reason ?? (args.response ? 'server_error' : 'network');
    const what =
      reason === 'timeout'
        ? 'no answer in time'
        : reason === 'aborted'
          ? 'aborted after sending'
          : reason === 'refused_after_resend'
            ? 'sent again with the same payment after no usable answer, and refused; the first send may have been settled'
            : args.response
              ? `HTTP ${args.response.status}`
              : 'no answer';
    const times = sends > 1 ? `, sent ${sends} times with the same payment` : '';
    super(`The paid request to ${args.url} was sent but its outcome is unknown (${what}${times}); money may have moved.`, {
      code: 'settlement_unknown',
      moneyMoved: 'maybe',
      details: {
        url: args.url,
        reason,
        sends,
        paymentId: args.paymentId,
        amount: `${args.quote.amount} atomic units of ${args.quote.option.asset} on ${args.quote.network}`,
        payTo: args.quote.payTo,
        ...authorizationFacts(args.authorization),
      },
      hint: 'Do not pay again yet: checkAuthorization(publicClient, error.authorization) tells whether it was settled, may still be, or expired unused (then it is safe to retry); or ask the API by paymentId.',
      cause: args.cause,
    });
    this.quote = args.quote;
    this.paymentId = args.paymentId;
    this.validBefore = args.authorization.validBefore;
    this.authorization = args.authorization;
    this.reason = reason;
    this.sends = sends;
    Object.defineProperty(this, 'response', { value: args.response, enumerable: false });
  }
}
