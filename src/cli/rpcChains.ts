import { createPublicClient, http } from 'viem';
import type { ChainReader } from '../checkAuthorization.js';
import { show, UsageError } from './args.js';

/**
 * One client per `--rpc` URL, keyed by the CAIP-2 network each node says it serves
 * (`eth_chainId`). A URL that is not http(s) is a {@link UsageError}; a node that does not
 * answer rejects with an `Error` naming it.
 *
 * @example
 * ```ts
 * import { rpcChains } from './rpcChains.js';
 * const chains = await rpcChains(['http://127.0.0.1:8545'], 'fetch'); // { 'eip155:84532': client }
 * ```
 */
export async function rpcChains(urls: readonly string[], command: string): Promise<Record<string, ChainReader>> {
  for (const url of urls) {
    if (!/^https?:\/\/[^\s]+$/i.test(url) || !URL.canParse(url)) throw new UsageError(`--rpc must be an http(s) URL; got ${show(url)}`, command);
  }
  const chains: Record<string, ChainReader> = {};
  for (const url of urls) {
    const client = createPublicClient({ transport: http(url, { retryCount: 1, timeout: 10_000 }) });
    let chainId: number;
    try {
      chainId = await client.getChainId();
    } catch (error) {
      throw new Error(`the node ${url} did not say which chain it serves (${(error instanceof Error ? error.message : String(error)).split('\n')[0]})`);
    }
    chains[`eip155:${chainId}`] = client;
  }
  return chains;
}
