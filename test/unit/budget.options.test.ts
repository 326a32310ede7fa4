import { describe, expect, it } from 'vitest';
import { wrapFetch, type WrapFetchOptions } from '../../src/index.js';
import { resolveBudget } from '../../src/budget/budgetOptions.js';
import { countingSigner } from '../support/signers.js';

const TOKEN = '0x1c7D4B196Cb0C7B01d743Fbc6116a902379C7238';
const PAYEE = '0x209693Bc6afc0C5328bA36FaF03C514EF312287C';

/** wrapFetch throws a TypeError at once whose message names `field` and says `problem`. */
function rejects(budget: unknown, field: string, problem: RegExp, extra: Record<string, unknown> = {}) {
  const signer = countingSigner();
  let thrown: unknown;
  try {
    wrapFetch(fetch, signer, { budget, ...extra } as WrapFetchOptions);
  } catch (error) {
    thrown = error;
  }
  expect(thrown, `budget ${JSON.stringify(budget)}`).toBeInstanceOf(TypeError);
  const message = (thrown as Error).message;
  expect(message.startsWith(`wrapFetch: options.${field} `), message).toBe(true);
  expect(message).toMatch(problem);
  expect(signer.calls).toBe(0);
}

const accepts = (budget: unknown) => expect(() => wrapFetch(fetch, countingSigner(), { budget } as WrapFetchOptions)).not.toThrow();

const USD_PROBLEM = /must be a USD decimal string with at most 6 decimals, such as '0\.05'/;
const BAD_USD = [0.05, 5, '-1', '1e3', 'abc', '', ' 0.05', '0.05 ', '0.05 USD', '$0.05', '0,05', '0.0000001', '01', '1.', '.5', '+1', '0x10', '10000000000000', null, true];

describe('the budget itself', () => {
  it('must be an object', () => {
    for (const budget of ['0.05', 0.05, null, [], true]) rejects(budget, 'budget', /must be an object/);
  });

  it('unknown fields are refused, not ignored', () => {
    rejects({ perrequest: '0.05' }, 'budget.perrequest', /is not a budget option/);
    rejects({ dailyLimit: '1' }, 'budget.dailyLimit', /is not a budget option/);
    rejects({ weekly: '1' }, 'budget.weekly', /is not a budget option/);
  });
});

describe('amounts', () => {
  for (const field of ['perRequest', 'hourly', 'daily', 'total'] as const) {
    it(`budget.${field}`, () => {
      for (const value of BAD_USD) rejects({ [field]: value }, `budget.${field}`, USD_PROBLEM);
      for (const value of ['0', '0.000001', '1', '2.5', '9999999999999.999999']) accepts({ [field]: value });
    });
  }

  it("only daily takes 'unlimited' (it lifts the default daily cap)", () => {
    expect(resolveBudget({ daily: 'unlimited' }).global.daily).toBeUndefined();
    rejects({ perRequest: 'unlimited' }, 'budget.perRequest', USD_PROBLEM);
    rejects({ hourly: 'unlimited' }, 'budget.hourly', USD_PROBLEM);
    rejects({ total: 'unlimited' }, 'budget.total', USD_PROBLEM);
    rejects({ daily: 'Unlimited' }, 'budget.daily', USD_PROBLEM);
  });

  it('the value shown in the message is the bad one, cut short', () => {
    rejects({ daily: 'x'.repeat(500) }, 'budget.daily', new RegExp(`got "${'x'.repeat(60)}"\\.$`));
    rejects({ daily: 5 }, 'budget.daily', /got 5\.$/);
  });

  it('resolved in micro-USD', () => {
    expect(resolveBudget({ perRequest: '0.05', hourly: '0.5', daily: '2', total: '100.000001' }).global).toMatchObject({
      perRequest: 50_000n,
      hourly: 500_000n,
      daily: 2_000_000n,
      total: 100_000_001n,
    });
  });
});

describe('budget.window', () => {
  it("must be 'rolling' or 'utc-day'", () => {
    for (const window of ['calendar', 'utc', 'UTC-DAY', 'day', 1, null]) rejects({ window }, 'budget.window', /must be 'rolling' or 'utc-day'/);
    expect(resolveBudget({ window: 'utc-day' }).window).toBe('utc-day');
    expect(resolveBudget({}).window).toBe('rolling');
  });
});

