/**
 * `budget.reconcile()` bookkeeping: which payments it asks about, what it does with each answer,
 * and what happens when the checker or the store fails. The chain here is a scripted checker; the
 * real chain is in test/interop/checkAuthorization.test.ts.
 */
import { HttpResponse } from 'msw';
import { describe, expect, it } from 'vitest';
import {
  getPayment,
  chainChecker,
  memoryStore,
  ReconcileUnavailableError,
  type AuthorizationCheck,
  type AuthorizationChecker,
  type AuthorizationRef,
  type SpendStore,
} from '../../src/index.js';
import { challengeV2, paywall, useMswServer } from '../support/msw.js';
import { paymentRequiredV2, settlementHeader, testAccount } from '../support/challenges.js';
import { payer, T0, usdc } from '../support/paying.js';
import { rejectionOf } from '../support/secrets.js';

const server = useMswServer();
const URL_ = 'https://api.example.com/data';
type Answer = 'reset' | 'refuse' | 'settled';

/** A paywall whose paid answer the test picks: a reset (unknown), a 402 refusal (failed) or a settled 200. */
function paywallAnswering(answer: { next: Answer }) {
  let tx = 0;
  const p = paywall({
    url: URL_,
    challenge: () => challengeV2(paymentRequiredV2([usdc(10_000)])),
    paid: () =>
      answer.next === 'reset'
        ? HttpResponse.error()
        : answer.next === 'refuse'
          ? challengeV2(paymentRequiredV2([usdc(10_000)], { error: 'settlement failed' }))
          : HttpResponse.json({}, { headers: { 'PAYMENT-RESPONSE': settlementHeader({ success: true, transaction: `0x${(++tx).toString(16).padStart(64, 'a')}`, network: 'eip155:84532', payer: testAccount.address }) } }),
  });
  server.use(p.handler);
  return p;
}

/** A checker answering from `states` by nonce (default `pending`), counting its calls. */
function scriptedChecker(states: Map<string, AuthorizationCheck['state'] | Error> = new Map()) {
  const asked: AuthorizationRef[] = [];
  const checker: AuthorizationChecker = {
    async check(authorization) {
      asked.push(authorization);
      const state = states.get(authorization.nonce) ?? 'pending';
      if (state instanceof Error) throw state;
      return { state, blockNumber: 1n, blockTimestamp: 1n, validBefore: authorization.validBefore };
    },
  };
  return { checker, asked, states };
}

async function dailyUsed(paidFetch: ReturnType<typeof payer>['paidFetch']): Promise<string> {
  return (await paidFetch.budget.remaining()).find((l) => l.scope === 'global' && l.limit === 'daily')!.used;
}

