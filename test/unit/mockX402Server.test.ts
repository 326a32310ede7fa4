/**
 * `x402-autopay/testing`: the mock server pays end to end with wrapFetch (v2 and v1), verifies
 * what a facilitator verifies (a tampered, misdirected, underpaid, expired or replayed payment is
 * refused), and fails in the ways real payments fail when told to.
 */
import { describe, expect, it } from 'vitest';
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts';
import { getPayment, PaymentRejectedError, SettlementUnknownError, wrapFetch, BudgetExceededError } from '../../src/index.js';
import { mockX402Server, MOCK_PAY_TO } from '../../src/testing/index.js';
import { decodeBase64Json, encodeBase64Json } from '../../src/protocol/codec.js';
import { rejectionOf } from '../support/secrets.js';

const account = privateKeyToAccount(generatePrivateKey());
const API = 'https://api.example.com';

describe('mockX402Server', () => {
  for (const version of [2, 1] as const) {
    it(`v${version}: wrapFetch pays a route end to end; the payment is verified and recorded`, async () => {
      const api = mockX402Server({ version, routes: { '/weather': { price: '0.01', body: { sunny: true } } } });
      const paidFetch = wrapFetch(api.fetch, account);
      const response = await paidFetch(`${API}/weather`);
      expect(response.status).toBe(200);
      expect(await response.json()).toEqual({ sunny: true });
      expect(getPayment(response)).toMatchObject({ status: 'settled', amount: 10_000n, payTo: MOCK_PAY_TO, payer: account.address });
      expect(api.payments).toEqual([expect.objectContaining({ path: '/weather', amount: 10_000n, payer: account.address, outcome: 'settled' })]);
      expect(getPayment(response)!.transaction).toBe(api.payments[0]!.transaction);
      expect(api.settledTotal()).toBe(10_000n);
      expect((await paidFetch(`${API}/nowhere`)).status).toBe(404);
    });
  }

  it('the budget applies as with any server: a route over the cap is refused before signing', async () => {
    const api = mockX402Server({ routes: { '/dear': '0.50' } });
    const paidFetch = wrapFetch(api.fetch, account, { budget: { perRequest: '0.10' } });
    expect(await rejectionOf(paidFetch(`${API}/dear`))).toBeInstanceOf(BudgetExceededError);
    expect(api.payments).toEqual([]);
  });

  it('outcomes: rejected → PaymentRejectedError; server_error → settlement_unknown; lost → the resend is refused as used (it was settled)', async () => {
    const outcomes = ['rejected', 'server_error', 'lost'] as const;
    let next = 0;
    const api = mockX402Server({ routes: { '/x': '0.01' }, outcome: () => outcomes[next]! });
    const paidFetch = wrapFetch(api.fetch, account, { resend: { delayMs: 0 } });
    expect(await rejectionOf(paidFetch(`${API}/x`))).toBeInstanceOf(PaymentRejectedError);
    next = 1;
    expect(await rejectionOf(paidFetch(`${API}/x`))).toMatchObject({ code: 'settlement_unknown', reason: 'server_error', sends: 2 });
    next = 2;
    const lost = await rejectionOf(paidFetch(`${API}/x`));
    expect(lost).toBeInstanceOf(SettlementUnknownError);
    expect(lost).toMatchObject({ reason: 'refused_after_resend', sends: 2 });
    expect(api.refused.at(-1)).toEqual({ path: '/x', reason: 'invalid_exact_evm_payload_authorization_nonce_used' });
    expect(api.settledTotal()).toBe(10_000n); // only the lost one moved
  });

  it('outcome empty: settled, then a 200 with no content → the receipt says delivery: empty; paid once', async () => {
    const api = mockX402Server({ routes: { '/x': '0.01' }, outcome: () => 'empty' });
    const response = await wrapFetch(api.fetch, account)(`${API}/x`);
    expect(response.status).toBe(200);
    expect(await response.text()).toBe('');
    expect(getPayment(response)).toMatchObject({ status: 'settled', delivery: 'empty' });
    expect(api.payments.map((p) => p.outcome)).toEqual(['empty']);
    expect(api.settledTotal()).toBe(10_000n);
  });

  it('with payment-identifier, a lost answer is answered again on the resend: settled once', async () => {
    let first = true;
    const api = mockX402Server({ routes: { '/x': '0.01' }, paymentIdentifier: true, outcome: () => (first ? ((first = false), 'lost') : 'settled') });
    const response = await wrapFetch(api.fetch, account, { resend: { delayMs: 0 } })(`${API}/x`);
    expect(getPayment(response)).toMatchObject({ status: 'settled' });
    expect(api.payments).toHaveLength(1);
    expect(api.settledTotal()).toBe(10_000n);
  });

  /** Pays once through a fetch that hands the payment header to `tamper` before the mock sees it. */
  async function tampered(tamper: (payment: Record<string, any>) => void, clock?: () => number) {
    const api = mockX402Server({ routes: { '/x': '0.01' }, ...(clock ? { clock } : {}) });
    const evil: typeof fetch = (input, init) => {
      const headers = new Headers(init?.headers);
      const value = headers.get('payment-signature');
      if (value !== null) {
        const decoded = decodeBase64Json(value, 65536);
        const payment = structuredClone(decoded.ok ? decoded.value : {}) as Record<string, any>;
        tamper(payment);
        headers.set('payment-signature', encodeBase64Json(payment));
      }
      return api.fetch(input, { ...init, headers });
    };
    await rejectionOf(wrapFetch(evil, account, clock ? { clock } : {})(`${API}/x`));
    return api;
  }

  it('refuses what a facilitator refuses: a changed amount, payee, signature or requirement, and an expired authorization', async () => {
    const cases: Array<[string, (p: Record<string, any>) => void]> = [
      ['invalid_exact_evm_payload_authorization_value', (p) => (p['payload'].authorization.value = '1')],
      ['invalid_exact_evm_payload_recipient_mismatch', (p) => (p['payload'].authorization.to = account.address)],
      ['invalid_exact_evm_payload_signature', (p) => (p['payload'].authorization.nonce = `0x${'11'.repeat(32)}`)],
      ['accepted_requirement_mismatch', (p) => (p['accepted'].amount = '1')],
      ['invalid_payload', (p) => delete p['payload'].signature],
    ];
    for (const [reason, tamper] of cases) {
      const api = await tampered(tamper);
      expect(api.refused, reason).toEqual([{ path: '/x', reason }]);
      expect(api.payments).toEqual([]);
    }
    // Signed for 60 s, presented 2 minutes later by the server's clock.
    const now = Date.now();
    const late = mockX402Server({ routes: { '/x': '0.01' }, clock: () => now + 120_000 });
    await rejectionOf(wrapFetch(late.fetch, account, { clock: () => now })(`${API}/x`));
    expect(late.refused).toEqual([{ path: '/x', reason: 'invalid_exact_evm_payload_authorization_valid_before' }]);
  });

  it('refuses bad options with a TypeError naming them', () => {
    expect(() => mockX402Server({ routes: { '/x': 'free' } })).toThrow(/the price of \/x must be a positive decimal/);
    expect(() => mockX402Server({ routes: { '/x': '0' } })).toThrow(/positive decimal/);
    expect(() => mockX402Server({ routes: {}, network: 'eip155:1234567' })).toThrow(/no built-in USDC on "eip155:1234567"/);
    expect(mockX402Server({ routes: {}, network: 'eip155:8453' }).asset.address).toBe('0x833589fCD6eDb6E08f4c7C32D4f71b54bdA02913');
  });
});