describe('budget.maxPayments', () => {
  it('must be an object of perMinute and perDay', () => {
    for (const mp of ['5', 5, null, []]) rejects({ maxPayments: mp }, 'budget.maxPayments', /must be \{ perMinute\?, perDay\? \}/);
    rejects({ maxPayments: { perHour: 5 } }, 'budget.maxPayments.perHour', /is not a limit \(perMinute or perDay\)/);
  });

  for (const field of ['perMinute', 'perDay'] as const) {
    it(`budget.maxPayments.${field}`, () => {
      for (const value of [-1, 1.5, '5', Number.NaN, Number.POSITIVE_INFINITY, 1e9 + 1, null]) {
        rejects({ maxPayments: { [field]: value } }, `budget.maxPayments.${field}`, /must be a whole number from 0 to 1e9/);
      }
      for (const value of [0, 1, 1e9]) accepts({ maxPayments: { [field]: value } });
    });
  }

  it('perMinute defaults to 120 even when only perDay is given', () => {
    expect(resolveBudget({ maxPayments: { perDay: 10 } }).global).toMatchObject({ perMinute: 120, perDay: 10 });
    expect(resolveBudget({ maxPayments: { perMinute: 5 } }).global).toMatchObject({ perMinute: 5, perDay: undefined });
  });
});

describe('allow and deny lists', () => {
  for (const field of ['hosts', 'payees', 'assets', 'networks'] as const) {
    it(`budget.${field} shape`, () => {
      for (const value of ['x', ['x'], null, 5]) rejects({ [field]: value }, `budget.${field}`, /must be \{ allow\?: string\[\], deny\?: string\[\] \}/);
      rejects({ [field]: { allowed: [] } }, `budget.${field}.allowed`, /is not allow or deny/);
      rejects({ [field]: { block: [] } }, `budget.${field}.block`, /is not allow or deny/);
      for (const list of ['allow', 'deny']) {
        rejects({ [field]: { [list]: 'x' } }, `budget.${field}.${list}`, /must be an array of strings/);
        rejects({ [field]: { [list]: [5] } }, `budget.${field}.${list}[0]`, /must be a string/);
      }
      accepts({ [field]: {} });
      accepts({ [field]: { allow: [], deny: [] } });
    });
  }

  it('budget.hosts entries: bare host names or *.globs', () => {
    const bare = /must be a bare host name \(no scheme, port or path\)/;
    rejects({ hosts: { allow: ['api.example.com', 'https://api.example.com'] } }, 'budget.hosts.allow[1]', bare);
    rejects({ hosts: { allow: ['api.example.com:443'] } }, 'budget.hosts.allow[0]', bare);
    rejects({ hosts: { deny: ['api.example.com/path'] } }, 'budget.hosts.deny[0]', bare);
    rejects({ hosts: { deny: ['bücher.example/path'] } }, 'budget.hosts.deny[0]', bare);
    rejects({ hosts: { deny: ['bücher.example:80'] } }, 'budget.hosts.deny[0]', bare);
    rejects({ hosts: { deny: ['user@api.example.com'] } }, 'budget.hosts.deny[0]', bare);
    rejects({ hosts: { deny: ['ex%41mple.com'] } }, 'budget.hosts.deny[0]', bare);
    rejects({ hosts: { deny: ['0x7f.1'] } }, 'budget.hosts.deny[0]', bare);
    rejects({ hosts: { allow: [''] } }, 'budget.hosts.allow[0]', /host name/);
    rejects({ hosts: { allow: ['*.'] } }, 'budget.hosts.allow[0]', /host name/);
    rejects({ hosts: { allow: ['a b.example'] } }, 'budget.hosts.allow[0]', /host name/);
    for (const glob of ['*', '*.*.example.com', 'api.*.example.com', '*example.com', 'example.*']) {
      rejects({ hosts: { deny: [glob] } }, 'budget.hosts.deny[0]', /'\*' only as the whole first label/);
    }
  });

  it('budget.hosts entries are normalised: lower case, punycode, no trailing dot', () => {
    expect(resolveBudget({ hosts: { allow: ['API.Example.COM', '*.Data.Example', 'bücher.example', '*.bücher.example', 'example.org.', '127.0.0.1', '[::1]'] } }).hosts.allow).toEqual([
      'api.example.com',
      '*.data.example',
      'xn--bcher-kva.example',
      '*.xn--bcher-kva.example',
      'example.org',
      '127.0.0.1',
      '[::1]',
    ]);
  });

  it('budget.payees entries: addresses, compared in lower case', () => {
    rejects({ payees: { allow: ['0x1234'] } }, 'budget.payees.allow[0]', /must be an address/);
    rejects({ payees: { deny: ['alice.eth'] } }, 'budget.payees.deny[0]', /must be an address/);
    expect(resolveBudget({ payees: { allow: [PAYEE, PAYEE.toLowerCase()] } }).payees.allow).toEqual([PAYEE.toLowerCase(), PAYEE.toLowerCase()]);
  });

  it("budget.assets entries: an address, or '<caip2>/<address>'", () => {
    const problem = /must be a token address or '<caip2>\/<address>'/;
    rejects({ assets: { allow: ['USDC'] } }, 'budget.assets.allow[0]', problem);
    rejects({ assets: { allow: ['0x12'] } }, 'budget.assets.allow[0]', problem);
    rejects({ assets: { allow: [`base/${TOKEN}`] } }, 'budget.assets.allow[0]', problem);
    rejects({ assets: { deny: ['eip155:8453/0x12'] } }, 'budget.assets.deny[0]', problem);
    rejects({ assets: { deny: ['eip155:8453/'] } }, 'budget.assets.deny[0]', problem);
    expect(resolveBudget({ assets: { allow: [TOKEN, `eip155:8453/${TOKEN}`] } }).assets.allow).toEqual([TOKEN.toLowerCase(), `eip155:8453/${TOKEN.toLowerCase()}`]);
  });

  it('budget.networks entries: canonical CAIP-2 eip155 ids', () => {
    const problem = /must be a canonical CAIP-2 eip155 id such as 'eip155:8453'/;
    for (const network of ['base', 'EIP155:8453', 'eip155:08453', 'eip155:', 'solana:mainnet', ' eip155:8453']) {
      rejects({ networks: { allow: [network] } }, 'budget.networks.allow[0]', problem);
    }
  });
});

