/**
 * A Node agent that pays for the URLs it fetches, within a budget.
 *
 *   X402_PRIVATE_KEY=0x… npx tsx examples/agent.ts https://api.example.com/paid [more URLs…]
 *
 * `npm run demo` runs this same agent against a local chain and paid API (examples/demo.ts).
 */
import { pathToFileURL } from 'node:url';
import { privateKeyToAccount } from 'viem/accounts';
import { wrapFetch, getPayment, isX402Error, type WrapFetchOptions } from 'x402-autopay';
import { guardAddresses } from 'x402-autopay/node';
import type { Hex } from 'viem';

/** One line of the agent's report. */
export interface AgentResult {
  url: string;
  outcome: 'paid' | 'free' | 'refused' | 'failed';
  detail: string;
}

/**
 * Fetches each URL with a paying fetch and reports what happened. Errors from the SDK are
 * reported (with their code and whether money may have moved), not thrown.
 */
export async function runAgent(args: {
  key: Hex;
  requests: { url: string; init?: RequestInit }[];
  options?: WrapFetchOptions;
  log?: (line: string) => void;
}): Promise<AgentResult[]> {
  const log = args.log ?? console.log;
  // An agent fetches URLs it was given: redirects may not lead it into the local network
  // (loopback, private ranges, cloud metadata). The demo's local API is the URL asked for, so it is allowed.
  const paidFetch = wrapFetch(guardAddresses(fetch), privateKeyToAccount(args.key), args.options);
  const results: AgentResult[] = [];
  for (const { url, init } of args.requests) {
    try {
      const response = await paidFetch(url, init);
      const body = (await response.text()).slice(0, 120);
      const payment = getPayment(response);
      const result: AgentResult = payment
        ? {
            url,
            outcome: 'paid',
            detail: `HTTP ${response.status}, paid ${payment.amount} atomic units on ${payment.network} (${payment.status}, tx ${payment.transaction ?? 'n/a'}) → ${body}`,
          }
        : { url, outcome: 'free', detail: `HTTP ${response.status}, nothing paid → ${body}` };
      results.push(result);
    } catch (error) {
      if (!isX402Error(error)) throw error;
      const refused = error.moneyMoved === 'no';
      results.push({
        url,
        outcome: refused ? 'refused' : 'failed',
        detail: `${error.code}: ${error.shortMessage} (money moved: ${error.moneyMoved})`,
      });
    }
    const last = results[results.length - 1]!;
    log(`${last.outcome.padEnd(7)} ${init?.method ?? 'GET'} ${last.url}\n        ${last.detail}`);
  }
  return results;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const key = process.env['X402_PRIVATE_KEY'];
  const urls = process.argv.slice(2);
  if (!key || !/^0x[0-9a-fA-F]{64}$/.test(key) || urls.length === 0) {
    console.error('usage: X402_PRIVATE_KEY=0x<64 hex> tsx examples/agent.ts <url> [url…]');
    process.exit(2);
  }
  await runAgent({ key: key as Hex, requests: urls.map((url) => ({ url })), options: { budget: { perRequest: '0.10' } } });
}
