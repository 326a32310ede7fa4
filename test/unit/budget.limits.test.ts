import { describe, expect, it } from 'vitest';
import { BudgetExceededError, type WrapFetchOptions } from '../../src/index.js';
import { useMswServer } from '../support/msw.js';
import { requirementV2, testAccount } from '../support/challenges.js';
import { failure, line, outcome, payer, serve, T0, usdc } from '../support/paying.js';

const server = useMswServer();
const API = 'https://api.example.com/data';
const OTHER = 'https://other.example.net/data';
const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** A payer over a controllable clock, with both endpoints serving `price` micro-USD. */
function setup(options: WrapFetchOptions, price = 10_000, start = T0) {
  serve(server, API, [usdc(price)]);
  serve(server, OTHER, [usdc(price)]);
  return payer(options, { now: start });
}

/** Calls `url` `n` times in sequence and returns the outcomes. */
async function times(paidFetch: Parameters<typeof outcome>[0], url: string, n: number) {
  const out = [];
  for (let i = 0; i < n; i++) out.push(await outcome(paidFetch, url));
  return out;
}

const PAID = 'HTTP 200';
const OVER = 'budget_exceeded';

describe('global windows, rolling (default)', () => {
  it('hourly: the cap holds for a rolling hour, then frees what is older than an hour (+ one minute bucket)', async () => {
    const { paidFetch, clock } = setup({ budget: { hourly: '0.02' } });
    expect(await outcome(paidFetch, API)).toBe(PAID);
    clock.now = T0 + 10 * MINUTE;
    expect(await outcome(paidFetch, API)).toBe(PAID);
    clock.now = T0 + 20 * MINUTE;
    const error = await failure(paidFetch, API);
    expect(error).toBeInstanceOf(BudgetExceededError);
    expect(error).toMatchObject({ limit: 'hourly', allowed: '0.02 USD', requested: '0.01 USD more (0.02 USD already used)' });
    clock.now = T0 + HOUR - 1;
    expect(await outcome(paidFetch, API)).toBe(OVER);
    clock.now = T0 + HOUR + MINUTE;
    expect(await outcome(paidFetch, API)).toBe(PAID);
    expect(await outcome(paidFetch, API)).toBe(OVER);
    clock.now = T0 + 10 * MINUTE + HOUR + MINUTE;
    expect(await outcome(paidFetch, API)).toBe(PAID);
  });

  it('daily: the cap holds for a rolling 24 h, across midnight UTC', async () => {
    const start = Date.UTC(2025, 2, 10, 23, 59, 0);
    const { paidFetch, clock } = setup({ budget: { daily: '0.02' } }, 10_000, start);
    expect(await times(paidFetch, API, 2)).toEqual([PAID, PAID]);
    clock.now = Date.UTC(2025, 2, 11, 0, 0, 1);
    expect(await failure(paidFetch, API)).toMatchObject({ code: OVER, limit: 'daily', allowed: '0.02 USD' });
    clock.now = start + DAY - 1;
    expect(await outcome(paidFetch, API)).toBe(OVER);
    clock.now = start + DAY + 5 * MINUTE;
    expect(await times(paidFetch, API, 3)).toEqual([PAID, PAID, OVER]);
  });

  it('total: never resets', async () => {
    const { paidFetch, clock } = setup({ budget: { total: '0.03', daily: 'unlimited' } });
    for (const at of [0, DAY, 30 * DAY]) {
      clock.now = T0 + at;
      expect(await outcome(paidFetch, API)).toBe(PAID);
    }
    clock.now = T0 + 400 * DAY;
    expect(await failure(paidFetch, API)).toMatchObject({ code: OVER, limit: 'total', allowed: '0.03 USD', requested: '0.01 USD more (0.03 USD already used)' });
  });

  it('the default daily cap of 1.00 USD applies when nothing is set, and "unlimited" lifts it', async () => {
    const capped = setup({}, 100_000);
    expect(await times(capped.paidFetch, API, 11)).toEqual([...Array(10).fill(PAID), OVER]);
    const lifted = payer({ budget: { daily: 'unlimited' } });
    expect(await times(lifted.paidFetch, API, 11)).toEqual(Array(11).fill(PAID));
  });

  it('a USD amount finer than a micro-dollar is rounded up, never down', async () => {
    const TOKEN = '0x1c7D4B196Cb0C7B01d743Fbc6116a902379C7238';
    serve(server, API, [requirementV2({ asset: TOKEN, amount: String(10n ** 12n + 1n), extra: { name: 'Peg', version: '1' } })]);
    const { paidFetch } = payer({ assets: [{ network: 'eip155:84532', address: TOKEN, decimals: 18, name: 'Peg', version: '1', usdPegged: true }], budget: { daily: '0.000003' } });
    expect(await outcome(paidFetch, API)).toBe(PAID);
    expect(await line(paidFetch, 'global', 'daily')).toMatchObject({ used: '0.000002', remaining: '0.000001' });
    expect(await outcome(paidFetch, API)).toBe(OVER);
  });
});

