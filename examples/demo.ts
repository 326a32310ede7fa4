/**
 * `npm run demo`: the whole x402 flow on this machine, no accounts, no internet.
 *
 * Starts a local chain (anvil) with a USDC-like EIP-3009 token, a facilitator and paid APIs built
 * from the official x402 server packages (v2 `@x402/express`, legacy v1 `x402-express`), then runs
 * an agent (examples/agent.ts) that pays for a few calls, is refused one over its cap, and prints
 * what it paid, checked against the chain.
 */
import { formatUnits } from 'viem';
import { runOnLocalStack } from './local-stack/runOnLocalStack.js';
import { runAgent } from './agent.js';

await runOnLocalStack(async (stack) => {
  const payer = await stack.newPayer(1_000_000n); // 1.00 USDC, fresh random key
  const usd = (atomic: bigint) => `${formatUnits(atomic, 6)} USDC`;
  const before = await stack.balanceOf(payer.address);
  console.log(`Local chain ${stack.rpcUrl} (chain id ${stack.chain.id}); agent ${payer.address} holds ${usd(before)}.`);
  console.log(`Paid APIs: v2 ${stack.v2.url}, v1 ${stack.v1.url}. Budget: at most 0.10 USD per request.\n`);

  const results = await runAgent({
    key: payer.privateKey,
    options: { budget: { perRequest: '0.10' } },
    requests: [
      { url: `${stack.v2.url}/weather` },
      { url: `${stack.v1.url}/weather` },
      {
        url: `${stack.v2.url}/echo`,
        init: { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ question: 'is it raining?' }) },
      },
      { url: `${stack.v2.url}/free` },
      { url: `${stack.v2.url}/premium` }, // 0.50 USD: over the cap, refused before signing
    ],
  });

  const after = await stack.balanceOf(payer.address);
  const paid = results.filter((r) => r.outcome === 'paid').length;
  const refused = results.filter((r) => r.outcome === 'refused').length;
  console.log(`\nPaid ${paid} call(s), refused ${refused}. On chain the agent spent ${usd(before - after)}; it now holds ${usd(after)}.`);
  if (paid === 3 && refused === 1 && before - after === 30_000n) return true;
  console.error('Unexpected outcome: expected 3 paid calls (0.03 USDC) and 1 refusal.');
  return false;
});
