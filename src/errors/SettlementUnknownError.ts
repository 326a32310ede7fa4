import { X402Error } from './X402Error.js';
import type { Quote } from '../select.js';

/**
 * The paid request was sent but its outcome is unknown (network error, timeout, abort or 5xx
 * after sending): the server holds a signed authorization and may have settled it.
 * The SDK never signs again for this call on its own.
 *
 * @example
 * ```ts
 * import { SettlementUnknownError } from 'x402-autopay';
 * if (error instanceof SettlementUnknownError) console.log(error.quote.amount, error.validBefore);
 * ```
 */
export class SettlementUnknownError extends X402Error {
  /** What was signed and sent. */
  readonly quote: Quote;
  /** The `payment-identifier` sent with it, when the server supports that extension. */
  readonly paymentId: string | undefined;
  /** Unix seconds after which the authorization can no longer be settled. */
  readonly validBefore: bigint;
  /** The answer, when there was one (a 5xx). */
  readonly response: Response | undefined;

  constructor(args: {
    url: string;
    quote: Quote;
    validBefore: bigint;
    paymentId?: string;
    response?: Response;
    cause?: unknown;
  }) {
    const what = args.response ? `HTTP ${args.response.status}` : 'no answer';
    super(`The paid request to ${args.url} was sent but its outcome is unknown (${what}).`, {
      code: 'settlement_unknown',
      moneyMoved: 'maybe',
      details: {
        url: args.url,
        paymentId: args.paymentId,
        'authorization valid until': new Date(Number(args.validBefore) * 1000).toISOString(),
      },
      hint: 'Do not pay again: check the chain or the API for this payment before retrying the call.',
      cause: args.cause,
    });
    this.quote = args.quote;
    this.paymentId = args.paymentId;
    this.validBefore = args.validBefore;
    this.response = args.response;
  }
}
