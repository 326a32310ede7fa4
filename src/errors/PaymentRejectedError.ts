import { X402Error } from './X402Error.js';
import { authorizationFacts } from './authorizationFacts.js';
import type { Payment } from '../receipt.js';

/**
 * The server answered the paid request with a refusal (another 402): it did not accept the
 * payment, or accepted it and failed to settle. The signed authorization did reach the server,
 * so money may still move until it expires; this client never pays again for the same call.
 *
 * @example
 * ```ts
 * import { PaymentRejectedError } from 'x402-autopay';
 * if (error instanceof PaymentRejectedError) console.log(error.reason, error.paymentId, error.payment.transaction);
 * ```
 */
export class PaymentRejectedError extends X402Error {
  /** The server's reason (`errorReason` or `error`), passed through as an opaque string. */
  readonly reason: string;
  /** HTTP status of the answer to the paid request. */
  readonly status: number;
  /** What was paid, as far as the client knows. */
  readonly payment: Payment;
  /** The `payment-identifier` sent with the payment, when the server supports that extension. */
  readonly paymentId: string | undefined;
  /** The answer to the paid request. Not enumerable: logs stay small. */
  declare readonly response: Response;

  constructor(args: { url: string; reason: string; response: Response; payment: Payment }) {
    super(`The server at ${args.url} refused the payment: ${args.reason}.`, {
      code: 'payment_rejected',
      moneyMoved: 'maybe',
      details: {
        url: args.url,
        status: args.response.status,
        reason: args.reason,
        settlement: args.payment.status,
        transaction: args.payment.transaction,
        paymentId: args.payment.paymentId,
        ...authorizationFacts(args.payment.authorization),
      },
      hint: 'Do not retry blindly: the budget keeps this payment counted. Check the reason; checkAuthorization(publicClient, error.payment.authorization) tells whether it was settled after all.',
    });
    this.reason = args.reason;
    this.status = args.response.status;
    this.payment = args.payment;
    this.paymentId = args.payment.paymentId;
    Object.defineProperty(this, 'response', { value: args.response, enumerable: false });
  }
}
