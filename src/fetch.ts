import { createEngine } from './engine.js';
import { resolveOptions, type WrapFetchOptions } from './options.js';
import { prepareReplay } from './requestReplay.js';
import { toWallet } from './wallets/toWallet.js';
import type { WalletInput } from './wallets/types.js';

/**
 * Wraps a fetch so that it pays x402 (v1 and v2) challenges by itself, within a budget.
 * The result is a drop-in `typeof fetch`: every non-402 answer is returned untouched; a 402 is
 * read, the cheapest acceptable option is checked against the budget, reserved, signed once
 * with the wallet, and the request is sent once more with the payment header. The paid answer
 * carries its receipt: read it with {@link getPayment}.
 *
 * @param fetchImpl - the fetch to wrap (`globalThis.fetch`, or any compatible function).
 * @param wallet - a viem `LocalAccount`, a viem `WalletClient`, an EIP-1193 provider, or `{ address, signTypedData }`.
 * @param options - budget, accepted assets and networks, limits; see {@link WrapFetchOptions}.
 * @throws TypeError at once when the wallet or an option has the wrong shape.
 *
 * @example
 * ```ts
 * import { wrapFetch, getPayment } from 'x402-autopay';
 * import { privateKeyToAccount } from 'viem/accounts';
 *
 * const paidFetch = wrapFetch(fetch, privateKeyToAccount(process.env.KEY as `0x${string}`), {
 *   budget: { perRequest: '0.05' },
 * });
 * const response = await paidFetch('https://api.example.com/weather');
 * console.log(await response.json(), getPayment(response)?.transaction);
 * ```
 */
export function wrapFetch(fetchImpl: typeof fetch, wallet: WalletInput, options?: WrapFetchOptions): typeof fetch {
  if (typeof fetchImpl !== 'function') {
    throw new TypeError(`wrapFetch: fetch must be a function (e.g. globalThis.fetch); got ${fetchImpl === null ? 'null' : typeof fetchImpl}.`);
  }
  const resolved = resolveOptions(options);
  const engine = createEngine(toWallet(wallet), resolved);
  const paidFetch = async (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
    const replay = await prepareReplay(input, init, resolved.maxRequestBodyBytes);
    const response = await fetchImpl(...replay.first());
    if (response.status !== 402) return response;
    return engine.pay(response, replay, fetchImpl);
  };
  return paidFetch as typeof fetch;
}
