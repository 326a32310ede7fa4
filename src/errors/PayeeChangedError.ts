import { X402Error } from './X402Error.js';

/**
 * A host that was paid before now names a different recipient (`payTo`). The first payee a host
 * was paid is pinned for that host (trust on first use); a change is refused unless
 * `budget.payees.allow` lists the new payee. Nothing was signed.
 *
 * @example
 * ```ts
 * import { PayeeChangedError } from 'x402-autopay';
 * if (error instanceof PayeeChangedError) console.log(error.host, error.pinned, '→', error.offered);
 * ```
 */
export class PayeeChangedError extends X402Error {
  /** The host (`name:port`). */
  readonly host: string;
  /** The payee this host was paid before. */
  readonly pinned: string;
  /** The payee it names now. */
  readonly offered: string;

  constructor(args: { url: string; host: string; pinned: string; offered: string }) {
    super(`${args.host} was paid to ${args.pinned} before and now asks to be paid to ${args.offered}.`, {
      code: 'payee_changed',
      moneyMoved: 'no',
      details: { url: args.url, host: args.host, pinned: args.pinned, offered: args.offered },
      hint: 'Nothing was paid. If the API really moved its funds, list the new address in options.budget.payees.allow.',
    });
    this.host = args.host;
    this.pinned = args.pinned;
    this.offered = args.offered;
  }
}