describe("global windows, budget.window: 'utc-day'", () => {
  it('daily resets at 00:00 UTC: the cap may be spent at 23:59 and again at 00:00 (documented)', async () => {
    const { paidFetch, clock } = setup({ budget: { window: 'utc-day', daily: '0.02' } }, 10_000, Date.UTC(2025, 2, 10, 23, 59, 59));
    expect(await times(paidFetch, API, 3)).toEqual([PAID, PAID, OVER]);
    clock.now = Date.UTC(2025, 2, 11, 0, 0, 0);
    expect(await times(paidFetch, API, 3)).toEqual([PAID, PAID, OVER]);
    clock.now = Date.UTC(2025, 2, 11, 23, 59, 59, 999);
    expect(await outcome(paidFetch, API)).toBe(OVER);
  });

  it('hourly resets on the UTC hour', async () => {
    const { paidFetch, clock } = setup({ budget: { window: 'utc-day', hourly: '0.01' } }, 10_000, Date.UTC(2025, 2, 10, 10, 59, 59));
    expect(await times(paidFetch, API, 2)).toEqual([PAID, OVER]);
    clock.now = Date.UTC(2025, 2, 10, 11, 0, 0);
    expect(await times(paidFetch, API, 2)).toEqual([PAID, OVER]);
    clock.now = Date.UTC(2025, 2, 10, 11, 59, 59, 999);
    expect(await failure(paidFetch, API)).toMatchObject({ limit: 'hourly' });
  });

  it('maxPayments.perMinute counts the UTC minute', async () => {
    const { paidFetch, clock } = setup({ budget: { window: 'utc-day', maxPayments: { perMinute: 2 } } }, 10_000, Date.UTC(2025, 2, 10, 10, 20, 59));
    expect(await times(paidFetch, API, 3)).toEqual([PAID, PAID, OVER]);
    clock.now = Date.UTC(2025, 2, 10, 10, 21, 0);
    expect(await times(paidFetch, API, 3)).toEqual([PAID, PAID, OVER]);
  });

  it('a clock moved back keeps what was spent "in the future" counted', async () => {
    const { paidFetch, clock } = setup({ budget: { window: 'utc-day', daily: '0.02' } }, 10_000, Date.UTC(2025, 2, 11, 0, 30));
    expect(await times(paidFetch, API, 2)).toEqual([PAID, PAID]);
    clock.now = Date.UTC(2025, 2, 10, 23, 0);
    expect(await outcome(paidFetch, API)).toBe(OVER);
  });
});

describe('budget.maxPayments', () => {
  it('perMinute: payments counted whatever their amount; a rolling minute', async () => {
    const { paidFetch, clock } = setup({ budget: { maxPayments: { perMinute: 2 } } }, 1);
    expect(await times(paidFetch, API, 2)).toEqual([PAID, PAID]);
    expect(await failure(paidFetch, API)).toMatchObject({ limit: 'maxPayments.perMinute', allowed: '2 payments', requested: '1 payments more (2 payments already used)' });
    clock.now = T0 + MINUTE + 5 * SECOND;
    expect(await times(paidFetch, API, 3)).toEqual([PAID, PAID, OVER]);
  });

  it('perDay', async () => {
    const { paidFetch, clock } = setup({ budget: { maxPayments: { perDay: 3 } } }, 1);
    for (const at of [0, 2 * HOUR, 20 * HOUR]) {
      clock.now = T0 + at;
      expect(await outcome(paidFetch, API)).toBe(PAID);
    }
    clock.now = T0 + 23 * HOUR;
    expect(await failure(paidFetch, API)).toMatchObject({ limit: 'maxPayments.perDay' });
    clock.now = T0 + DAY + 5 * MINUTE;
    expect(await times(paidFetch, API, 2)).toEqual([PAID, OVER]);
  });

  it('perMinute: 0 pays nothing', async () => {
    const { paidFetch, signer } = setup({ budget: { maxPayments: { perMinute: 0 } } });
    expect(await outcome(paidFetch, API)).toBe(OVER);
    expect(signer.calls).toBe(0);
  });

  it('the default of 120 a minute holds even for tiny amounts', async () => {
    const { paidFetch } = setup({}, 1);
    const results = await Promise.all(Array.from({ length: 130 }, () => outcome(paidFetch, API)));
    expect(results.filter((r) => r === PAID)).toHaveLength(120);
    expect(results.filter((r) => r === OVER)).toHaveLength(10);
  });
});

