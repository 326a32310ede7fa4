import { HttpResponse } from 'msw';
import { describe, expect, it } from 'vitest';
import { isX402Error, memoryStore, wrapFetch, type SpendRecord, type SpendStore, type WrapFetchOptions } from '../../src/index.js';
import { Budget } from '../../src/budget/budget.js';
import { resolveBudget } from '../../src/budget/budgetOptions.js';
import { readChallenge } from '../../src/protocol/read.js';
import { selectQuote } from '../../src/select.js';
import { resolveOptions } from '../../src/options.js';
import type { WalletInput } from '../../src/wallets/types.js';
import { challengeV2, paywall, useMswServer, type SeenRequest } from '../support/msw.js';
import { BASE_SEPOLIA_USDC, decodeHeader, PAY_TO, paymentRequiredV2, requirementV2, settlementHeader, testAccount } from '../support/challenges.js';
import { countingSigner } from '../support/signers.js';
import { rejectionOf } from '../support/secrets.js';

const server = useMswServer();
const URL_ = 'https://api.example.com/premium-data';
const TX = `0x${'ef'.repeat(32)}`;
const NOW = 1_750_000_000_000;

/** The daily line of `remaining()`: micro-USD used, as the budget shows it. */
async function dailyUsed(paidFetch: { budget: { remaining(): Promise<{ scope: string; limit: string; used: string }[]> } }) {
  const all = await paidFetch.budget.remaining();
  return all.find((l) => l.scope === 'global' && l.limit === 'daily')!.used;
}

/**
 * Runs one call through wrapFetch over a real memoryStore whose clock is fixed, and reads the
 * ledger back through `paidFetch.budget`.
 */
async function call(args: {
  paid?: (seen: SeenRequest) => Response | Promise<Response>;
  challenge?: () => Response;
  wallet?: WalletInput;
  options?: WrapFetchOptions;
  init?: RequestInit;
  fetchImpl?: typeof fetch;
  store?: SpendStore;
}) {
  const p = paywall({ url: URL_, challenge: args.challenge ?? (() => challengeV2(paymentRequiredV2())), paid: args.paid });
  server.use(p.handler);
  const store = args.store ?? memoryStore({ clock: () => NOW });
  const events: unknown[] = [];
  const paidFetch = wrapFetch(args.fetchImpl ?? fetch, args.wallet ?? testAccount, {
    clock: () => NOW,
    store,
    on: { payment: (e) => events.push(e), denied: (e) => events.push(e), error: (e) => events.push(e) },
    ...args.options,
  });
  let outcome: { response?: Response; error?: unknown };
  try {
    outcome = { response: await paidFetch(URL_, args.init) };
  } catch (error) {
    outcome = { error };
  }
  return { ...outcome, records: await paidFetch.budget.report(), used: await dailyUsed(paidFetch), events, p, paidFetch };
}

