import { X402Error } from './X402Error.js';
import { authorizationFacts } from './authorizationFacts.js';
import type { AuthorizationRef } from '../schemes/exactEvm.js';

/**
 * {@link checkAuthorization} could not read the authorization's state on chain (the RPC failed or
 * timed out, the block tag is not supported, or the token did not answer like an EIP-3009
 * token), so whether the payment was settled is still unknown (THREATS F7). Nothing was signed
 * or sent; keep treating the payment as possibly settled.
 *
 * @example
 * ```ts
 * import { checkAuthorization, ReconcileUnavailableError } from 'x402-autopay';
 * try {
 *   await checkAuthorization(publicClient, error.authorization);
 * } catch (e) {
 *   if (e instanceof ReconcileUnavailableError) scheduleAnotherCheck(e.authorization);
 * }
 * ```
 */
export class ReconcileUnavailableError extends X402Error {
  /** The authorization that could not be looked up. */
  readonly authorization: AuthorizationRef;

  constructor(args: { authorization: AuthorizationRef; reason: string; cause?: unknown }) {
    super(`Could not read the state of the authorization on ${args.authorization.network}: ${args.reason}; whether it was settled is still unknown.`, {
      code: 'reconcile_unavailable',
      moneyMoved: 'maybe',
      details: {
        network: args.authorization.network,
        token: args.authorization.token,
        ...authorizationFacts(args.authorization),
      },
      hint: 'Keep counting the payment as spent and do not pay again for it; check again later (another RPC, or blockTag "latest" if the node has no finalized blocks).',
      cause: args.cause,
    });
    this.authorization = args.authorization;
  }
}
