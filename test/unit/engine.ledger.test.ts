import { HttpResponse } from 'msw';
import { describe, expect, it } from 'vitest';
import { isX402Error, wrapFetch } from '../../src/index.js';
import { createEngine } from '../../src/engine.js';
import { createLedger } from '../../src/budget/ledger.js';
import { createPolicy } from '../../src/budget/policy.js';
import { readChallenge } from '../../src/protocol/read.js';
import { selectQuote } from '../../src/select.js';
import { resolveOptions, type WrapFetchOptions } from '../../src/options.js';
import { prepareReplay } from '../../src/requestReplay.js';
import { toWallet } from '../../src/wallets/toWallet.js';
import type { WalletInput } from '../../src/wallets/types.js';
import { challengeV2, paywall, useMswServer, type SeenRequest } from '../support/msw.js';
import { paymentRequiredV2, requirementV2, settlementHeader, testAccount } from '../support/challenges.js';
import { countingSigner } from '../support/signers.js';
import { rejectionOf } from '../support/secrets.js';

const server = useMswServer();
const URL_ = 'https://api.example.com/premium-data';
const TX = `0x${'ef'.repeat(32)}`;

/** Runs one call through a real engine (as wrapFetch does) so that its ledger can be inspected. */
async function call(args: {
  paid?: (seen: SeenRequest) => Response;
  challenge?: () => Response;
  wallet?: WalletInput;
  options?: WrapFetchOptions;
  init?: RequestInit;
  fetchImpl?: typeof fetch;
}) {
  const p = paywall({ url: URL_, challenge: args.challenge ?? (() => challengeV2(paymentRequiredV2())), paid: args.paid });
  server.use(p.handler);
  const options = resolveOptions({ clock: () => 1_750_000_000_000, ...args.options });
  const engine = createEngine(toWallet(args.wallet ?? testAccount), options);
  const fetchImpl = args.fetchImpl ?? fetch;
  const run = async () => {
    const replay = await prepareReplay(URL_, args.init, options.maxRequestBodyBytes);
    const response = await fetchImpl(...replay.first());
    if (response.status !== 402) return response;
    return engine.pay(response, replay, fetchImpl);
  };
  let outcome: { response?: Response; error?: unknown };
  try {
    outcome = { response: await run() };
  } catch (error) {
    outcome = { error };
  }
  return { ...outcome, records: engine.ledger.records(), p };
}

describe('spent = signed: the ledger follows every payment', () => {
  it('settled receipt → settled, with the transaction', async () => {
    const { response, records } = await call({
      paid: () => HttpResponse.json({}, { headers: { 'PAYMENT-RESPONSE': settlementHeader({ success: true, transaction: TX, network: 'eip155:84532', payer: testAccount.address }) } }),
    });
    expect(response!.status).toBe(200);
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({
      status: 'settled',
      transaction: TX,
      amount: 10000n,
      network: 'eip155:84532',
      host: 'api.example.com',
      url: URL_,
      payTo: '0x209693Bc6afc0C5328bA36FaF03C514EF312287C',
      at: 1_750_000_000_000,
    });
  });

  it('no receipt → unknown (still counted)', async () => {
    const { records } = await call({});
    expect(records.map((r) => r.status)).toEqual(['unknown']);
  });

  it('a refusal before signing records nothing', async () => {
    const { error, records } = await call({ challenge: () => challengeV2(paymentRequiredV2([requirementV2({ amount: '999999999' })])) });
    expect((error as { code: string }).code).toBe('budget_exceeded');
    expect(records).toEqual([]);
  });

  it('a wallet error releases the reservation', async () => {
    const { error, records, p } = await call({ wallet: { address: testAccount.address, signTypedData: () => Promise.reject(new Error('locked')) } });
    expect((error as { code: string }).code).toBe('wallet_error');
    expect(records.map((r) => r.status)).toEqual(['released']);
    expect(p.paid()).toHaveLength(0);
  });

  it('an abort while signing releases the reservation', async () => {
    const controller = new AbortController();
    const inner = countingSigner();
    const { error, records, p } = await call({
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
    expect(p.paid()).toHaveLength(0);
  });

  it('a network error after sending → unknown, never released', async () => {
    const { error, records } = await call({ paid: () => HttpResponse.error() });
    expect((error as { code: string }).code).toBe('settlement_unknown');
    expect(records.map((r) => r.status)).toEqual(['unknown']);
  });

  it('a settle failure → failed', async () => {
    const { error, records } = await call({
      paid: () => HttpResponse.json({}, { status: 402, headers: { 'PAYMENT-RESPONSE': settlementHeader({ success: false, errorReason: 'insufficient_funds' }) } }),
    });
    expect((error as { code: string }).code).toBe('payment_rejected');
    expect(records.map((r) => r.status)).toEqual(['failed']);
  });

  it('a connection refused before any byte left (ECONNREFUSED) → released, the error passes through', async () => {
    let calls = 0;
    const refused = Object.assign(new TypeError('fetch failed'), { cause: Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }) });
    const fetchImpl = (async (input: RequestInfo | URL, init?: RequestInit) => {
      calls++;
      if (calls === 2) throw refused;
      return fetch(input, init);
    }) as typeof fetch;
    const { error, records } = await call({ fetchImpl });
    expect(error).toBe(refused);
    expect(records.map((r) => r.status)).toEqual(['released']);
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
});

describe('reservations', () => {
  async function quote() {
    const options = resolveOptions();
    const challenge = await readChallenge(challengeV2(paymentRequiredV2()), URL_, { maxBodyBytes: 65536, maxHeaderBytes: 16384, versions: [1, 2] });
    return { options, quote: selectQuote(challenge, { url: URL_, assets: options.assets, networks: undefined, check: () => undefined }) };
  }

  it('a known outcome is never released; a sent one only when provably undelivered', async () => {
    const { options, quote: q } = await quote();
    const ledger = createLedger(createPolicy(options), () => 1);
    const settled = ledger.reserve(q);
    settled.markSent();
    settled.settle('settled', TX);
    settled.release();
    expect(settled.record.status).toBe('settled');
    const failed = ledger.reserve(q);
    failed.markSent();
    failed.settle('failed');
    failed.release();
    expect(failed.record.status).toBe('failed');
    const undelivered = ledger.reserve(q);
    undelivered.markSent();
    undelivered.release();
    expect(undelivered.record.status).toBe('released');
    expect(ledger.records().map((r) => r.status)).toEqual(['settled', 'failed', 'released']);
    expect(new Set(ledger.records().map((r) => r.id)).size).toBe(3);
  });

  it('reserve re-checks the policy atomically and records nothing on refusal', async () => {
    const { quote: q } = await quote();
    const ledger = createLedger(createPolicy(resolveOptions({ budget: { perRequest: '0.001' } })), () => 1);
    expect(() => ledger.reserve(q)).toThrow(expect.objectContaining({ code: 'budget_exceeded' }));
    expect(ledger.records()).toEqual([]);
  });
});
