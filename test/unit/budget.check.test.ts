/**
 * The `Budget` class on its own, over a memory store: which limits a quote meets (USD, a declared
 * token, per host), the counters that do not share keys, the texts of its refusals, the
 * fail-closed default for a token without limits, and `remaining()` once a limit is passed.
 */
import { describe, expect, it } from 'vitest';
import { BudgetExceededError, BudgetUnavailableError, memoryStore, type SpendStore } from '../../src/index.js';
import { Budget } from '../../src/budget/budget.js';
import { resolveOptions } from '../../src/options.js';
import type { WrapFetchOptions } from '../../src/options.js';
import { selectQuote, type Quote } from '../../src/select.js';
import { interpretChallenge } from '../../src/protocol/read.js';
import { encodeBase64Json } from '../../src/protocol/codec.js';
import { DECLARED_TOKEN, PAY_TO, paymentRequiredV2, requirementV2 } from '../support/challenges.js';

const URL_ = 'https://api.example.com/premium-data';
const TOKEN = DECLARED_TOKEN.address;
const TWO_DECIMALS = '0x3333333333333333333333333333333333333333';

function setUp(options: WrapFetchOptions, store: SpendStore = memoryStore({ clock: () => 1_000_000 })) {
  const resolved = resolveOptions(options);
  const budget = new Budget(resolved.budget, resolved.assetLimits, store);
  const quote = (requirement: Record<string, unknown>): Quote => {
    const challenge = interpretChallenge(encodeBase64Json(paymentRequiredV2([requirement])), { ok: true, bytes: new Uint8Array() }, URL_, {
      maxBodyBytes: 65536,
      maxHeaderBytes: 65536,
      versions: [2],
    });
    return selectQuote(challenge, { url: URL_, assets: resolved.assets, check: () => undefined });
  };
  return { budget, quote, resolved, store };
}

const usdc = (amount: string) => requirementV2({ amount });
const token = (amount: string) => requirementV2({ asset: TOKEN, amount, extra: { name: 'Test Token', version: '1' } });
const tt = (whole: number) => (BigInt(Math.round(whole * 100)) * 10n ** 16n).toString();

/** Reserves `quote` `times` times; returns how many were accepted before the first refusal and that refusal. */
async function reserveUntilRefused(budget: Budget, quote: Quote, times: number): Promise<{ accepted: number; refusal?: BudgetExceededError }> {
  for (let i = 0; i < times; i++) {
    try {
      await budget.reserve(quote);
    } catch (error) {
      expect(error).toBeInstanceOf(BudgetExceededError);
      return { accepted: i, refusal: error as BudgetExceededError };
    }
  }
  return { accepted: times };
}

describe('per-request caps and their texts', () => {
  it('over the global cap: the amount, the limit and the cap, in USD', () => {
    const { budget, quote } = setUp({ budget: { perRequest: '0.01' } });
    expect(budget.check(quote(usdc('10000')), URL_)).toBeUndefined();
    const refused = budget.check(quote(usdc('10001')), URL_);
    expect(refused).toMatchObject({ code: 'budget_exceeded', message: '0.010001 USD is over the perRequest limit of 0.01 USD' });
    expect(refused!.error).toBeInstanceOf(BudgetExceededError);
  });

  it("a host's own cap is named as such", () => {
    const { budget, quote } = setUp({ budget: { perRequest: '1.00', perHost: { '*.example.com': { perRequest: '0.005' } } } });
    expect(budget.check(quote(usdc('10000')), URL_)?.message).toBe('0.01 USD is over the perHost["*.example.com"].perRequest limit of 0.005 USD');
  });

  it("a declared token is capped in its own units; a host's USD cap and windows do not apply to it", async () => {
    const { budget, quote } = setUp({
      assets: [{ ...DECLARED_TOKEN, perRequest: '5', daily: '50' }],
      budget: { perHost: { 'api.example.com': { perRequest: '0.001', daily: '0.001' } } },
    });
    expect(budget.check(quote(token(tt(2))), URL_)).toBeUndefined();
    await budget.reserve(quote(token(tt(2)))); // the host's daily 0.001 USD is not in TT
    expect(budget.check(quote(token(tt(5.01))), URL_)?.message).toBe('5.01 TT is over the perRequest limit of 5 TT');
  });

  it('a token priced in neither USD nor declared limits is refused (no cap means nothing may be paid)', () => {
    const { resolved, store, quote } = setUp({ assets: [{ ...DECLARED_TOKEN, perRequest: '5' }] });
    const withoutLimits = new Budget(resolved.budget, new Map(), store);
    expect(withoutLimits.check(quote(token(tt(0.01))), URL_)).toMatchObject({
      code: 'budget_exceeded',
      message: '0.01 TT is over the perRequest limit of 0 TT (no cap declared)',
    });
  });

  it('a token with fewer than 6 decimals is counted exactly', async () => {
    const { budget, quote } = setUp({
      assets: [{ network: 'eip155:84532', address: TWO_DECIMALS, decimals: 2, name: 'Cents', version: '1', symbol: 'CT', perRequest: '1.5', daily: '3' }],
    });
    const cents = (amount: string) => requirementV2({ asset: TWO_DECIMALS, amount, extra: { name: 'Cents', version: '1' } });
    expect(budget.check(quote(cents('150')), URL_)).toBeUndefined();
    expect(budget.check(quote(cents('151')), URL_)?.message).toBe('1.51 CT is over the perRequest limit of 1.5 CT');
    expect(await reserveUntilRefused(budget, quote(cents('100')), 4)).toMatchObject({ accepted: 3, refusal: { limit: 'asset:eip155:84532/0x3333333333333333333333333333333333333333 daily' } });
  });

  it('list refusals name what they refused', () => {
    const { budget, quote } = setUp({ budget: { assets: { deny: [TOKEN] }, payees: { deny: [PAY_TO] } }, assets: [{ ...DECLARED_TOKEN, perRequest: '5' }] });
    expect(budget.check(quote(token(tt(1))), URL_)).toEqual({ code: 'asset_not_allowed', message: `asset ${TOKEN} is not allowed by budget.assets` });
    expect(budget.check(quote(usdc('1000')), URL_)).toEqual({ code: 'payee_not_allowed', message: `payee ${PAY_TO} is not allowed by budget.payees` });
  });
});