describe('budget.reconcile()', () => {
  it('asks only about failed and unknown payments, and acts on each answer', async () => {
    const answer = { next: 'settled' as Answer };
    const p = paywallAnswering(answer);
    const { checker, asked, states } = scriptedChecker();
    // resend: false keeps one send per call (the reset is not tried again).
    const { paidFetch } = payer({ clock: () => T0, reconcile: checker, budget: { daily: '1.00' }, resend: false });
    await paidFetch(URL_); // settled: never asked about
    answer.next = 'reset';
    const unknown = await rejectionOf(paidFetch(URL_));
    answer.next = 'refuse';
    const failed = await rejectionOf(paidFetch(URL_));
    expect(p.paid()).toHaveLength(3);
    expect(await dailyUsed(paidFetch)).toBe('0.03');

    states.set(unknown.authorization.nonce, 'expired');
    states.set(failed.payment.authorization.nonce, 'used');
    const outcomes = await paidFetch.budget.reconcile();
    expect(asked.map((a) => a.nonce)).toEqual([unknown.authorization.nonce, failed.payment.authorization.nonce]);
    expect(outcomes.map((o) => [o.state, o.released])).toEqual([
      ['expired', true],
      ['used', undefined],
    ]);
    expect(await dailyUsed(paidFetch)).toBe('0.02');
    expect((await paidFetch.budget.report()).map((r) => r.status)).toEqual(['settled', 'released', 'settled']);
    // Decided payments are forgotten: nothing more to ask.
    expect(await paidFetch.budget.reconcile()).toEqual([]);
    expect(asked).toHaveLength(2);
  });

  it('with { receipts: true }, settled payments are asked about too and only reported: confirmed, or not on chain (F4); nothing changes', async () => {
    const answer = { next: 'settled' as Answer };
    paywallAnswering(answer);
    const { checker, asked, states } = scriptedChecker();
    const { paidFetch } = payer({ clock: () => T0, reconcile: checker, budget: { daily: '1.00' }, resend: false });
    const honest = getPayment(await paidFetch(URL_))!;
    const liar = getPayment(await paidFetch(URL_))!; // a "settled" receipt the chain will not show
    states.set(honest.authorization.nonce, 'used');
    states.set(liar.authorization.nonce, 'expired');
    expect(await paidFetch.budget.reconcile()).toEqual([]); // by default, receipts are taken as given
    expect(asked).toHaveLength(0);
    const outcomes = await paidFetch.budget.reconcile({ receipts: true });
    expect(outcomes.map((o) => [o.authorization.nonce, o.state, o.receipt, o.released])).toEqual([
      [honest.authorization.nonce, 'used', 'confirmed', undefined],
      [liar.authorization.nonce, 'expired', 'not_on_chain', undefined],
    ]);
    // Reported only: both stay counted as settled.
    expect((await paidFetch.budget.report()).map((r) => r.status)).toEqual(['settled', 'settled']);
    expect(await dailyUsed(paidFetch)).toBe('0.02');
    await expect(paidFetch.budget.reconcile({ receipts: 'yes' } as never)).rejects.toThrow(/options\.receipts must be true or false/);
  });

  it('pending and unavailable payments stay counted and are asked about again; other errors propagate and forget nothing', async () => {
    const answer = { next: 'reset' as Answer };
    paywallAnswering(answer);
    const { checker, asked, states } = scriptedChecker();
    const { paidFetch } = payer({ clock: () => T0, reconcile: checker, budget: { daily: '1.00' } });
    const a = await rejectionOf(paidFetch(URL_));
    const b = await rejectionOf(paidFetch(URL_));
    const unavailable = new ReconcileUnavailableError({ authorization: b.authorization, reason: 'rpc down' });
    states.set(b.authorization.nonce, unavailable);
    const first = await paidFetch.budget.reconcile();
    expect(first.map((o) => o.state)).toEqual(['pending', 'unavailable']);
    expect(first[1]!.error).toBe(unavailable);
    expect(await dailyUsed(paidFetch)).toBe('0.02');

    states.set(a.authorization.nonce, new TypeError('checker misconfigured'));
    await expect(paidFetch.budget.reconcile()).rejects.toThrow('checker misconfigured');
    states.set(a.authorization.nonce, 'expired');
    states.set(b.authorization.nonce, 'expired');
    expect((await paidFetch.budget.reconcile()).map((o) => [o.state, o.released])).toEqual([
      ['expired', true],
      ['expired', true],
    ]);
    expect(await dailyUsed(paidFetch)).toBe('0');
    expect(asked.length).toBe(5);
  });

  it('a store that fails to release: unavailable, still counted, released on the next reconcile', async () => {
    paywallAnswering({ next: 'reset' });
    const { checker, states } = scriptedChecker();
    const inner = memoryStore({ clock: () => T0 });
    let failRelease = true;
    const store: SpendStore = {
      ...inner,
      reserve: (r) => inner.reserve(r),
      settle: (...args) => inner.settle(...args),
      usage: (c) => inner.usage(c),
      report: (q) => inner.report(q),
      release: (id) => (failRelease ? Promise.reject(new Error('store down')) : inner.release(id)),
    };
    const { paidFetch } = payer({ clock: () => T0, reconcile: checker, store, budget: { daily: '1.00' } });
    const lost = await rejectionOf(paidFetch(URL_));
    states.set(lost.authorization.nonce, 'expired');
    const [first] = await paidFetch.budget.reconcile();
    expect(first).toMatchObject({ state: 'unavailable', error: new Error('store down') });
    expect(await dailyUsed(paidFetch)).toBe('0.01');
    failRelease = false;
    expect((await paidFetch.budget.reconcile()).map((o) => [o.state, o.released])).toEqual([['expired', true]]);
    expect(await dailyUsed(paidFetch)).toBe('0');
  });

  it('two reconciles at once ask about each payment once, and release it once', async () => {
    paywallAnswering({ next: 'reset' });
    const { checker, asked, states } = scriptedChecker();
    const { paidFetch } = payer({ clock: () => T0, reconcile: checker, budget: { daily: '1.00' } });
    const lost = await rejectionOf(paidFetch(URL_));
    states.set(lost.authorization.nonce, 'expired');
    const [x, y] = await Promise.all([paidFetch.budget.reconcile(), paidFetch.budget.reconcile()]);
    expect([...x!, ...y!].map((o) => o.state)).toEqual(['expired']);
    expect(asked).toHaveLength(1);
    expect(await dailyUsed(paidFetch)).toBe('0');
  });

  it('reads the shared store: another wrapped fetch over it (another process) reconciles what this one paid, once', async () => {
    paywallAnswering({ next: 'reset' });
    const { checker, states } = scriptedChecker();
    const clock = { now: T0 };
    const store = memoryStore({ clock: () => clock.now });
    const { paidFetch } = payer({ store, clock: () => clock.now, budget: { daily: '1.00' } }, clock);
    const lost = await rejectionOf(paidFetch(URL_));
    states.set(lost.authorization.nonce, 'expired');
    // No reconcile option here: this one cannot.
    await expect(paidFetch.budget.reconcile()).rejects.toThrow(TypeError);
    const other = payer({ store, clock: () => clock.now, reconcile: checker, budget: { daily: '1.00' } }, clock).paidFetch;
    const again = payer({ store, clock: () => clock.now, reconcile: checker, budget: { daily: '1.00' } }, clock).paidFetch;
    const [a, b] = await Promise.all([other.budget.reconcile(), again.budget.reconcile()]);
    expect([...a!, ...b!].map((o) => [o.id, o.state, o.released])).toEqual([
      [expect.stringMatching(/^pay_/), 'expired', true],
      [expect.stringMatching(/^pay_/), 'expired', false],
    ]);
    expect(await dailyUsed(paidFetch)).toBe('0');
  });

  it('asks only about the last hour (and ten minutes): older payments can no longer be released and are left as they are', async () => {
    paywallAnswering({ next: 'reset' });
    const { checker, asked } = scriptedChecker();
    const clock = { now: T0 };
    const { paidFetch } = payer({ clock: () => clock.now, reconcile: checker, budget: { daily: '1.00' } }, clock);
    await rejectionOf(paidFetch(URL_));
    clock.now += 70 * 60_000 + 1;
    expect(await paidFetch.budget.reconcile()).toEqual([]);
    expect(asked).toHaveLength(0);
    expect((await paidFetch.budget.report()).map((r) => r.status)).toEqual(['unknown']);
  });

  it('the option is checked at wrapFetch time, and chainChecker checks its clients', () => {
    expect(() => payer({ reconcile: {} as AuthorizationChecker })).toThrow(/options\.reconcile must be an authorization checker/);
    expect(() => chainChecker({ base: { request: async () => null } })).toThrow(/"base" is not a CAIP-2 EVM network/);
    expect(() => chainChecker({ 'eip155:8453': {} as never })).toThrow(/the client for eip155:8453 must be a viem client/);
    expect(() => chainChecker(null as never)).toThrow(TypeError);
    expect(() => chainChecker({}, { blockTag: 'pending' as 'latest' })).toThrow(/chainChecker: blockTag must be/);
    expect(() => chainChecker({}, { timeoutMs: -1 })).toThrow(/chainChecker: timeoutMs must be a positive integer/);
  });
});