describe('spent = signed: the ledger follows every payment', () => {
  it('settled receipt → settled, with the transaction, counted', async () => {
    const { response, records, used } = await call({
      paid: () => HttpResponse.json({}, { headers: { 'PAYMENT-RESPONSE': settlementHeader({ success: true, transaction: TX, network: 'eip155:84532', payer: testAccount.address }) } }),
    });
    expect(response!.status).toBe(200);
    expect(records).toHaveLength(1);
    expect(records[0]).toEqual({
      id: expect.stringMatching(/^pay_[0-9a-f]{24}$/),
      time: NOW,
      host: 'api.example.com',
      payee: PAY_TO,
      amount: '10000',
      asset: BASE_SEPOLIA_USDC,
      network: 'eip155:84532',
      status: 'settled',
      transaction: TX,
      authorization: { from: testAccount.address, nonce: expect.stringMatching(/^0x[0-9a-f]{64}$/), validBefore: String(NOW / 1000 + 60) },
    });
    expect(used).toBe('0.01');
  });

  it('no receipt → unknown (still counted)', async () => {
    const { records, used } = await call({});
    expect(records.map((r) => r.status)).toEqual(['unknown']);
    expect(records[0]!.transaction).toBeUndefined();
    expect(used).toBe('0.01');
  });

  it('a refusal by the per-request cap before signing leaves the ledger unchanged', async () => {
    const { error, records, used, p } = await call({ challenge: () => challengeV2(paymentRequiredV2([requirementV2({ amount: '999999999' })])) });
    expect((error as { code: string }).code).toBe('budget_exceeded');
    expect(records).toEqual([]);
    expect(used).toBe('0');
    expect(p.paid()).toHaveLength(0);
  });

  it('a refusal by a window leaves the ledger unchanged', async () => {
    const store = memoryStore({ clock: () => NOW });
    const first = await call({ store, options: { budget: { daily: '0.015' } } });
    expect(first.records.map((r) => r.status)).toEqual(['unknown']);
    const second = await call({ store, options: { budget: { daily: '0.015' } } });
    expect((second.error as { code: string }).code).toBe('budget_exceeded');
    expect(second.records).toEqual(first.records);
    expect(second.used).toBe('0.01');
    expect(second.p.paid()).toHaveLength(0);
  });

  it('a refusal by the allow lists leaves the ledger unchanged', async () => {
    const { error, records, used, p } = await call({ options: { budget: { payees: { deny: [PAY_TO] } } } });
    expect((error as { code: string }).code).toBe('no_acceptable_option');
    expect(records).toEqual([]);
    expect(used).toBe('0');
    expect(p.paid()).toHaveLength(0);
  });

  it('a denied approval releases the reservation: nothing signed, nothing counted', async () => {
    const signer = countingSigner();
    const { error, records, used, p } = await call({ wallet: signer, options: { budget: { approve: () => false } } });
    expect((error as { code: string }).code).toBe('approval_denied');
    expect(signer.calls).toBe(0);
    expect(records.map((r) => r.status)).toEqual(['released']);
    expect(used).toBe('0');
    expect(p.paid()).toHaveLength(0);
  });

  it('a wallet error releases the reservation', async () => {
    const { error, records, used, p } = await call({ wallet: { address: testAccount.address, signTypedData: () => Promise.reject(new Error('locked')) } });
    expect((error as { code: string }).code).toBe('wallet_error');
    expect(records.map((r) => r.status)).toEqual(['released']);
    expect(used).toBe('0');
    expect(p.paid()).toHaveLength(0);
  });

  it('an abort while signing releases the reservation', async () => {
    const controller = new AbortController();
    const inner = countingSigner();
    const { error, records, used, p } = await call({
      init: { signal: controller.signal },
      wallet: {
        address: inner.address,
        signTypedData: async (a: Parameters<typeof inner.signTypedData>[0]) => {
          const s = await inner.signTypedData(a);
          controller.abort();
          return s;
        },
      },
    });
    expect((error as DOMException).name).toBe('AbortError');
    expect(records.map((r) => r.status)).toEqual(['released']);
    expect(used).toBe('0');
    expect(p.paid()).toHaveLength(0);
  });

  it('a network error after sending → unknown, never released', async () => {
    const { error, records, used } = await call({ paid: () => HttpResponse.error() });
    expect((error as { code: string }).code).toBe('settlement_unknown');
    expect(records.map((r) => r.status)).toEqual(['unknown']);
    expect(used).toBe('0.01');
  });

  it('a settle failure (402 with success:false) → failed, still counted', async () => {
    const { error, records, used } = await call({
      paid: () => HttpResponse.json({}, { status: 402, headers: { 'PAYMENT-RESPONSE': settlementHeader({ success: false, errorReason: 'insufficient_funds' }) } }),
    });
    expect((error as { code: string }).code).toBe('payment_rejected');
    expect(records.map((r) => r.status)).toEqual(['failed']);
    expect(used).toBe('0.01');
  });

  it('a bare 402 to the paid request → refused by the server, still counted', async () => {
    const { error, records, used, p } = await call({ paid: () => challengeV2(paymentRequiredV2()) });
    expect((error as { code: string }).code).toBe('payment_rejected');
    expect(records).toHaveLength(1);
    expect(records[0]!.status).not.toBe('released');
    expect(used).toBe('0.01');
    expect(p.paid()).toHaveLength(1);
  });

  it('a 5xx after sending → unknown, still counted', async () => {
    const { error, records, used } = await call({ paid: () => HttpResponse.json({}, { status: 502 }) });
    expect((error as { code: string }).code).toBe('settlement_unknown');
    expect(records.map((r) => r.status)).toEqual(['unknown']);
    expect(used).toBe('0.01');
  });

  it('a connection refused before any byte left (ECONNREFUSED) → released, the error passes through', async () => {
    let calls = 0;
    const refused = Object.assign(new TypeError('fetch failed'), { cause: Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }) });
    const fetchImpl = (async (input: RequestInfo | URL, init?: RequestInit) => {
      calls++;
      if (calls === 2) throw refused;
      return fetch(input, init);
    }) as typeof fetch;
    const { error, records, used } = await call({ fetchImpl });
    expect(error).toBe(refused);
    expect(records.map((r) => r.status)).toEqual(['released']);
    expect(used).toBe('0');
  });

  it('a connection reset while sending (not provably unsent) → unknown, counted', async () => {
    let calls = 0;
    const reset = Object.assign(new TypeError('fetch failed'), { cause: Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }) });
    const fetchImpl = (async (input: RequestInfo | URL, init?: RequestInit) => {
      if (++calls >= 2) throw reset;
      return fetch(input, init);
    }) as typeof fetch;
    const { error, records, used } = await call({ fetchImpl });
    expect(error).toMatchObject({ code: 'settlement_unknown', reason: 'network', sends: 2 });
    expect(calls).toBe(3);
    expect(records.map((r) => r.status)).toEqual(['unknown']);
    expect(used).toBe('0.01');
  });

  it('a resend refused at connect (ECONNREFUSED) after a reset → still unknown and counted: the first send may have arrived', async () => {
    let calls = 0;
    const reset = Object.assign(new TypeError('fetch failed'), { cause: Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }) });
    const refused = Object.assign(new TypeError('fetch failed'), { cause: { code: 'ECONNREFUSED' } });
    const fetchImpl = (async (input: RequestInfo | URL, init?: RequestInit) => {
      calls++;
      if (calls === 2) throw reset;
      if (calls === 3) throw refused;
      return fetch(input, init);
    }) as typeof fetch;
    const { error, records, used } = await call({ fetchImpl, options: { resend: { delayMs: 0 } } });
    expect(error).toMatchObject({ code: 'settlement_unknown', reason: 'network', sends: 2 });
    expect((error as { cause: unknown }).cause).toBe(refused);
    expect(records.map((r) => r.status)).toEqual(['unknown']);
    expect(used).toBe('0.01');
  });

  it('through wrapFetch the same ECONNREFUSED passes through untouched', async () => {
    const p = paywall({ url: URL_, challenge: () => challengeV2(paymentRequiredV2()) });
    server.use(p.handler);
    let calls = 0;
    const refused = Object.assign(new TypeError('fetch failed'), { cause: { code: 'ECONNREFUSED' } });
    const error = await rejectionOf(
      wrapFetch((async (i: RequestInfo | URL, init?: RequestInit) => {
        if (++calls === 2) throw refused;
        return fetch(i, init);
      }) as typeof fetch, testAccount)(URL_),
    );
    expect(error).toBe(refused);
    expect(isX402Error(error)).toBe(false);
  });

  it('pre-send failures never starve the budget: 150 wallet errors under a 1.00 cap, then a payment still fits', async () => {
    const store = memoryStore({ clock: () => NOW });
    const p = paywall({ url: URL_, challenge: () => challengeV2(paymentRequiredV2()) });
    server.use(p.handler);
    const broken = wrapFetch(fetch, { address: testAccount.address, signTypedData: () => Promise.reject(new Error('locked')) }, { store });
    // In waves of 50 (in flight at once they would all count: 150 × 0.01 is over the cap).
    const errors = [];
    for (let wave = 0; wave < 3; wave++) errors.push(...(await Promise.all(Array.from({ length: 50 }, () => rejectionOf(broken(URL_))))));
    expect(errors.every((e) => e.code === 'wallet_error')).toBe(true);
    const records = await broken.budget.report();
    expect(records).toHaveLength(150);
    expect(records.every((r) => r.status === 'released')).toBe(true);
    expect(await dailyUsed(broken)).toBe('0');
    const working = wrapFetch(fetch, testAccount, { store });
    expect((await working(URL_)).status).toBe(200);
    expect(await dailyUsed(working)).toBe('0.01');
  });
});

