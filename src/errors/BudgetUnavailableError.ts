import { X402Error } from './X402Error.js';

/**
 * The spend store could not be used (unreachable, timed out, corrupt or tampered), so the budget
 * could not be checked: the client fails closed and pays nothing.
 *
 * @example
 * ```ts
 * import { BudgetUnavailableError } from 'x402-autopay';
 * if (error instanceof BudgetUnavailableError) alertOperator(error.cause);
 * ```
 */
export class BudgetUnavailableError extends X402Error {
  constructor(args: { url: string; operation: string; cause: unknown }) {
    const reason = args.cause instanceof Error ? args.cause.message.split('\n')[0] : String(args.cause);
    super(`The spend ledger could not ${args.operation} for ${args.url}, so nothing was paid.`, {
      code: 'budget_unavailable',
      moneyMoved: 'no',
      details: { url: args.url, reason: reason?.slice(0, 200) },
      hint: 'Check the store (file permissions and integrity, Redis reachability); payments resume once it answers correctly.',
      cause: args.cause,
    });
  }
}