describe('budget.reconcile(): reservations left behind before sending (a crash; THREATS H4)', () => {
  /**
   * A call that stops for good at `where`: in the wallet (never signed) or in the store's
   * write-ahead (signed, never recorded as sent, never sent), as a process killed there would.
   * The first paidFetch makes the call; a second one over the same store (another process) reconciles.
   */
  async function leftBehind(where: 'signing' | 'write-ahead') {
    paywallAnswering({ next: 'settled' });
    const clock = { now: T0 };
    const store = memoryStore({ clock: () => clock.now });
    const signed: { nonce?: string; validBefore?: bigint } = {};
    const hang = new Promise<never>(() => undefined);
    const wallet = {
      address: testAccount.address,
      signTypedData: async (args: Parameters<typeof testAccount.signTypedData>[0]) => {
        if (where === 'signing') return hang;
        const message = args.message as { nonce: string; validBefore: bigint };
        Object.assign(signed, { nonce: message.nonce, validBefore: message.validBefore });
        return testAccount.signTypedData(args);
      },
    };
    const dying: SpendStore = { ...store, settle: (...args) => (args[1] === 'unknown' && args[2] === undefined ? hang : store.settle(...args)) };
    const crashed = payer({ store: dying, clock: () => clock.now, budget: { daily: '1.00' } }, clock, wallet).paidFetch;
    void crashed(URL_);
    await new Promise((resolve) => setTimeout(resolve, 50));
    const { checker, asked, states } = scriptedChecker();
    const survivor = payer({ store, clock: () => clock.now, reconcile: checker, budget: { daily: '1.00' } }, clock).paidFetch;
    const [record] = await survivor.budget.report();
    return { record: record!, clock, survivor, asked, states, signed };
  }

  it('never signed: the record holds the planned nonce and latest validBefore; asked about only once that time has passed; expired unused → given back', async () => {
    const { record, clock, survivor, asked, states } = await leftBehind('signing');
    expect(record).toMatchObject({ status: 'reserved', authorization: { from: testAccount.address, nonce: expect.stringMatching(/^0x[0-9a-f]{64}$/) } });
    // The route asks 60 s at most; no approval; 30 s of slack.
    expect(BigInt(record.authorization!.validBefore)).toBe(BigInt(T0 / 1000) + 60n + 30n);
    expect(await dailyUsed(survivor)).toBe('0.01');
    expect(await survivor.budget.reconcile()).toEqual([]); // a signature could still be valid: not asked
    expect(asked).toHaveLength(0);
    clock.now = T0 + 91_000;
    states.set(record.authorization!.nonce, 'expired');
    expect((await survivor.budget.reconcile()).map((o) => [o.id, o.state, o.released])).toEqual([[record.id, 'expired', true]]);
    expect(asked.map((a) => [a.nonce, a.validBefore])).toEqual([[record.authorization!.nonce, BigInt(record.authorization!.validBefore)]]);
    expect(await dailyUsed(survivor)).toBe('0');
    expect((await survivor.budget.report()).map((r) => r.status)).toEqual(['released']);
  });

  it('signed but not recorded as sent: it was signed with the planned nonce, within the planned time; pending stays counted, used is recorded settled', async () => {
    const { record, clock, survivor, states, signed } = await leftBehind('write-ahead');
    expect(signed.nonce).toBe(record.authorization!.nonce);
    expect(signed.validBefore! <= BigInt(record.authorization!.validBefore)).toBe(true);
    clock.now = T0 + 91_000;
    expect((await survivor.budget.reconcile()).map((o) => o.state)).toEqual(['pending']);
    expect(await dailyUsed(survivor)).toBe('0.01');
    states.set(record.authorization!.nonce, 'used');
    expect((await survivor.budget.reconcile()).map((o) => o.state)).toEqual(['used']);
    expect((await survivor.budget.report()).map((r) => r.status)).toEqual(['settled']);
    expect(await dailyUsed(survivor)).toBe('0.01');
  });

  it('with an approval hook, the planned time includes the approval timeout', async () => {
    paywallAnswering({ next: 'settled' });
    const { paidFetch } = payer({ clock: () => T0, budget: { daily: '1.00', approve: () => true, approveTimeoutMs: 120_000 } });
    const payment = getPayment(await paidFetch(URL_))!;
    const [record] = await paidFetch.budget.report();
    // The signed authorization replaced the planned one in the record: the same nonce, a validBefore within the plan.
    expect(record!.authorization!.nonce).toBe(payment.authorization.nonce);
    expect(payment.authorization.validBefore).toBe(BigInt(T0 / 1000) + 60n);
    const reserved: { authorization?: { validBefore: string } }[] = [];
    const store = memoryStore({ clock: () => T0 });
    const spy: SpendStore = { ...store, reserve: (request) => (reserved.push(request.record), store.reserve(request)) };
    await payer({ store: spy, clock: () => T0, budget: { daily: '1.00', approve: () => true, approveTimeoutMs: 120_000 } }).paidFetch(URL_);
    expect(BigInt(reserved[0]!.authorization!.validBefore)).toBe(BigInt(T0 / 1000) + 60n + 120n + 30n);
  });
});
