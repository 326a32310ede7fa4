/**
 * On-chain checks against the local stack (examples/local-stack): a payment is proved by the
 * chain, never by the server's word.
 */
import { expect } from 'vitest';
import { getAddress, parseEventLogs, type Address, type Hash } from 'viem';
import { testUsdcAbi, type LocalStack } from '../../examples/local-stack/index.js';

/** Asserts that `transaction` is a mined, successful transaction whose only Transfer of `token` moved exactly `amount` from `from` to `to`. */
export async function expectTransfer(stack: LocalStack, transaction: string | undefined, transfer: { token: Address; from: Address; to: Address; amount: bigint }): Promise<void> {
  expect(transaction).toMatch(/^0x[0-9a-f]{64}$/);
  const receipt = await stack.publicClient.getTransactionReceipt({ hash: transaction as Hash });
  expect(receipt.status).toBe('success');
  const transfers = parseEventLogs({ abi: testUsdcAbi, logs: receipt.logs, eventName: 'Transfer' }).filter((log) => getAddress(log.address) === transfer.token);
  expect(transfers.map((t) => [t.args.from, t.args.to, t.args.value])).toEqual([[transfer.from, transfer.to, transfer.amount]]);
}

/** Token balances of the payer and the payee now; `moved()` gives how much went from one to the other since. */
export async function balances(stack: LocalStack, payer: Address, payee: Address, token: Address = stack.usdc): Promise<{ moved(): Promise<{ paid: bigint; received: bigint }> }> {
  const [payerBefore, payeeBefore] = await Promise.all([stack.balanceOf(payer, token), stack.balanceOf(payee, token)]);
  return {
    async moved() {
      const [payerNow, payeeNow] = await Promise.all([stack.balanceOf(payer, token), stack.balanceOf(payee, token)]);
      return { paid: payerBefore - payerNow, received: payeeNow - payeeBefore };
    },
  };
}
