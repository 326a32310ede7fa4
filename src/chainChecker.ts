import { checkAuthorization, checkedOptions, type AuthorizationCheck, type ChainReader, type CheckAuthorizationOptions } from './checkAuthorization.js';
import { evmChainId } from './protocol/networks.js';
import { ReconcileUnavailableError } from './errors/ReconcileUnavailableError.js';
import { readBalance, readBlockTime } from './readBalance.js';
import type { Address } from 'viem';
import type { AuthorizationRef } from './schemes/exactEvm.js';

/**
 * Answers what the chain says of a signed authorization; the `reconcile` option of
 * {@link wrapFetch} takes one. {@link chainChecker} builds it from RPC clients.
 */
export interface AuthorizationChecker {
  /** The authorization's state on chain; rejects with {@link ReconcileUnavailableError} when it cannot tell. */
  check(authorization: AuthorizationRef): Promise<AuthorizationCheck>;
  /**
   * `owner`'s balance of an ERC-20 `token` on `network` (CAIP-2) at the latest block, in atomic
   * units; used by the `checkBalance` option. Optional: a checker without it cannot check balances.
   */
  balanceOf?(network: string, token: Address, owner: Address): Promise<bigint>;
  /** The timestamp (unix seconds) of the latest block on `network`; used by `checkBalance` to spot a local clock behind the chain. Optional. */
  blockTime?(network: string): Promise<bigint>;
}

/**
 * An {@link AuthorizationChecker} over one RPC client per network (a viem `PublicClient`, or any
 * client or EIP-1193 provider): each authorization is looked up with {@link checkAuthorization}
 * on the client of its network. An authorization on a network without a client cannot be
 * checked (`reconcile_unavailable`), so its payment stays counted. It also reads balances (for
 * the `checkBalance` option), after making sure once that each client is on its network.
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
  const onChain = new Map<string, Promise<void>>();
  /** Once per network: the client answers for that chain (a failed check is tried again next time). */
  const verified = (network: string, client: ChainReader): Promise<void> => {
    let done = onChain.get(network);
    if (!done) {
      done = client.request({ method: 'eth_chainId' }).then((id) => {
        if (typeof id !== 'string' || BigInt(id) !== BigInt(evmChainId(network)!)) throw new Error(`the client for ${network} answers for chain ${String(id)}`);
      });
      done.catch(() => onChain.delete(network));
      onChain.set(network, done);
    }
    return done;
  };
  return Object.freeze({
    check(authorization: AuthorizationRef): Promise<AuthorizationCheck> {
      const client = clients.get(authorization.network);
      if (!client) return Promise.reject(new ReconcileUnavailableError({ authorization, reason: 'no client is configured for this network' }));
      return checkAuthorization(client, authorization, settings);
    },
    async balanceOf(network: string, token: Address, owner: Address): Promise<bigint> {
      const client = clients.get(network);
      if (!client) throw new Error(`no client is configured for ${network}`);
      await verified(network, client);
      return readBalance(client, { token, owner }, settings.timeoutMs);
    },
    async blockTime(network: string): Promise<bigint> {
      const client = clients.get(network);
      if (!client) throw new Error(`no client is configured for ${network}`);
      await verified(network, client);
      return readBlockTime(client, settings.timeoutMs);
    },
  });
}