describe('budget.perHost', () => {
  it('must be an object keyed by host', () => {
    for (const value of ['x', null, [], 5]) rejects({ perHost: value }, 'budget.perHost', /must be an object keyed by host/);
  });

  it('keys are host names or globs', () => {
    rejects({ perHost: { 'https://api.example.com': {} } }, 'budget.perHost["https://api.example.com"]', /bare host name/);
    rejects({ perHost: { '*': {} } }, 'budget.perHost["*"]', /'\*' only as the whole first label/);
    expect(resolveBudget({ perHost: { 'API.example.com': {}, '*.bücher.example': {} } }).perHost.map((h) => h.pattern)).toEqual(['api.example.com', '*.xn--bcher-kva.example']);
  });

  it('values are limits: perRequest, hourly, daily, total, maxPayments only', () => {
    rejects({ perHost: { 'api.example.com': '0.05' } }, 'budget.perHost["api.example.com"]', /must be an object of limits/);
    rejects({ perHost: { 'api.example.com': null } }, 'budget.perHost["api.example.com"]', /must be an object of limits/);
    rejects({ perHost: { 'api.example.com': { daily: 'abc' } } }, 'budget.perHost["api.example.com"].daily', USD_PROBLEM);
    rejects({ perHost: { 'api.example.com': { perRequest: 0.1 } } }, 'budget.perHost["api.example.com"].perRequest', USD_PROBLEM);
    rejects({ perHost: { 'api.example.com': { maxPayments: { perMinute: -1 } } } }, 'budget.perHost["api.example.com"].maxPayments.perMinute', /whole number/);
    for (const key of ['window', 'hosts', 'approve', 'perHost']) {
      rejects({ perHost: { 'api.example.com': { [key]: 1 } } }, `budget.perHost["api.example.com"].${key}`, /is not a per-host limit/);
    }
  });

  it('per-host limits get no defaults', () => {
    expect(resolveBudget({ perHost: { 'api.example.com': { daily: '0.5' } } }).perHost[0]!.limits).toEqual({
      perRequest: undefined,
      hourly: undefined,
      daily: 500_000n,
      total: undefined,
      perMinute: undefined,
      perDay: undefined,
    });
  });
});

