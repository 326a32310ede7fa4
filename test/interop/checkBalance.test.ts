/**
 * `checkBalance` against the official v2 server on anvil, with the real `chainChecker` over a
 * viem PublicClient: a payer who cannot cover the price signs nothing, and on a route with two
 * tokens the payer pays in the one it holds, where the cheaper one would have been signed for
 * and refused by the facilitator.
 */
import { describe, expect, it } from 'vitest';
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts';
import { chainChecker, getPayment, NoAcceptableOptionError, PaymentRejectedError, wrapFetch, type DeclaredAsset } from '../../src/index.js';
import { PRICES, rpcRequest } from '../../examples/local-stack/index.js';
import { useLocalStack } from '../support/localStack.js';
import { rejectionOf } from '../support/secrets.js';

const TIMEOUT = 90_000;
const stack = useLocalStack(TIMEOUT);

describe('checkBalance on anvil (official v2 server)', { timeout: TIMEOUT }, () => {
  const customToken = (): DeclaredAsset => ({ network: 'eip155:84532', address: stack().customToken, decimals: 6, name: 'USDC', version: '2', symbol: 'CUSD', usdPegged: true });
  const chain = () => chainChecker({ 'eip155:84532': stack().publicClient }, { blockTag: 'latest' });

  it('a payer holding less than the price: no_acceptable_option (insufficient_balance), nothing signed, counted or moved', async () => {
    const payer = await stack().newPayer(PRICES.weather - 1n);
    const paidFetch = wrapFetch(fetch, privateKeyToAccount(payer.privateKey), { reconcile: chain(), checkBalance: true });
    const error = await rejectionOf(paidFetch(`${stack().v2.url}/weather`));
    expect(error).toBeInstanceOf(NoAcceptableOptionError);
    expect(error.refusals.map((r: { code: string }) => r.code)).toEqual(['insufficient_balance']);
    expect(await paidFetch.budget.report()).toEqual([]);
    expect(await stack().balanceOf(payer.address)).toBe(PRICES.weather - 1n);
  });

  it('two tokens offered, only the dearer one held: pays in it; without checkBalance the cheaper one is signed for and refused', async () => {
    const key = generatePrivateKey();
    const address = privateKeyToAccount(key).address;
    await stack().mint(address, 1_000_000n, stack().usdc); // USDC only; none of the cheaper custom token
    const url = `${stack().v2.url}/two-options`;

    const blind = wrapFetch(fetch, privateKeyToAccount(key), { assets: [customToken()] });
    const refused = await rejectionOf(blind(url));
    expect(refused).toBeInstanceOf(PaymentRejectedError);
    expect(refused.payment.asset.toLowerCase()).toBe(stack().customToken.toLowerCase());
    const records = await blind.budget.report();
    expect(records).toHaveLength(1); // signed: counted until reconciled
    expect(records[0]!.status).not.toBe('released');

    const checked = wrapFetch(fetch, privateKeyToAccount(key), { assets: [customToken()], reconcile: chain(), checkBalance: true });
    const response = await checked(url);
    expect(response.status).toBe(200);
    expect(getPayment(response)).toMatchObject({ status: 'settled', amount: PRICES.twoOptionsUsdc });
    expect(getPayment(response)!.asset.toLowerCase()).toBe(stack().usdc.toLowerCase());
    expect(await stack().balanceOf(address, stack().usdc)).toBe(1_000_000n - PRICES.twoOptionsUsdc);
  });

  // Last: it moves the chain's clock 10 minutes ahead of this machine's.
  it('a machine clock 10 minutes behind the chain: clock_behind_chain, nothing signed (THREATS E2)', async () => {
    const payer = await stack().newPayer(1_000_000n);
    const ahead = BigInt(Math.floor(Date.now() / 1000) + 600);
    await rpcRequest(stack().rpcUrl, 'evm_setNextBlockTimestamp', [`0x${ahead.toString(16)}`]);
    await rpcRequest(stack().rpcUrl, 'anvil_mine', ['0x1']);
    const paidFetch = wrapFetch(fetch, privateKeyToAccount(payer.privateKey), { reconcile: chain(), checkBalance: true });
    const error = await rejectionOf(paidFetch(`${stack().v2.url}/weather`));
    expect(error).toBeInstanceOf(NoAcceptableOptionError);
    expect(error.refusals.map((r: { code: string }) => r.code)).toEqual(['clock_behind_chain']);
    expect(error.message).toMatch(/the local clock is (59\d|60\d) s behind the latest block of eip155:84532/);
    expect(await paidFetch.budget.report()).toEqual([]);
    expect(await stack().balanceOf(payer.address)).toBe(1_000_000n);
  });
});
