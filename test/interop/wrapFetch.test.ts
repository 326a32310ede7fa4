/**
 * x402-autopay against the OFFICIAL x402 servers on a real local chain: the v2 server
 * (`@x402/express` + `@x402/core` + `@x402/evm`) and the legacy v1 server (`x402-express`), each
 * with a local facilitator built from the official packages that verifies and settles on anvil.
 * Every paid call is checked on chain: the payer's balance fell and the payee's rose by exactly
 * the price, and the receipt names the real transaction, which moved exactly that amount.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getAddress, parseEventLogs, type Address, type Hash } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { wrapFetch, getPayment, BudgetExceededError, type Payment } from '../../src/index.js';
import { PRICES, testUsdcAbi, type LocalPayer } from '../../examples/local-stack/index.js';
import { useLocalStack } from '../support/localStack.js';

const TIMEOUT = 90_000;

const stack = useLocalStack(TIMEOUT);

/** Asserts on chain that `transaction` moved exactly `amount` of `token` from payer to payee. */
async function expectTransfer(transaction: string | undefined, token: Address, from: Address, to: Address, amount: bigint) {
  expect(transaction).toMatch(/^0x[0-9a-f]{64}$/);
  const receipt = await stack().publicClient.getTransactionReceipt({ hash: transaction as Hash });
  expect(receipt.status).toBe('success');
  const transfers = parseEventLogs({ abi: testUsdcAbi, logs: receipt.logs, eventName: 'Transfer' }).filter(
    (log) => getAddress(log.address) === token,
  );
  expect(transfers.map((t) => [t.args.from, t.args.to, t.args.value])).toEqual([[from, to, amount]]);
}

for (const version of ['v2', 'v1'] as const) {
  describe(`x402 ${version}: the official ${version === 'v2' ? '@x402/express' : 'x402-express'} server`, { timeout: TIMEOUT }, () => {
    const endpoint = () => stack()[version];
    let payer: LocalPayer;
    let paidFetch: typeof fetch;

    beforeAll(async () => {
      payer = await stack().newPayer(1_000_000n);
      paidFetch = wrapFetch(fetch, privateKeyToAccount(payer.privateKey));
    });

    /** Runs `call`, then checks balances moved by exactly `price` and the receipt's transaction. */
    async function paidCall(call: () => Promise<Response>, price: bigint, token: Address = stack().usdc) {
      const payTo = endpoint().payTo;
      const [payerBefore, payeeBefore] = [await stack().balanceOf(payer.address, token), await stack().balanceOf(payTo, token)];
      const response = await call();
      expect(response.status).toBe(200);
      const payment = getPayment(response) as Payment;
      expect(payment).toMatchObject({ status: 'settled', amount: price, network: 'eip155:84532', payTo, payer: payer.address });
      expect(getAddress(payment.asset)).toBe(token);
      // The official server's JSON answer matches the mimeType its 402 announced: no delivery problem (F6).
      expect(payment.delivery).toBeUndefined();
      expect(await stack().balanceOf(payer.address, token)).toBe(payerBefore - price);
      expect(await stack().balanceOf(payTo, token)).toBe(payeeBefore + price);
      await expectTransfer(payment.transaction, token, payer.address, payTo, price);
      return response;
    }

    it('pays a GET', async () => {
      const response = await paidCall(() => paidFetch(`${endpoint().url}/weather`), PRICES.weather);
      expect(await response.json()).toMatchObject({ report: { city: 'Localhost' } });
    });

    it('pays a POST whose JSON body arrives intact on the paid retry', async () => {
      const body = { question: 'is it raining?', nested: { list: [1, 2, 3], unicode: 'naïve ☂' } };
      const response = await paidCall(
        () => paidFetch(`${endpoint().url}/echo`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
        PRICES.echo,
      );
      expect(await response.json()).toEqual({ received: body });
    });

    it('on a route with two options, pays USDC when the custom token is not declared', async () => {
      await paidCall(() => paidFetch(`${endpoint().url}/two-options`), PRICES.twoOptionsUsdc, stack().usdc);
    });

    it('on a route with two options, pays the cheaper declared token when it is declared', async () => {
      const declaring = wrapFetch(fetch, privateKeyToAccount(payer.privateKey), {
        assets: [{ network: 'eip155:84532', address: stack().customToken, decimals: 6, name: 'USDC', version: '2', symbol: 'CUSD', usdPegged: true }],
      });
      const usdcBefore = await stack().balanceOf(payer.address, stack().usdc);
      await paidCall(() => declaring(`${endpoint().url}/two-options`), PRICES.twoOptionsCustom, stack().customToken);
      expect(await stack().balanceOf(payer.address, stack().usdc)).toBe(usdcBefore);
    });

    it('leaves a free route alone: no payment, no balance change', async () => {
      const before = await stack().balanceOf(payer.address);
      const response = await paidFetch(`${endpoint().url}/free`);
      expect(response.status).toBe(200);
      expect(getPayment(response)).toBeUndefined();
      expect(await stack().balanceOf(payer.address)).toBe(before);
    });

    it('refuses a route over the per-request cap without signing or paying', async () => {
      const before = await stack().balanceOf(payer.address);
      const paidRequestsBefore = endpoint().server.requests.filter((r) => r.paymentHeader).length;
      await expect(paidFetch(`${endpoint().url}/premium`)).rejects.toBeInstanceOf(BudgetExceededError);
      expect(endpoint().server.requests.filter((r) => r.paymentHeader).length).toBe(paidRequestsBefore);
      expect(await stack().balanceOf(payer.address)).toBe(before);
    });

    it('pays 5 concurrent calls, each settled in its own transaction', async () => {
      const payTo = endpoint().payTo;
      const [payerBefore, payeeBefore] = [await stack().balanceOf(payer.address), await stack().balanceOf(payTo)];
      const responses = await Promise.all(Array.from({ length: 5 }, () => paidFetch(`${endpoint().url}/weather`)));
      const payments = responses.map((r) => getPayment(r) as Payment);
      expect(responses.map((r) => r.status)).toEqual([200, 200, 200, 200, 200]);
      expect(payments.map((p) => p.status)).toEqual(Array(5).fill('settled'));
      expect(new Set(payments.map((p) => p.transaction)).size).toBe(5);
      for (const payment of payments) await expectTransfer(payment.transaction, stack().usdc, payer.address, payTo, PRICES.weather);
      expect(await stack().balanceOf(payer.address)).toBe(payerBefore - 5n * PRICES.weather);
      expect(await stack().balanceOf(payTo)).toBe(payeeBefore + 5n * PRICES.weather);
    });
  });
}
