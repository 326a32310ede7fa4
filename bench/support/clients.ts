import { wrapFetchWithPayment, x402Client } from '@x402/fetch';
import { ExactEvmScheme } from '@x402/evm/exact/client';
import type { PrivateKeyAccount } from 'viem/accounts';
import { loadAutopay } from './autopay.js';

/** A client under test: a name and a fetch that pays 402s. */
export interface PayingClient {
  readonly name: string;
  readonly fetch: typeof fetch;
}

/**
 * x402-autopay, built from the current source (see `autopay.ts`), with a
 * budget that never refuses a benchmark payment: the reference has no budget to check.
 */
export async function autopayClient(account: PrivateKeyAccount, fetchImpl: typeof fetch = fetch, { prepay = false } = {}): Promise<PayingClient> {
  const { wrapFetch } = (await loadAutopay()).index;
  return {
    name: prepay ? 'x402-autopay, prepay: true' : 'x402-autopay',
    fetch: wrapFetch(fetchImpl, account, {
      budget: { perRequest: '1', daily: 'unlimited', maxPayments: { perMinute: 1_000_000, perDay: 1_000_000_000 } },
      // Opt-in: after the first paid call, the next one to the same place pays with its first request.
      ...(prepay ? ({ prepay: true } as object) : {}),
    }),
  };
}

/** The reference client: `@x402/fetch` `wrapFetchWithPayment` + `x402Client` + the `@x402/evm` exact scheme, from node_modules. */
export function referenceClient(account: PrivateKeyAccount, fetchImpl: typeof fetch = fetch): PayingClient {
  const client = new x402Client().register('eip155:84532', new ExactEvmScheme(account));
  return { name: '@x402/fetch', fetch: wrapFetchWithPayment(fetchImpl, client) };
}

/** One paid request, body read; throws unless the server answered 200. */
export async function paidRequest(client: PayingClient, url: string): Promise<void> {
  const response = await client.fetch(url);
  await response.arrayBuffer();
  if (response.status !== 200) throw new Error(`${client.name}: ${url} answered ${response.status}`);
}
