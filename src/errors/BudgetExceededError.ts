import { X402Error } from './X402Error.js';

/**
 * Paying would break a budget limit, so nothing was signed and the ledger is unchanged.
 *
 * @example
 * ```ts
 * import { BudgetExceededError } from 'x402-autopay';
 * if (error instanceof BudgetExceededError) console.log(error.limit, error.requested);
 * ```
 */
export class BudgetExceededError extends X402Error {
  /** Which limit refused, e.g. `perRequest`. */
  readonly limit: string;
  /** The limit, human-readable (e.g. `0.10 USD`). */
  readonly allowed: string;
  /** What this payment asked for, human-readable. */
  readonly requested: string;

  constructor(args: { url: string; limit: string; allowed: string; requested: string }) {
    super(`Paying ${args.requested} for ${args.url} would exceed the ${args.limit} limit of ${args.allowed}.`, {
      code: 'budget_exceeded',
      moneyMoved: 'no',
      details: { url: args.url, limit: args.limit, allowed: args.allowed, requested: args.requested },
      hint: 'Raise the limit in options.budget if this price is expected; otherwise nothing needs doing.',
    });
    this.limit = args.limit;
    this.allowed = args.allowed;
    this.requested = args.requested;
  }
}
