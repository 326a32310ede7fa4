/**
 * `checkBalance: true`: the payer's token balance is read before signing, so a payment that could
 * never settle is not signed (and does not count against the budget). Wire level with msw; the
 * chain is a scripted checker here, and anvil in test/interop/checkBalance.test.ts.
 */
import { describe, expect, it } from 'vitest';
import type { Address } from 'viem';
import { memoryStore, NoAcceptableOptionError, wrapFetch, type AuthorizationChecker, type ErrorEvent } from '../../src/index.js';
import { resolveOptions } from '../../src/options.js';
import { challengeV2, paywall, useMswServer } from '../support/msw.js';
import { BASE_SEPOLIA_USDC, BASE_USDC, decodeHeader, paymentRequiredV2, requirementV2, testAccount } from '../support/challenges.js';
import { countingSigner } from '../support/signers.js';
import { rejectionOf } from '../support/secrets.js';

const server = useMswServer();
const URL_ = 'https://api.example.com/report';
const SEPOLIA = requirementV2(); // 0.01 USDC on eip155:84532
const MAINNET = requirementV2({ network: 'eip155:8453', asset: BASE_USDC, amount: '20000', extra: { name: 'USD Coin', version: '2' } });

function serve(accepts: Record<string, unknown>[]) {
  const p = paywall({ url: URL_, challenge: () => challengeV2(paymentRequiredV2(accepts)) });
  server.use(p.handler);
  return p;
}

/** A checker whose chain holds `balances` (by network), counting reads; `fail` makes reads reject; `blockTime` (unix s), when set, is the latest block's time. */
function chain(balances: Record<string, bigint>) {
  const reads: { network: string; token: Address; owner: Address }[] = [];
  const state: { fail: boolean; blockTime?: bigint } = { fail: false };
  const checker: AuthorizationChecker = {
    check: () => Promise.reject(new Error('not used here')),
    async balanceOf(network, token, owner) {
      reads.push({ network, token, owner });
      if (state.fail) throw new Error('rpc down');
      return balances[network] ?? 0n;
    },
    async blockTime() {
      if (state.blockTime === undefined) throw new Error('no block time in this test');
      return state.blockTime;
    },
  };
  return { checker, reads, balances, state };
}

function client(checker: AuthorizationChecker, clock = { now: 1_750_000_000_000 }) {
  const signer = countingSigner();
  const errors: ErrorEvent[] = [];
  const paidFetch = wrapFetch(fetch, signer, {
    clock: () => clock.now,
    store: memoryStore({ clock: () => clock.now }),
    reconcile: checker,
    checkBalance: true,
    on: { error: (e) => errors.push(e) },
  });
  return { paidFetch, signer, errors, clock };
}