describe('budget.perHost', () => {
  it('perRequest replaces the global one for that host, higher or lower', async () => {
    const budget = { perRequest: '0.10', daily: '5', perHost: { 'api.example.com': { perRequest: '0.50' }, 'other.example.net': { perRequest: '0.01' } } };
    const { paidFetch } = setup({ budget }, 300_000);
    expect(await outcome(paidFetch, API)).toBe(PAID);
    const error = await failure(paidFetch, OTHER);
    expect(error).toMatchObject({ code: OVER, limit: 'perHost["other.example.net"].perRequest', allowed: '0.01 USD', requested: '0.3 USD' });
    server.resetHandlers();
    serve(server, 'https://third.example.org/x', [usdc(300_000)]);
    expect(await failure(paidFetch, 'https://third.example.org/x')).toMatchObject({ limit: 'perRequest', allowed: '0.1 USD' });
  });

  it('a lower per-host perRequest refuses what the global one would pay', async () => {
    const { paidFetch } = setup({ budget: { perHost: { 'api.example.com': { perRequest: '0.005' } } } });
    expect(await failure(paidFetch, API)).toMatchObject({ limit: 'perHost["api.example.com"].perRequest' });
    expect(await outcome(paidFetch, OTHER)).toBe(PAID);
  });

  it('globs apply to sub-hosts; an exact entry wins over a glob', async () => {
    serve(server, 'https://a.example.com/x', [usdc(300_000)]);
    serve(server, 'https://b.example.com/x', [usdc(300_000)]);
    const budget = { daily: '5', perHost: { '*.example.com': { perRequest: '0.50' }, 'b.example.com': { perRequest: '0.20' } } };
    const { paidFetch } = payer({ budget });
    expect(await outcome(paidFetch, 'https://a.example.com/x')).toBe(PAID);
    expect(await failure(paidFetch, 'https://b.example.com/x')).toMatchObject({ limit: 'perHost["b.example.com"].perRequest' });
  });

  it('of two matching globs the more specific one applies, whatever the key order', async () => {
    serve(server, 'https://x.api.example.com/x', [usdc(20_000)]);
    serve(server, 'https://www.example.com/x', [usdc(20_000)]);
    for (const perHost of [
      { '*.example.com': { perRequest: '1' }, '*.api.example.com': { perRequest: '0.01' } },
      { '*.api.example.com': { perRequest: '0.01' }, '*.example.com': { perRequest: '1' } },
    ]) {
      const { paidFetch } = payer({ budget: { perHost } });
      expect(await failure(paidFetch, 'https://x.api.example.com/x')).toMatchObject({ limit: 'perHost["*.api.example.com"].perRequest' });
      expect(await outcome(paidFetch, 'https://www.example.com/x')).toBe(PAID);
    }
  });

  it('host windows add to the global ones', async () => {
    const { paidFetch } = setup({ budget: { daily: '0.03', perHost: { 'api.example.com': { daily: '0.02' } } } });
    expect(await times(paidFetch, API, 2)).toEqual([PAID, PAID]);
    expect(await failure(paidFetch, API)).toMatchObject({ limit: 'host:api.example.com daily', allowed: '0.02 USD', requested: '0.01 USD more (0.02 USD already used)' });
    expect(await outcome(paidFetch, OTHER)).toBe(PAID);
    // Both hosts filled the global daily cap.
    expect(await failure(paidFetch, OTHER)).toMatchObject({ limit: 'daily', requested: '0.01 USD more (0.03 USD already used)' });
    expect(await line(paidFetch, 'host:api.example.com', 'daily')).toMatchObject({ used: '0.02', remaining: '0' });
    expect(await line(paidFetch, 'global', 'daily')).toMatchObject({ used: '0.03', remaining: '0' });
  });

  it('a glob scope is shared by every host it matches', async () => {
    serve(server, 'https://a.example.com/x');
    serve(server, 'https://b.example.com/x');
    const { paidFetch } = payer({ budget: { perHost: { '*.example.com': { hourly: '0.02' } } } });
    expect(await outcome(paidFetch, 'https://a.example.com/x')).toBe(PAID);
    expect(await outcome(paidFetch, 'https://b.example.com/x')).toBe(PAID);
    expect(await failure(paidFetch, 'https://a.example.com/x')).toMatchObject({ limit: 'host:*.example.com hourly' });
  });

  it('per-host payment counts and totals', async () => {
    const { paidFetch, clock } = setup({ budget: { perHost: { 'api.example.com': { maxPayments: { perMinute: 1 }, total: '0.02' } } } });
    expect(await outcome(paidFetch, API)).toBe(PAID);
    expect(await failure(paidFetch, API)).toMatchObject({ limit: 'host:api.example.com maxPayments.perMinute' });
    expect(await outcome(paidFetch, OTHER)).toBe(PAID);
    clock.now += 2 * MINUTE;
    expect(await outcome(paidFetch, API)).toBe(PAID);
    clock.now += 2 * MINUTE;
    expect(await failure(paidFetch, API)).toMatchObject({ limit: 'host:api.example.com total' });
  });
});

