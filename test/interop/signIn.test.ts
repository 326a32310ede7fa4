/**
 * The opt-in `signIn` option against the OFFICIAL sign-in-with-x server extension
 * (`@x402/extensions` `createSIWxResourceServerExtension`, on an `@x402/express` v2 server that
 * settles on anvil through the stack's facilitator): a wallet that paid once is let in by a
 * sign-in the next time, and no money moves; a wallet that never paid pays; an auth-only route
 * lets a signed-in wallet in; without `signIn` every call pays.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Address } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { getPayment, signInWithX, wrapFetch, type SignInEvent } from '../../src/index.js';
import { ARTICLE_PRICE as PRICE, startSignInServer, testUsdcAbi, type LocalPayer, type SignInServer } from '../../examples/local-stack/index.js';
import { useLocalStack } from '../support/localStack.js';

const TIMEOUT = 90_000;
const stack = useLocalStack(TIMEOUT);

let server: SignInServer;
beforeAll(async () => {
  server = await startSignInServer({ facilitatorUrl: stack().v2.facilitatorUrl, usdc: stack().usdc, payTo: stack().payTo });
}, TIMEOUT);
afterAll(async () => {
  await server?.close();
});

const balanceOf = (owner: Address) => stack().publicClient.readContract({ address: stack().usdc, abi: testUsdcAbi, functionName: 'balanceOf', args: [owner] });

describe('signIn against the official sign-in-with-x server extension', { timeout: TIMEOUT }, () => {
  let payer: LocalPayer;
  beforeAll(async () => {
    payer = await stack().newPayer(1_000_000n);
  });

  it('pays once on chain, then signs in: later calls are let in and move no money', async () => {
    const events: SignInEvent[] = [];
    const paidFetch = wrapFetch(fetch, privateKeyToAccount(payer.privateKey), { signIn: signInWithX(), on: { signIn: (e) => events.push(e) } });
    const start = await balanceOf(payer.address);
    const first = await paidFetch(`${server.url}/article`);
    expect(first.status).toBe(200);
    expect(getPayment(first)).toMatchObject({ status: 'settled', amount: PRICE });
    expect(await balanceOf(payer.address)).toBe(start - PRICE);
    for (let i = 0; i < 2; i++) {
      const again = await paidFetch(`${server.url}/article`);
      expect(await again.json()).toEqual({ article: 'x402 in practice' });
      expect(getPayment(again)).toBeUndefined();
    }
    expect(await balanceOf(payer.address)).toBe(start - PRICE);
    expect(server.paidRequests()).toBe(1);
    expect(events.map((e) => e.granted)).toEqual([false, true, true]);
    expect(server.events.filter((e) => e.type === 'access_granted')).toHaveLength(2);
    expect(server.events.filter((e) => e.type === 'validation_failed')).toEqual([]);
    expect((await paidFetch.budget.report()).map((r) => r.status)).toEqual(['settled']);
  });

  it('without signIn the same wallet pays every time', async () => {
    const paidFetch = wrapFetch(fetch, privateKeyToAccount(payer.privateKey), { allowInsecureHttp: true });
    const start = await balanceOf(payer.address);
    const before = server.paidRequests();
    expect((await paidFetch(`${server.url}/article`)).status).toBe(200);
    expect(await balanceOf(payer.address)).toBe(start - PRICE);
    expect(server.paidRequests()).toBe(before + 1);
  });

  it('an auth-only route lets a signed-in wallet in; nothing is paid', async () => {
    const stranger = await stack().newPayer(0n);
    const paidFetch = wrapFetch(fetch, privateKeyToAccount(stranger.privateKey), { signIn: signInWithX() });
    const before = server.paidRequests();
    const response = await paidFetch(`${server.url}/members`);
    expect(await response.json()).toEqual({ members: true });
    expect(server.paidRequests()).toBe(before);
    expect(await paidFetch.budget.report()).toEqual([]);
  });
});
