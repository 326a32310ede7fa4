/**
 * `selectQuote` on its own (no HTTP): the order candidates are tried in, the order refusals are
 * reported in when policy and shape refusals mix, which error wins, each refusal's message, and
 * what a quote shows when printed. The paid path through wrapFetch is in select.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { BudgetExceededError, NoAcceptableOptionError } from '../../src/index.js';
import { selectQuote, type PolicyRefusal, type Quote, type SelectContext } from '../../src/select.js';
import { interpretChallenge } from '../../src/protocol/read.js';
import type { Challenge } from '../../src/protocol/challenge.js';
import { encodeBase64Json } from '../../src/protocol/codec.js';
import { assetKey, KNOWN_ASSETS, type AssetInfo } from '../../src/protocol/assets.js';
import { BASE_SEPOLIA_USDC, BASE_USDC, DECLARED_TOKEN, paymentRequiredV1, paymentRequiredV2, requirementV1, requirementV2, testAccount } from '../support/challenges.js';

const URL_ = 'https://api.example.com/premium-data';
const TOKEN = DECLARED_TOKEN.address;
const TOKEN_INFO: AssetInfo = Object.freeze({ ...DECLARED_TOKEN, usdPegged: false, transfer: 'eip3009', builtIn: false });
const ASSETS: ReadonlyMap<string, AssetInfo> = new Map([...KNOWN_ASSETS, [assetKey(TOKEN_INFO.network, TOKEN), TOKEN_INFO]]);

const usdc = (amount: string, o: Record<string, unknown> = {}) => requirementV2({ amount, ...o });
const baseUsdc = (amount: string, o: Record<string, unknown> = {}) =>
  requirementV2({ network: 'eip155:8453', asset: BASE_USDC, amount, extra: { name: 'USD Coin', version: '2' }, ...o });
const token = (amount: string) => requirementV2({ asset: TOKEN, amount, extra: { name: 'Test Token', version: '1' } });

function challenge(accepts: unknown[]) {
  return interpretChallenge(encodeBase64Json(paymentRequiredV2(accepts)), { ok: true, bytes: new Uint8Array() }, URL_, {
    maxBodyBytes: 65536,
    maxHeaderBytes: 65536,
    versions: [1, 2],
  });
}

function ctx(check: (quote: Quote) => PolicyRefusal | undefined = () => undefined, payer?: string): SelectContext {
  return { url: URL_, assets: ASSETS, check, ...(payer ? { payer } : {}) };
}

function refusals(accepts: unknown[] | Challenge, c: SelectContext = ctx()) {
  try {
    selectQuote(Array.isArray(accepts) ? challenge(accepts) : accepts, c);
  } catch (error) {
    expect(error).toBeInstanceOf(NoAcceptableOptionError);
    return (error as NoAcceptableOptionError).refusals;
  }
  throw new Error('expected no acceptable option');
}

describe('the order candidates are tried in', () => {
  it('the cheapest in USD first, then dearer ones; a non-USD token last, whatever its raw amount', () => {
    const tried: number[] = [];
    const c = ctx((q) => {
      tried.push(q.option.index);
      return { code: 'host_not_allowed', message: 'no' };
    });
    refusals([token('1'), usdc('30000'), baseUsdc('10000'), usdc('20000'), token('2')], c);
    expect(tried).toEqual([2, 3, 1, 0, 4]);
  });

  it('a non-USD token first in the list and cheaper in raw units still comes after USD', () => {
    expect(selectQuote(challenge([token('1'), usdc('90000')]), ctx()).option.index).toBe(1);
  });

  it('among equal prices, the server order', () => {
    const tried: number[] = [];
    const c = ctx((q) => {
      tried.push(q.option.index);
      return { code: 'host_not_allowed', message: 'no' };
    });
    refusals([usdc('5000'), baseUsdc('5000'), usdc('5000', { payTo: '0x1111111111111111111111111111111111111111' }), baseUsdc('4000')], c);
    expect(tried).toEqual([3, 0, 1, 2]);
  });
});

describe('refusals and errors', () => {
  it('shape and policy refusals together are reported in the server order', () => {
    // Option 0 is refused by the policy (tried after the shape refusal of option 1 was noted).
    const c = ctx((q) => (q.option.index === 0 ? { code: 'payee_not_allowed', message: 'payee refused' } : undefined));
    const r = refusals([usdc('1000'), requirementV2({ scheme: 'upto' })], c);
    expect(r.map((x) => [x.index, x.code, x.message])).toEqual([
      [0, 'payee_not_allowed', 'payee refused'],
      [1, 'unsupported_scheme', 'scheme "upto" is not supported (only "exact")'],
    ]);
  });

  it("the policy's own error wins over the list (the first one met), and a later plain refusal does not replace it", () => {
    const first = new BudgetExceededError({ url: URL_, limit: 'perRequest', allowed: '0.01 USD', requested: '0.02 USD' });
    const second = new BudgetExceededError({ url: URL_, limit: 'perRequest', allowed: '0.01 USD', requested: '0.03 USD' });
    const errors = new Map<number, Error>([[1, first], [2, second]]);
    const c = ctx((q) => ({ code: 'budget_exceeded', message: 'over', ...(errors.has(q.option.index) ? { error: errors.get(q.option.index)! } : {}) }));
    expect(() => selectQuote(challenge([usdc('1000'), usdc('2000'), usdc('3000')]), c)).toThrow(first);
  });

  it('each shape refusal says what is wrong', () => {
    const v1 = interpretChallenge(null, { ok: true, bytes: new TextEncoder().encode(JSON.stringify(paymentRequiredV1([requirementV1({ network: 'nowhere' })]))) as Uint8Array<ArrayBuffer> }, URL_, {
      maxBodyBytes: 65536,
      maxHeaderBytes: 65536,
      versions: [1, 2],
    });
    expect(refusals(v1)[0]!.message).toBe('v1 network "nowhere" is not known');
    const lower = BASE_SEPOLIA_USDC.toLowerCase();
    const r = refusals(
      [
        usdc('1000', { asset: `0x${'A'.repeat(40)}` }),
        usdc('1000', { extra: { name: 'USDC' } }),
        usdc('1000', { payTo: 'bob' }),
        usdc('1000', { payTo: lower }),
        usdc('1000', { payTo: testAccount.address }),
        usdc('1000', { payTo: BASE_USDC }),
        usdc('1000', { payTo: TOKEN.toLowerCase() }),
        usdc('1000', { extra: { name: 'USDC', version: '2', assetTransferMethod: 'permit2' } }),
      ],
      ctx(() => undefined, testAccount.address.toLowerCase()),
    );
    expect(r.map((x) => x.message)).toEqual([
      'asset is not an address (or has a wrong EIP-55 checksum)',
      'extra.name and extra.version (the EIP-712 domain) are missing',
      'payTo is not an address (or has a wrong EIP-55 checksum)',
      'payTo is the zero address or the token contract',
      'payTo is the paying wallet itself',
      'payTo is the USDC token contract on eip155:8453',
      'payTo is the TT token contract on eip155:84532',
      'transfer method permit2 is not supported (only EIP-3009)',
    ]);
  });
});

describe('a quote printed', () => {
  it('shows the terms and nothing else; toJSON is not an own enumerable field', () => {
    const quote = selectQuote(challenge([usdc('1234')]), ctx());
    expect(Object.keys(quote)).not.toContain('toJSON');
    expect(Object.isFrozen(quote)).toBe(true);
    expect(JSON.parse(JSON.stringify(quote))).toEqual({
      url: URL_,
      host: 'api.example.com',
      version: 2,
      network: 'eip155:84532',
      chainId: 84532,
      asset: BASE_SEPOLIA_USDC,
      symbol: 'USDC',
      amount: '1234',
      payTo: quote.payTo,
      index: 0,
    });
  });
});