describe('declared non-USD tokens: limits in their own units', () => {
  const TOKEN = '0x1c7D4B196Cb0C7B01d743Fbc6116a902379C7238';
  const scope = `asset:eip155:84532/${TOKEN.toLowerCase()}`;
  const declared = { network: 'eip155:84532', address: TOKEN, decimals: 18, name: 'Test Token', version: '1', symbol: 'TT', perRequest: '2.5', hourly: '4', daily: '5', total: '6' };
  const tt = (whole: string) => requirementV2({ asset: TOKEN, amount: (BigInt(Math.round(Number(whole) * 10)) * 10n ** 17n).toString(), extra: { name: 'Test Token', version: '1' } });

  it('perRequest, hourly, daily and total count tokens, not dollars; payment counts stay global', async () => {
    serve(server, API, [tt('2.5')]);
    const { paidFetch, clock } = payer({ assets: [declared], budget: { daily: '0.01' } });
    expect(await outcome(paidFetch, API)).toBe(PAID);
    const hourly = await failure(paidFetch, API);
    expect(hourly).toMatchObject({ code: OVER, limit: `${scope} hourly`, allowed: '4 TT', requested: '2.5 TT more (2.5 TT already used)' });
    // The USD budget is untouched; the payment counted against the global payment count.
    expect(await line(paidFetch, 'global', 'daily')).toMatchObject({ used: '0', remaining: '0.01' });
    expect(await line(paidFetch, 'global', 'maxPayments.perMinute')).toMatchObject({ used: '1', remaining: '119' });
    clock.now += HOUR + MINUTE;
    expect(await outcome(paidFetch, API)).toBe(PAID);
    clock.now += HOUR + MINUTE;
    expect(await failure(paidFetch, API)).toMatchObject({ limit: `${scope} daily`, allowed: '5 TT' });
    clock.now += DAY + 5 * MINUTE;
    expect(await failure(paidFetch, API)).toMatchObject({ limit: `${scope} total`, allowed: '6 TT', requested: '2.5 TT more (5 TT already used)' });
    expect(await line(paidFetch, scope, 'total')).toEqual({ scope, limit: 'total', unit: 'TT', max: '6', used: '5', remaining: '1' });
  });

  it('the per-request cap in tokens', async () => {
    serve(server, API, [tt('2.6')]);
    const { paidFetch, signer } = payer({ assets: [declared] });
    expect(await failure(paidFetch, API)).toMatchObject({ code: OVER, limit: 'perRequest', allowed: '2.5 TT', requested: '2.6 TT' });
    expect(signer.calls).toBe(0);
  });

  it('a USD payment does not use the token limits', async () => {
    serve(server, API, [usdc(10_000)]);
    const { paidFetch } = payer({ assets: [declared] });
    expect(await outcome(paidFetch, API)).toBe(PAID);
    expect(await line(paidFetch, scope, 'daily')).toMatchObject({ used: '0', remaining: '5' });
  });
});