describe('store failures fail closed', () => {
  const failing = (method: keyof SpendStore): SpendStore => {
    const inner = memoryStore({ clock: () => NOW });
    return { ...inner, [method]: () => Promise.reject(new Error(`${method} down`)) };
  };

  it('a store that cannot reserve → BudgetUnavailableError, nothing signed or sent', async () => {
    const signer = countingSigner();
    const { error, p } = await call({ wallet: signer, store: failing('reserve') });
    expect(isX402Error(error)).toBe(true);
    expect((error as { code: string }).code).toBe('budget_unavailable');
    expect((error as { moneyMoved: string }).moneyMoved).toBe('no');
    expect(signer.calls).toBe(0);
    expect(p.paid()).toHaveLength(0);
  });

  it('a store that cannot record the payment before it is sent (the write-ahead) → BudgetUnavailableError, nothing sent, the reservation released', async () => {
    const signer = countingSigner();
    const { error, p, records, used } = await call({ wallet: signer, store: failing('settle') });
    expect((error as { code: string }).code).toBe('budget_unavailable');
    expect((error as { moneyMoved: string }).moneyMoved).toBe('no');
    expect((error as Error).message).toContain('could not record the payment before sending it');
    expect(signer.calls).toBe(1); // signed, but the signature never left the process
    expect(p.paid()).toHaveLength(0);
    expect(records.map((r) => r.status)).toEqual(['released']);
    expect(used).toBe('0');
  });

  it('a store that cannot record the outcome: the paid answer still arrives, an error event says so, the amount stays counted', async () => {
    // The write-ahead goes through; the store fails from the answer on.
    const inner = memoryStore({ clock: () => NOW });
    let settles = 0;
    const store: SpendStore = { ...inner, settle: (...args) => (++settles === 1 ? inner.settle(...args) : Promise.reject(new Error('settle down'))) };
    const { response, events, used, records } = await call({ store });
    expect(response!.status).toBe(200);
    expect(events).toContainEqual(expect.objectContaining({ type: 'error', url: URL_, message: expect.stringContaining('could not record the payment outcome') }));
    expect(records.map((r) => r.status)).toEqual(['unknown']);
    expect(used).toBe('0.01');
  });

  it('the write-ahead: while the paid request is in flight, the ledger already holds it as unknown, with its authorization', async () => {
    const store = memoryStore({ clock: () => NOW });
    let seenInFlight: SpendRecord[] = [];
    const { response, p } = await call({
      store,
      paid: async () => {
        // The ledger, as the server receives the payment.
        seenInFlight = await store.report();
        return HttpResponse.json({}, { headers: { 'PAYMENT-RESPONSE': settlementHeader({ success: true, transaction: TX, network: 'eip155:84532', payer: testAccount.address }) } });
      },
    });
    expect(response!.status).toBe(200);
    const sent = decodeHeader(p.paid()[0]!.headers['payment-signature']!).payload.authorization;
    expect(seenInFlight.map((r) => [r.status, r.authorization])).toEqual([['unknown', { from: sent.from, nonce: sent.nonce, validBefore: sent.validBefore }]]);
    expect((await store.report()).map((r) => r.status)).toEqual(['settled']);
  });

  it('a store that cannot release: the original error is thrown and an error event says so', async () => {
    const { error, events } = await call({ store: failing('release'), wallet: { address: testAccount.address, signTypedData: () => Promise.reject(new Error('locked')) } });
    expect((error as { code: string }).code).toBe('wallet_error');
    expect(events).toContainEqual(expect.objectContaining({ type: 'error', message: expect.stringContaining('could not release a reservation') }));
  });
});