describe('checkBalance', () => {
  it('a balance below the price: nothing signed, nothing counted, no_acceptable_option (insufficient_balance)', async () => {
    const p = serve([SEPOLIA]);
    const c = chain({ 'eip155:84532': 9_999n });
    const { paidFetch, signer } = client(c.checker);
    const error = await rejectionOf(paidFetch(URL_));
    expect(error).toBeInstanceOf(NoAcceptableOptionError);
    expect(error.moneyMoved).toBe('no');
    expect(error.refusals).toEqual([expect.objectContaining({ code: 'insufficient_balance' })]);
    expect(error.message).toContain('the payer holds 0.009999 USDC on eip155:84532, less than the 0.01 asked');
    expect(error.message).toContain('fund the wallet with the token asked');
    expect(signer.calls).toBe(0);
    expect(p.paid()).toHaveLength(0);
    expect(await paidFetch.budget.report()).toEqual([]);
    expect(c.reads).toEqual([{ network: 'eip155:84532', token: BASE_SEPOLIA_USDC, owner: testAccount.address }]);
  });

  it('exactly the price is enough', async () => {
    serve([SEPOLIA]);
    const { paidFetch, signer } = client(chain({ 'eip155:84532': 10_000n }).checker);
    expect((await paidFetch(URL_)).status).toBe(200);
    expect(signer.calls).toBe(1);
  });

  it('pays the option the payer can cover, even when it is not the cheapest', async () => {
    const p = serve([SEPOLIA, MAINNET]);
    const c = chain({ 'eip155:84532': 0n, 'eip155:8453': 1_000_000n });
    const { paidFetch } = client(c.checker);
    expect((await paidFetch(URL_)).status).toBe(200);
    const sent = decodeHeader(p.paid()[0]!.headers['payment-signature']!);
    expect(sent.accepted.network).toBe('eip155:8453');
    expect(c.reads.map((r) => r.network).sort()).toEqual(['eip155:8453', 'eip155:84532']);
  });

  it('a read is reused for 30 s while it covers the price, less what was signed since; a low balance is read again', async () => {
    serve([SEPOLIA]);
    const c = chain({ 'eip155:84532': 25_000n });
    const { paidFetch, signer, clock } = client(c.checker);
    await paidFetch(URL_); // read: 25,000; 15,000 left
    await paidFetch(URL_); // reused; 5,000 left
    expect(c.reads).toHaveLength(1);
    // 5,000 left by the kept count: read again; the chain now says more arrived.
    c.balances['eip155:84532'] = 30_000n;
    await paidFetch(URL_);
    expect(c.reads).toHaveLength(2);
    clock.now += 30_000; // too old: read again even though it covers
    await paidFetch(URL_);
    expect(c.reads).toHaveLength(3);
    expect(signer.calls).toBe(4);
    // The chain's balance runs out: refused, from a fresh read.
    c.balances['eip155:84532'] = 5_000n;
    clock.now += 30_000;
    expect(await rejectionOf(paidFetch(URL_))).toMatchObject({ code: 'no_acceptable_option' });
    expect(signer.calls).toBe(4);
  });

  it('a read that fails checks nothing: the payment goes ahead and an error event says why', async () => {
    serve([SEPOLIA]);
    const c = chain({});
    c.state.fail = true;
    const { paidFetch, signer, errors } = client(c.checker);
    expect((await paidFetch(URL_)).status).toBe(200);
    expect(signer.calls).toBe(1);
    expect(errors).toEqual([
      { type: 'error', url: URL_, message: 'could not read the latest block time on eip155:84532: no block time in this test' },
      { type: 'error', url: URL_, message: `could not read the balance of ${BASE_SEPOLIA_USDC} on eip155:84532: rpc down` },
    ]);
  });

  it('a local clock so far behind the chain that a signature would be born expired: clock_behind_chain, nothing signed (E2); an idle chain is fine', async () => {
    serve([SEPOLIA]); // signed for 60 s; the facilitator wants 6 s left
    const c = chain({ 'eip155:84532': 1_000_000n });
    const { paidFetch, signer, clock } = client(c.checker);
    const local = BigInt(Math.floor(clock.now / 1000));
    c.state.blockTime = local + 55n; // 55 s behind: validBefore (local + 60) < chain + 6
    const error = await rejectionOf(paidFetch(URL_));
    expect(error).toBeInstanceOf(NoAcceptableOptionError);
    expect(error.refusals.map((r: { code: string }) => r.code)).toEqual(['clock_behind_chain']);
    expect(error.message).toContain('the local clock is 55 s behind the latest block of eip155:84532');
    expect(error.message).toContain('set it right (NTP)');
    expect(signer.calls).toBe(0);

    // 54 s behind is still (just) settleable; a latest block an hour old is an idle chain, not a clock ahead.
    const d = chain({ 'eip155:84532': 1_000_000n });
    const ok = client(d.checker);
    d.state.blockTime = local + 54n;
    expect((await ok.paidFetch(URL_)).status).toBe(200);
    const e = chain({ 'eip155:84532': 1_000_000n });
    const idle = client(e.checker);
    e.state.blockTime = local - 3_600n;
    expect((await idle.paidFetch(URL_)).status).toBe(200);
  });

  it('needs a checker that reads balances; true or false only', () => {
    const checker = chain({}).checker;
    expect(resolveOptions({ reconcile: checker, checkBalance: true }).checkBalance).toBe(true);
    expect(resolveOptions({}).checkBalance).toBe(false);
    expect(() => wrapFetch(fetch, testAccount, { checkBalance: true })).toThrow(/options\.checkBalance needs the chain clients: add reconcile: chainChecker/);
    expect(() => wrapFetch(fetch, testAccount, { reconcile: { check: checker.check }, checkBalance: true })).toThrow(/options\.checkBalance needs/);
    expect(() => wrapFetch(fetch, testAccount, { reconcile: checker, checkBalance: 'yes' as never })).toThrow(/options\.checkBalance must be true or false/);
  });
});