describe('remaining()', () => {
  it('defaults: the daily cap and the payment count, before and after a payment', async () => {
    const { paidFetch } = setup({});
    expect(await paidFetch.budget.remaining()).toEqual([
      { scope: 'global', limit: 'daily', unit: 'USD', max: '1', used: '0', remaining: '1' },
      { scope: 'global', limit: 'maxPayments.perMinute', unit: 'payments', max: '120', used: '0', remaining: '120' },
    ]);
    expect(await outcome(paidFetch, API)).toBe(PAID);
    expect(await paidFetch.budget.remaining()).toEqual([
      { scope: 'global', limit: 'daily', unit: 'USD', max: '1', used: '0.01', remaining: '0.99' },
      { scope: 'global', limit: 'maxPayments.perMinute', unit: 'payments', max: '120', used: '1', remaining: '119' },
    ]);
  });

  it('every configured limit, in order: global, per host, per token', async () => {
    const TOKEN = '0x1c7D4B196Cb0C7B01d743Fbc6116a902379C7238';
    const { paidFetch, clock } = setup({
      budget: { hourly: '0.5', daily: '2', total: '10', maxPayments: { perMinute: 10, perDay: 100 }, perHost: { 'api.example.com': { daily: '0.05', maxPayments: { perDay: 3 } } } },
      assets: [{ network: 'eip155:84532', address: TOKEN, decimals: 6, name: 'T', version: '1', symbol: 'T', perRequest: '1', daily: '3' }],
    }, 20_000);
    expect(await times(paidFetch, API, 2)).toEqual([PAID, PAID]);
    expect(await outcome(paidFetch, OTHER)).toBe(PAID);
    expect(await paidFetch.budget.remaining()).toEqual([
      { scope: 'global', limit: 'hourly', unit: 'USD', max: '0.5', used: '0.06', remaining: '0.44' },
      { scope: 'global', limit: 'daily', unit: 'USD', max: '2', used: '0.06', remaining: '1.94' },
      { scope: 'global', limit: 'total', unit: 'USD', max: '10', used: '0.06', remaining: '9.94' },
      { scope: 'global', limit: 'maxPayments.perMinute', unit: 'payments', max: '10', used: '3', remaining: '7' },
      { scope: 'global', limit: 'maxPayments.perDay', unit: 'payments', max: '100', used: '3', remaining: '97' },
      { scope: 'host:api.example.com', limit: 'daily', unit: 'USD', max: '0.05', used: '0.04', remaining: '0.01' },
      { scope: 'host:api.example.com', limit: 'maxPayments.perDay', unit: 'payments', max: '3', used: '2', remaining: '1' },
      { scope: `asset:eip155:84532/${TOKEN.toLowerCase()}`, limit: 'daily', unit: 'T', max: '3', used: '0', remaining: '3' },
    ]);
    // An hour and a minute later the hourly room is back; the rest stays.
    clock.now += HOUR + MINUTE;
    expect(await line(paidFetch, 'global', 'hourly')).toMatchObject({ used: '0', remaining: '0.5' });
    expect(await line(paidFetch, 'global', 'maxPayments.perMinute')).toMatchObject({ used: '0', remaining: '10' });
    expect(await line(paidFetch, 'global', 'daily')).toMatchObject({ used: '0.06' });
  });

  it('a refused payment changes nothing; a released one gives its room back', async () => {
    const { paidFetch } = setup({ budget: { daily: '0.015' } });
    expect(await outcome(paidFetch, API)).toBe(PAID);
    const before = await paidFetch.budget.remaining();
    expect(await outcome(paidFetch, API)).toBe(OVER);
    expect(await paidFetch.budget.remaining()).toEqual(before);
    const broken = payer({ budget: { daily: '0.015' } }, { now: T0 }, { address: testAccount.address, signTypedData: () => Promise.reject(new Error('no')) });
    expect(await outcome(broken.paidFetch, API)).toBe('wallet_error');
    expect(await line(broken.paidFetch, 'global', 'daily')).toMatchObject({ used: '0' });
  });
});
