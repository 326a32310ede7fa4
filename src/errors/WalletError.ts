import { X402Error } from './X402Error.js';

/**
 * The wallet failed to give an address or a signature (user rejected, locked, wrong chain,
 * provider error), or, with the `signIn` option, to sign in. No payment header was sent, so no
 * money moved; the reservation was released.
 *
 * @example
 * ```ts
 * import { WalletError } from 'x402-autopay';
 * if (error instanceof WalletError) console.log(error.cause);
 * ```
 */
export class WalletError extends X402Error {
  constructor(args: { url: string; operation: 'address' | 'sign' | 'sign_in'; cause: unknown }) {
    const reason = args.cause instanceof Error ? args.cause.message.split('\n')[0] : String(args.cause);
    const what = args.operation === 'sign' ? 'sign the payment' : args.operation === 'sign_in' ? 'sign in (EIP-4361)' : 'give its address';
    super(`The wallet could not ${what} for ${args.url}.`, {
      code: 'wallet_error',
      moneyMoved: 'no',
      details: { url: args.url, reason: reason?.slice(0, 200) },
      hint:
        args.operation === 'sign_in'
          ? 'Nothing was paid. Check that the wallet is unlocked and may sign messages (personal_sign), or turn signIn off to pay without signing in.'
          : 'Check that the wallet is unlocked, on the right account, and allowed to sign EIP-712 typed data.',
      cause: args.cause,
    });
  }
}