describe('windows: each limit its own counter', () => {
  it('hourly and daily do not share a counter: three payments fill an hourly cap of three', async () => {
    const { budget, quote } = setUp({ budget: { hourly: '0.03', daily: '1.00' } });
    const outcome = await reserveUntilRefused(budget, quote(usdc('10000')), 5);
    expect(outcome.accepted).toBe(3);
    expect(outcome.refusal).toMatchObject({ limit: 'hourly', allowed: '0.03 USD' });
  });

  it('a count and an amount over the same day do not share a counter', async () => {
    const { budget, quote } = setUp({ budget: { daily: '1.00', maxPayments: { perDay: 3 } } });
    const outcome = await reserveUntilRefused(budget, quote(usdc('10000')), 5);
    expect(outcome.accepted).toBe(3);
    expect(outcome.refusal).toMatchObject({ limit: 'maxPayments.perDay', allowed: '3 payments' });
  });

  it('utc-day windows: the total and the day are separate too', async () => {
    const { budget, quote } = setUp({ budget: { window: 'utc-day', daily: '1.00', total: '0.02' } });
    const outcome = await reserveUntilRefused(budget, quote(usdc('10000')), 5);
    expect(outcome.accepted).toBe(2);
    expect(outcome.refusal).toMatchObject({ limit: 'total' });
  });
});

describe('remaining()', () => {
  it('never below zero, when a lower limit meets what was spent under a higher one', async () => {
    const store = memoryStore({ clock: () => 1_000_000 });
    const generous = setUp({ budget: { daily: '1.00' } }, store);
    for (let i = 0; i < 3; i++) await generous.budget.reserve(generous.quote(usdc('10000')));
    const strict = setUp({ budget: { daily: '0.02' } }, store);
    expect((await strict.budget.remaining()).find((l) => l.limit === 'daily')).toMatchObject({ max: '0.02', used: '0.03', remaining: '0' });
    const exact = setUp({ budget: { daily: '0.03' } }, store);
    expect((await exact.budget.remaining()).find((l) => l.limit === 'daily')).toMatchObject({ used: '0.03', remaining: '0' });
  });
});

describe('approval below approveAbove', () => {
  it('asks nobody at or below it, and asks above it', async () => {
    let asked = 0;
    const { budget, quote } = setUp({ budget: { approveAbove: '0.01', approve: () => (asked++, true) } });
    expect(budget.approvalMs(quote(usdc('10000')))).toBe(0);
    await budget.approve(quote(usdc('10000')));
    expect(asked).toBe(0);
    expect(budget.approvalMs(quote(usdc('10001')))).toBeGreaterThan(0);
    await budget.approve(quote(usdc('10001')));
    expect(asked).toBe(1);
  });
});

describe('a store that fails', () => {
  it('reserve: BudgetUnavailableError saying what failed, with the cause; nothing paid', async () => {
    const cause = new Error('disk on fire');
    const failing: SpendStore = { ...memoryStore(), reserve: () => Promise.reject(cause) };
    const { budget, quote } = setUp({}, failing);
    const error = await budget.reserve(quote(usdc('1000'))).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(BudgetUnavailableError);
    expect((error as BudgetUnavailableError).message).toMatch(/^The spend ledger could not reserve the payment for https:\/\/api\.example\.com\/premium-data, so nothing was paid\./);
    expect((error as BudgetUnavailableError).cause).toBe(cause);
  });
});
