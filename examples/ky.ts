/**
 * ky + `withPayment`: a ky instance that pays x402 challenges within a budget, with ky's own
 * `timeout`, `retry` and `.json()` still working.
 *
 *   npx tsx examples/ky.ts                                  # starts a local chain + paid APIs, pays them
 *   X402_PRIVATE_KEY=0x… npx tsx examples/ky.ts <url> [url…]  # the same against real URLs (GET)
 *
 * Needs `npm run build` first (the example imports the package, `x402-autopay`, from dist/).
 */
import { pathToFileURL } from 'node:url';
import ky from 'ky';
import { formatUnits, type Hex } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { getPayment, isX402Error, type WrapFetchOptions } from 'x402-autopay';
import { withPayment } from 'x402-autopay/ky';

/**
 * Calls each URL through a paying ky instance and prints what was paid. SDK errors are printed
 * with their code and whether money may have moved; ky's own errors (HTTPError, TimeoutError)
 * are printed by name.
 */
export async function runKy(args: {
  key: Hex;
  requests: { url: string; json?: unknown }[];
  options?: WrapFetchOptions;
}): Promise<{ paid: number; refused: number }> {
  // Set ky's options first: `.extend()` of a paying instance keeps paying, but only the
  // instance `withPayment` returns carries `.budget`.
  const base = ky.create({
    timeout: 30_000, // covers the 402, the signature and the paid request: one ky attempt
    retry: { limit: 2 }, // unpaid failures are retried; a call that sent a payment never is
  });
  const api = withPayment(base, privateKeyToAccount(args.key), args.options);
  let paid = 0;
  let refused = 0;
  for (const { url, json } of args.requests) {
    const method = json === undefined ? 'GET' : 'POST';
    try {
      const response = json === undefined ? await api.get(url) : await api.post(url, { json });
      const body = JSON.stringify(await response.json()).slice(0, 100);
      const payment = getPayment(response);
      if (payment) paid++;
      console.log(
        payment
          ? `paid    ${method} ${url}\n        ${formatUnits(payment.amount, payment.quote.asset.decimals)} ${payment.quote.asset.symbol} on ${payment.network} (${payment.status}) → ${body}`
          : `free    ${method} ${url}\n        nothing paid → ${body}`,
      );
    } catch (error) {
      if (!isX402Error(error)) {
        console.log(`error   ${method} ${url}\n        ${error instanceof Error ? `${error.name}: ${error.message.split('\n')[0]}` : String(error)}`);
        continue;
      }
      if (error.moneyMoved === 'no') refused++;
      console.log(`refused ${method} ${url}\n        ${error.code}: ${error.shortMessage} (money moved: ${error.moneyMoved})`);
    }
  }
  console.log('\nBudget left (api.budget.remaining()):');
  for (const limit of await api.budget.remaining()) {
    console.log(`  ${limit.scope} ${limit.limit}: ${limit.remaining} of ${limit.max} ${limit.unit} left`);
  }
  return { paid, refused };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const urls = process.argv.slice(2);
  const options: WrapFetchOptions = { budget: { perRequest: '0.05', daily: '0.50' } };
  if (urls.length > 0) {
    const key = process.env['X402_PRIVATE_KEY'];
    if (!key || !/^0x[0-9a-fA-F]{64}$/.test(key)) {
      console.error('usage: X402_PRIVATE_KEY=0x<64 hex> npx tsx examples/ky.ts <url> [url…]   (or no URL: a local demo stack)');
      process.exit(2);
    }
    await runKy({ key: key as Hex, requests: urls.map((url) => ({ url })), options });
  } else {
    // The local stack lives in examples/ and is not part of the package: load it only here.
    const { runOnLocalStack } = await import('./local-stack/runOnLocalStack.js');
    await runOnLocalStack(async (stack) => {
      const payer = await stack.newPayer(1_000_000n); // 1.00 USDC
      const before = await stack.balanceOf(payer.address);
      console.log(`Local stack: v2 ${stack.v2.url}, v1 ${stack.v1.url}; payer ${payer.address}. Budget: 0.05 USD per request, 0.50 per day.\n`);
      const { paid, refused } = await runKy({
        key: payer.privateKey,
        options,
        requests: [
          { url: `${stack.v2.url}/weather` },
          { url: `${stack.v1.url}/weather` },
          { url: `${stack.v2.url}/echo`, json: { question: 'is it raining?' } },
          { url: `${stack.v2.url}/free` },
          { url: `${stack.v2.url}/premium` }, // 0.50 USD: over the per-request cap, refused before signing
        ],
      });
      const spent = before - (await stack.balanceOf(payer.address));
      console.log(`\nPaid ${paid} call(s), refused ${refused}; on chain the payer spent ${formatUnits(spent, 6)} USDC.`);
      if (paid === 3 && refused === 1 && spent === 30_000n) return true;
      console.error('Unexpected outcome: expected 3 paid calls (0.03 USDC) and 1 refusal.');
      return false;
    });
  }
}
