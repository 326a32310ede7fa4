import { X402Error } from './X402Error.js';

/**
 * The `approve` hook did not approve the payment: it said no, threw, or did not answer in time.
 * Nothing was signed and the reservation was released.
 *
 * @example
 * ```ts
 * import { ApprovalDeniedError } from 'x402-autopay';
 * if (error instanceof ApprovalDeniedError) console.log(error.reason); // 'denied' | 'timeout' | 'error'
 * ```
 */
export class ApprovalDeniedError extends X402Error {
  /** Why: the hook returned false, timed out, or threw. */
  readonly reason: 'denied' | 'timeout' | 'error';

  constructor(args: { url: string; reason: 'denied' | 'timeout' | 'error'; requested: string; cause?: unknown }) {
    const why = args.reason === 'denied' ? 'was denied' : args.reason === 'timeout' ? 'got no answer in time' : 'failed';
    super(`Approval of ${args.requested} for ${args.url} ${why}.`, {
      code: 'approval_denied',
      moneyMoved: 'no',
      details: { url: args.url, reason: args.reason, requested: args.requested },
      hint: 'Nothing was paid. Approve the payment, or raise budget.approveAbove if such payments need no approval.',
      cause: args.cause,
    });
    this.reason = args.reason;
  }
}
