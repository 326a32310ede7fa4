/**
 * A custom budget with an approval prompt: small payments go through on their own, larger ones
 * wait for a human to answer on the terminal. The prompt is shown the exact frozen quote that
 * will be signed (amount, token, network, payee); no answer within `approveTimeoutMs` is a no.
 *
 *   npx tsx examples/approval.ts          # local chain + paid APIs; asks on the terminal
 *   npx tsx examples/approval.ts --yes    # non-interactive: approve every prompt
 *   npx tsx examples/approval.ts --no     # non-interactive: deny every prompt
 *   X402_PRIVATE_KEY=0x… npx tsx examples/approval.ts [--yes|--no] <url> [url…]
 *
 * Without a terminal (stdin not a TTY) and without --yes/--no, every prompt is answered no.
 * Needs `npm run build` first (the example imports the package, `x402-autopay`, from dist/).
 */
import { pathToFileURL } from 'node:url';
import { createInterface } from 'node:readline/promises';
import { formatUnits, type Hex } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { wrapFetch, getPayment, isX402Error, type BudgetOptions, type Quote } from 'x402-autopay';

/** How prompts are answered: asked on the terminal, or a fixed answer for scripts and CI. */
export type ApprovalMode = 'ask' | 'yes' | 'no';

/** One line describing a quote for a human: what, to whom, where. */
export function describeQuote(quote: Quote): string {
  const amount = `${formatUnits(quote.amount, quote.asset.decimals)} ${quote.asset.symbol}`;
  return `Pay ${amount} to ${quote.payTo} on ${quote.network} for ${quote.url}?`;
}

/**
 * The `approve` hook: asks on the terminal (y/N) or answers for the human. It runs after the
 * amount is reserved and before anything is signed; `false` (or a throw, or no answer within
 * `approveTimeoutMs`) refuses the payment with `ApprovalDeniedError` and releases the reservation.
 */
export function terminalApproval(mode: ApprovalMode): (quote: Quote) => Promise<boolean> {
  return async (quote) => {
    const question = `  ? ${describeQuote(quote)} [y/N] `;
    if (mode !== 'ask') {
      console.log(`${question}${mode === 'yes' ? 'y' : 'n'} (--${mode})`);
      return mode === 'yes';
    }
    if (!process.stdin.isTTY) {
      console.log(`${question}n (no terminal; pass --yes or --no)`);
      return false;
    }
    const rl = createInterface({ input: process.stdin, output: process.stdout });
    try {
      return /^y(es)?$/i.test((await rl.question(question)).trim());
    } finally {
      rl.close();
    }
  };
}

/**
 * The budget of this example. Amounts are USD for known stablecoins (the local stack's token is
 * USDC at the Base Sepolia address, so it counts as USD).
 */
export function approvalBudget(mode: ApprovalMode): BudgetOptions {
  return {
    perRequest: '1.00', // high enough that a human decides about the 0.50 call
    hourly: '2.00',
    daily: '5.00',
    maxPayments: { perMinute: 10 },
    approveAbove: '0.015', // payments up to 0.015 USD need no approval
    approve: terminalApproval(mode),
    approveTimeoutMs: 60_000, // no answer within a minute: no
  };
}

/** Fetches each URL through a fetch with the approval budget and prints what happened. */
export async function runApproval(args: { key: Hex; urls: string[]; mode: ApprovalMode }): Promise<{ paid: number; denied: number }> {
  const paidFetch = wrapFetch(fetch, privateKeyToAccount(args.key), { budget: approvalBudget(args.mode) });
  let paid = 0;
  let denied = 0;
  for (const url of args.urls) {
    console.log(`GET ${url}`);
    try {
      const response = await paidFetch(url);
      const body = (await response.text()).slice(0, 100);
      const payment = getPayment(response);
      if (payment) paid++;
      console.log(payment ? `  paid ${formatUnits(payment.amount, payment.quote.asset.decimals)} ${payment.quote.asset.symbol} (${payment.status}) → ${body}` : `  free → ${body}`);
    } catch (error) {
      if (!isX402Error(error)) throw error;
      if (error.code === 'approval_denied') denied++;
      console.log(`  ${error.code}: ${error.shortMessage} (money moved: ${error.moneyMoved})`);
    }
  }
  console.log('\nBudget left:');
  for (const l of await paidFetch.budget.remaining()) console.log(`  ${l.scope} ${l.limit}: ${l.remaining} of ${l.max} ${l.unit}`);
  return { paid, denied };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const args = process.argv.slice(2);
  const mode: ApprovalMode = args.includes('--yes') ? 'yes' : args.includes('--no') ? 'no' : 'ask';
  const urls = args.filter((a) => !a.startsWith('--'));
  if (urls.length > 0) {
    const key = process.env['X402_PRIVATE_KEY'];
    if (!key || !/^0x[0-9a-fA-F]{64}$/.test(key)) {
      console.error('usage: X402_PRIVATE_KEY=0x<64 hex> npx tsx examples/approval.ts [--yes|--no] <url> [url…]   (or no URL: a local demo stack)');
      process.exit(2);
    }
    await runApproval({ key: key as Hex, urls, mode });
  } else {
    const { runOnLocalStack } = await import('./local-stack/runOnLocalStack.js');
    await runOnLocalStack(async (stack) => {
      const payer = await stack.newPayer(1_000_000n); // 1.00 USDC
      const before = await stack.balanceOf(payer.address);
      console.log(`Local stack: v2 ${stack.v2.url}; payer ${payer.address}. Payments above 0.015 USD need approval.\n`);
      const { paid, denied } = await runApproval({
        key: payer.privateKey,
        mode,
        urls: [
          `${stack.v2.url}/weather`, // 0.01: under approveAbove, paid without asking
          `${stack.v2.url}/two-options`, // 0.02 USDC (the cheaper custom token is not declared): asks
          `${stack.v2.url}/premium`, // 0.50: asks
        ],
      });
      const spent = before - (await stack.balanceOf(payer.address));
      console.log(`\nPaid ${paid} call(s), ${denied} denied; on chain the payer spent ${formatUnits(spent, 6)} USDC.`);
      const expected = mode === 'yes' ? { paid: 3, denied: 0, spent: 530_000n } : mode === 'no' ? { paid: 1, denied: 2, spent: 10_000n } : undefined;
      if (!expected || (paid === expected.paid && denied === expected.denied && spent === expected.spent)) return true;
      console.error(`Unexpected outcome: expected ${expected.paid} paid, ${expected.denied} denied, ${formatUnits(expected.spent, 6)} USDC spent.`);
      return false;
    });
  }
}