describe('approval', () => {
  it('budget.approve must be a function', () => {
    for (const value of [true, 'yes', {}, null]) rejects({ approve: value }, 'budget.approve', /must be a function \(quote\) => boolean \| Promise<boolean>/);
  });

  it('budget.approveAbove needs approve, and is a USD amount', () => {
    rejects({ approveAbove: '0.05' }, 'budget.approveAbove', /needs budget\.approve to ask/);
    for (const value of BAD_USD) rejects({ approveAbove: value, approve: () => true }, 'budget.approveAbove', USD_PROBLEM);
    expect(resolveBudget({ approveAbove: '0.05', approve: () => true }).approveAbove).toBe(50_000n);
    expect(resolveBudget({ approve: () => true }).approveAbove).toBe(0n);
  });

  it('budget.approveTimeoutMs is an integer from 1 to 3600000', () => {
    for (const value of [0, -1, 1.5, '100', 3_600_001, Number.NaN, null]) {
      rejects({ approveTimeoutMs: value, approve: () => true }, 'budget.approveTimeoutMs', /must be an integer from 1 to 3600000/);
    }
    expect(resolveBudget({ approveTimeoutMs: 1 }).approveTimeoutMs).toBe(1);
    expect(resolveBudget({ approveTimeoutMs: 3_600_000 }).approveTimeoutMs).toBe(3_600_000);
  });
});

describe('limits of declared non-USD tokens, in whole tokens', () => {
  const token = { network: 'eip155:84532', address: TOKEN, decimals: 18, name: 'Test Token', version: '1', perRequest: '1' };
  const rejectsAsset = (asset: Record<string, unknown>, field: string, problem: RegExp) => rejects(undefined, field, problem, { assets: [asset] });

  for (const field of ['hourly', 'daily', 'total'] as const) {
    it(`assets[i].${field}`, () => {
      for (const value of [5, '-1', '1e3', '', 'unlimited', '0.0000001']) {
        rejectsAsset({ ...token, [field]: value }, `assets[0].${field}`, /must be a decimal string of whole tokens with at most 6 decimals/);
      }
      rejectsAsset({ ...token, decimals: 2, [field]: '0.001' }, `assets[0].${field}`, /at most 2 decimals/);
      rejectsAsset({ ...token, usdPegged: true, perRequest: undefined, [field]: '1' }, `assets[0].${field}`, /is not for a usdPegged token/);
    });
  }

  it('assets[i].perRequest is required unless usdPegged, and not allowed then', () => {
    rejectsAsset({ ...token, perRequest: undefined }, 'assets[0].perRequest', /is required for a token that is not usdPegged/);
    rejectsAsset({ ...token, usdPegged: true }, 'assets[0].perRequest', /is not for a usdPegged token/);
  });
});

describe('forms that are accepted, and what a refusal shows', () => {
  const upper = (address: string) => `0x${address.slice(2).toUpperCase()}`;

  it('payee and asset addresses in upper case, or with a wrong checksum, name the same address (compared in lower case)', () => {
    const wrongChecksum = PAYEE.replace('a', 'A');
    expect(resolveBudget({ payees: { allow: [upper(PAYEE), wrongChecksum] } }).payees.allow).toEqual([PAYEE.toLowerCase(), PAYEE.toLowerCase()]);
    expect(resolveBudget({ assets: { deny: [upper(TOKEN), `eip155:84532/${upper(TOKEN)}`] } }).assets.deny).toEqual([TOKEN.toLowerCase(), `eip155:84532/${TOKEN.toLowerCase()}`]);
  });

  it('the value shown: a number as written, a function as "a function", a nested missing value as undefined', () => {
    rejects({ perHost: { 'api.example.com': { daily: 7 } } }, 'budget.perHost["api.example.com"].daily', /got 7\.$/);
    rejects({ approve: 'yes' }, 'budget.approve', /got "yes"\.$/);
    rejects({ hosts: { allow: [() => 'x'] } }, 'budget.hosts.allow[0]', /got a function\.$/);
    rejects({ maxPayments: { perMinute: undefined, perDay: -1 } }, 'budget.maxPayments.perDay', /got -1\.$/);
  });

  it('a host entry that is not a bare host name is refused with the name shown', () => {
    for (const value of ['', '*.', 'api.example.com:443', 'https://api.example.com', 'api.example.com/x', 'a b.com']) {
      rejects({ hosts: { allow: [value] } }, 'budget.hosts.allow[0]', new RegExp(`must be (a bare host name|a host name).*got ${JSON.stringify(value).replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}\\.$`));
    }
  });
});
