/**
 * Sign in instead of paying again (x402 v2 `sign-in-with-x`): an API sells an article once and
 * lets the buyer back in with a sign-in. With `signIn: signInWithX()`, the client signs in first
 * wherever a 402 offers it (an EIP-4361 message: no money moves) and pays only if the server
 * still asks.
 *
 *   npx tsx examples/signIn.ts     # local chain + the official sign-in extension; no accounts, no internet
 *
 * Against the local stack it starts an official `@x402/express` server with the official
 * `@x402/extensions` sign-in extension (examples/local-stack/serverSignIn.ts): the first read of
 * the article is paid on chain, the next ones are sign-ins, and a members-only page (nothing to
 * pay) lets the signed-in wallet in. Needs `npm run build` first (the example imports the
 * package, `x402-autopay`, from dist/).
 */
import { formatUnits } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { getPayment, signInWithX, wrapFetch } from 'x402-autopay';
import { runOnLocalStack } from './local-stack/runOnLocalStack.js';
import { startSignInServer } from './local-stack/index.js';

await runOnLocalStack(async (stack) => {
  const api = await startSignInServer({ facilitatorUrl: stack.v2.facilitatorUrl, usdc: stack.usdc, payTo: stack.payTo });
  try {
    const payer = await stack.newPayer(1_000_000n); // 1.00 USDC
    const before = await stack.balanceOf(payer.address);
    const paidFetch = wrapFetch(fetch, privateKeyToAccount(payer.privateKey), {
      signIn: signInWithX(),
      on: { signIn: (e) => console.log(`  signed in to ${e.host} as ${e.address.slice(0, 10)}…: ${e.granted ? 'let in' : `not enough (${e.status ?? 'no answer'})`}`) },
    });

    const outcomes: string[] = [];
    for (const path of ['/article', '/article', '/article', '/members']) {
      const response = await paidFetch(`${api.url}${path}`);
      const payment = getPayment(response);
      const outcome = payment ? `paid ${formatUnits(payment.amount, 6)} USDC (${payment.status})` : 'nothing paid';
      outcomes.push(outcome);
      console.log(`GET ${path}: ${response.status}, ${outcome}, ${JSON.stringify(await response.json())}`);
    }

    const spent = before - (await stack.balanceOf(payer.address));
    console.log(`\nOn chain the payer spent ${formatUnits(spent, 6)} USDC for 4 calls: the first one, and nothing for the sign-ins.`);
    return outcomes.join('; ') === 'paid 0.01 USDC (settled); nothing paid; nothing paid; nothing paid' && spent === 10_000n && api.paidRequests() === 1;
  } finally {
    await api.close();
  }
});