describe('reservations', () => {
  async function quote() {
    const options = resolveOptions();
    const challenge = await readChallenge(challengeV2(paymentRequiredV2()), URL_, { maxBodyBytes: 65536, maxHeaderBytes: 16384, versions: [1, 2] });
    return { options, quote: selectQuote(challenge, { url: URL_, assets: options.assets, check: () => undefined }) };
  }

  it('a settled outcome can never be released; a failed one stays counted (only a reconciliation may release it); an undelivered one is released; each reservation has its own id', async () => {
    const { options, quote: q } = await quote();
    const store = memoryStore({ clock: () => 1 });
    const budget = new Budget(options.budget, options.assetLimits, store);
    const settled = await budget.reserve(q);
    await settled.settle('settled', TX);
    expect(await settled.release()).toBe(false);
    const failed = await budget.reserve(q);
    await failed.settle('failed');
    const undelivered = await budget.reserve(q);
    await undelivered.release();
    const records = await budget.report();
    expect(records.map((r) => [r.id, r.status])).toEqual([
      [settled.id, 'settled'],
      [failed.id, 'failed'],
      [undelivered.id, 'released'],
    ]);
    expect(new Set(records.map((r) => r.id)).size).toBe(3);
    expect((await budget.remaining()).find((l) => l.limit === 'daily')).toMatchObject({ used: '0.02', remaining: '0.98' });
  });

  it('reserve re-checks every window atomically and records nothing on refusal', async () => {
    const { quote: q } = await quote();
    const store = memoryStore({ clock: () => 1 });
    const budget = new Budget(resolveBudget({ daily: '0.019' }), new Map(), store);
    await budget.reserve(q);
    const before = await store.report();
    await expect(budget.reserve(q)).rejects.toMatchObject({ code: 'budget_exceeded', limit: 'daily', allowed: '0.019 USD', requested: '0.01 USD more (0.01 USD already used)' });
    expect(await store.report()).toEqual(before);
    expect((await budget.remaining()).find((l) => l.limit === 'daily')).toMatchObject({ used: '0.01', remaining: '0.009' });
  });
});
