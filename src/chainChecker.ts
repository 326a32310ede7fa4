import { checkAuthorization, checkedOptions, type AuthorizationCheck, type ChainReader, type CheckAuthorizationOptions } from './checkAuthorization.js';
import { evmChainId } from './protocol/networks.js';
import { ReconcileUnavailableError } from './errors/ReconcileUnavailableError.js';
import type { AuthorizationRef } from './schemes/exactEvm.js';

/**
 * Answers what the chain says of a signed authorization; the `reconcile` option of
 * {@link wrapFetch} takes one. {@link chainChecker} builds it from RPC clients.
 */
export interface AuthorizationChecker {
  /** The authorization's state on chain; rejects with {@link ReconcileUnavailableError} when it cannot tell. */
  check(authorization: AuthorizationRef): Promise<AuthorizationCheck>;
}

/**
 * An {@link AuthorizationChecker} over one RPC client per network (a viem `PublicClient`, or any
 * client or EIP-1193 provider): each authorization is looked up with {@link checkAuthorization}
 * on the client of its network. An authorization on a network without a client cannot be
 * checked (`reconcile_unavailable`), so its payment stays counted.
 *
 * @param chains - one client per CAIP-2 network, e.g. `{ 'eip155:8453': publicClient }`.
 * @param options - the block tag (default `finalized`) and the timeout of each check.
 * @throws TypeError at once for a key that is not an EVM network, a client without `request()`, or a bad option.
 *
 * @example
 * ```ts
 * import { wrapFetch, chainChecker } from 'x402-autopay';
 * import { createPublicClient, http } from 'viem';
 * import { base } from 'viem/chains';
 *
 * const paidFetch = wrapFetch(fetch, account, {
 *   reconcile: chainChecker({ 'eip155:8453': createPublicClient({ chain: base, transport: http() }) }),
 * });
 * // Later (e.g. every few minutes): give back what expired unused, confirm what was used.
 * const outcomes = await paidFetch.budget.reconcile();
 * ```
 */
export function chainChecker(chains: Readonly<Record<string, ChainReader>>, options: CheckAuthorizationOptions = {}): AuthorizationChecker {
  if (typeof chains !== 'object' || chains === null) throw new TypeError("chainChecker: chains must be an object of clients by network, e.g. { 'eip155:8453': publicClient }.");
  const clients = new Map<string, ChainReader>();
  for (const [network, client] of Object.entries(chains)) {
    if (evmChainId(network) === undefined) throw new TypeError(`chainChecker: ${JSON.stringify(network.slice(0, 60))} is not a CAIP-2 EVM network such as 'eip155:8453'.`);
    if (typeof client !== 'object' || client === null || typeof client.request !== 'function') {
      throw new TypeError(`chainChecker: the client for ${network} must be a viem client or an EIP-1193 provider (an object with request()).`);
    }
    clients.set(network, client);
  }
  const settings = Object.freeze(checkedOptions(options, 'chainChecker'));
  return Object.freeze({
    check(authorization: AuthorizationRef): Promise<AuthorizationCheck> {
      const client = clients.get(authorization.network);
      if (!client) return Promise.reject(new ReconcileUnavailableError({ authorization, reason: 'no client is configured for this network' }));
      return checkAuthorization(client, authorization, settings);
    },
  });
}
