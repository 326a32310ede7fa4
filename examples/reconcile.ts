/**
 * Reconciling payments whose outcome is unknown: the answer to a paid request is lost, so the
 * client cannot know whether the server settled the payment. It sends the same payment once
 * more (the `resend` option; the chain settles one authorization at most once), and when that
 * answer is lost too, it keeps counting the payment (spent = signed) and never signs again for
 * that call. With the `reconcile` option, the chain
 * tells: a payment that was settled stays counted; one whose authorization expired unused is
 * given back to the budget.
 *
 *   npx tsx examples/reconcile.ts     # local chain + paid API; no accounts, no internet
 *
 * Two paid calls lose their answer (a fetch that drops it, as a broken connection would): the
 * first after the server settled, the second before the server even saw it. On a real chain you
 * would call `reconcile()` now and then; here the local chain's clock is moved past the second
 * authorization's expiry instead of waiting for it.
 * Needs `npm run build` first (the example imports the package, `x402-autopay`, from dist/).
 */
import { formatUnits } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { wrapFetch, chainChecker, SettlementUnknownError, type ReconciledPayment } from 'x402-autopay';
import { runOnLocalStack } from './local-stack/runOnLocalStack.js';
import { rpcRequest } from './local-stack/index.js';

/** How the next paid request goes wrong: its answer is lost after the server got it, or it never reaches the server. */
type Loss = 'answer-lost' | 'never-arrived';

/**
 * A fetch that loses what a paid request (one carrying a payment header) should bring back, as
 * a connection that breaks would; every other request goes through untouched.
 */
function lossyFetch(next: { loss: Loss }): typeof fetch {
  return async (input, init) => {
    const headers = new Headers(init?.headers ?? (input instanceof Request ? input.headers : undefined));
    if (!headers.has('payment-signature') && !headers.has('x-payment')) return fetch(input, init);
    if (next.loss === 'answer-lost') await (await fetch(input, init)).arrayBuffer();
    throw new TypeError('fetch failed: the connection was reset');
  };
}

function show(outcomes: readonly ReconciledPayment[]): string {
  return outcomes.map((o) => `${o.state}${o.state === 'expired' ? (o.released ? ' (given back)' : ' (already given back)') : ''}`).join(', ') || 'nothing to ask';
}

await runOnLocalStack(async (stack) => {
  const payer = await stack.newPayer(1_000_000n); // 1.00 USDC
  const before = await stack.balanceOf(payer.address);
  const next = { loss: 'answer-lost' as Loss };
  const paidFetch = wrapFetch(lossyFetch(next), privateKeyToAccount(payer.privateKey), {
    budget: { daily: '0.05' },
    // The chain to ask, per network. 'latest' answers at once on this local chain; keep the
    // default ('finalized') on a real one, so that no answer can be undone by a reorganisation.
    reconcile: chainChecker({ 'eip155:84532': stack.publicClient }, { blockTag: 'latest' }),
  });
  const usedToday = async () => (await paidFetch.budget.remaining()).find((l) => l.limit === 'daily')?.used ?? '?';
  const url = `${stack.v2.url}/weather`;

  let lastValidBefore = 0n;
  for (const loss of ['answer-lost', 'never-arrived'] as const) {
    next.loss = loss;
    try {
      await paidFetch(url);
    } catch (error) {
      if (!(error instanceof SettlementUnknownError)) throw error;
      lastValidBefore = error.validBefore;
      console.log(`${loss}: ${error.code} (money moved: ${error.moneyMoved}); nonce ${error.authorization.nonce.slice(0, 10)}…, valid until ${new Date(Number(error.validBefore) * 1000).toISOString()}`);
    }
  }
  console.log(`Budget used today: ${await usedToday()} USD (both count: spent = signed).\n`);

  const first = await paidFetch.budget.reconcile();
  console.log(`reconcile() now: ${show(first)}; used today: ${await usedToday()} USD`);

  // Let the local chain reach the second authorization's expiry (a real chain just gets there).
  await rpcRequest(stack.rpcUrl, 'evm_setNextBlockTimestamp', [`0x${lastValidBefore.toString(16)}`]);
  await rpcRequest(stack.rpcUrl, 'anvil_mine', ['0x1']);
  const second = await paidFetch.budget.reconcile();
  console.log(`reconcile() after the expiry: ${show(second)}; used today: ${await usedToday()} USD`);

  const spent = before - (await stack.balanceOf(payer.address));
  console.log(`\nOn chain the payer spent ${formatUnits(spent, 6)} USDC: the settled payment, and nothing for the one given back.`);
  return show(first) === 'used, pending' && show(second) === 'expired (given back)' && spent === 10_000n && (await usedToday()) === '0.01';
});
