import { X402Error } from './X402Error.js';

/**
 * The wallet failed to give an address or a signature (user rejected, locked, wrong chain,
 * provider error). No payment header was sent, so no money moved; the reservation was released.
 *
 * @example
 * ```ts
 * import { WalletError } from 'x402-autopay';
 * if (error instanceof WalletError) console.log(error.cause);
 * ```
 */
export class WalletError extends X402Error {
  constructor(args: { url: string; operation: 'address' | 'sign'; cause: unknown }) {
    const reason = args.cause instanceof Error ? args.cause.message.split('\n')[0] : String(args.cause);
    super(`The wallet could not ${args.operation === 'sign' ? 'sign the payment' : 'give its address'} for ${args.url}.`, {
      code: 'wallet_error',
      moneyMoved: 'no',
      details: { url: args.url, reason: reason?.slice(0, 200) },
      hint: 'Check that the wallet is unlocked, on the right account, and allowed to sign EIP-712 typed data.',
      cause: args.cause,
    });
  }
}
