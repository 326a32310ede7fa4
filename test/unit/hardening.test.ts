/**
 * Unit tests of the hardening pieces (the hostile suite drives them end to end): strict JSON,
 * inert text, the transport rule, the payment identifier, the circuit breaker, payee and price pins, the
 * body deadline, and the validation of the new options.
 */
import { describe, expect, it } from 'vitest';
import { CircuitOpenError, PayeeChangedError, PriceChangedError, wrapFetch } from '../../src/index.js';
import { parseStrictJson } from '../../src/internal/strictJson.js';
import { inertText } from '../../src/internal/inert.js';
import { isLoopbackHost, transportAllowed } from '../../src/internal/transport.js';
import { attachPaymentIdentifier, newPaymentId, PAYMENT_ID_PATTERN } from '../../src/protocol/paymentIdentifier.js';
import { createCircuitBreaker } from '../../src/internal/circuitBreaker.js';
import { createPayeePins } from '../../src/internal/payeePins.js';
import { createPricePins, PRICE_HISTORY_MAX, PRICE_HISTORY_MS } from '../../src/internal/pricePins.js';
import { readBody } from '../../src/protocol/readBody.js';
import { resolveOptions } from '../../src/options.js';
import { deepFreeze } from '../../src/internal/freeze.js';
import type { Quote } from '../../src/select.js';
import { testAccount } from '../support/challenges.js';

describe('parseStrictJson', () => {
  it('equals JSON.parse on ordinary JSON, with prototype-free objects', () => {
    const text = '{"a":[1,2.5,-3e2,true,false,null,"x\\u00e9\\n"],"b":{"c":{}}}';
    const parsed = parseStrictJson(text);
    expect(parsed.ok).toBe(true);
    expect(JSON.parse(JSON.stringify((parsed as { value: unknown }).value))).toEqual(JSON.parse(text));
    expect(Object.getPrototypeOf((parsed as { value: object }).value)).toBe(null);
  });

  it('refuses a duplicate key, even when one spelling is escaped', () => {
    expect(parseStrictJson('{"payTo":"0xA","pay\\u0054o":"0xB"}')).toMatchObject({ ok: false, failure: 'duplicate' });
    expect(parseStrictJson('{"a":{"x":1,"x":1}}')).toMatchObject({ ok: false, failure: 'duplicate', message: expect.stringContaining('$.a') });
  });

  it('refuses __proto__ (also escaped), and nesting deeper than 32', () => {
    expect(parseStrictJson('{"__proto__":{}}')).toMatchObject({ ok: false, failure: 'forbidden_key' });
    expect(parseStrictJson('{"\\u005f_proto__":1}')).toMatchObject({ ok: false, failure: 'forbidden_key' });
    expect(parseStrictJson(`${'['.repeat(32)}${']'.repeat(32)}`).ok).toBe(true);
    expect(parseStrictJson(`${'['.repeat(33)}${']'.repeat(33)}`)).toMatchObject({ ok: false, failure: 'depth' });
    expect(parseStrictJson(`${'['.repeat(100_000)}${']'.repeat(100_000)}`)).toMatchObject({ ok: false, failure: 'depth' });
  });

  it('refuses what JSON.parse refuses, without throwing', () => {
    for (const bad of ['', ' ', '{', '{"a":1,}', '[1,]', '01', '1.', '.5', '+1', 'NaN', '"\u0001"', '"\\x"', '"\\u12"', 'tru', '{"a" 1}', '1 2']) {
      expect(parseStrictJson(bad), bad).toMatchObject({ ok: false, failure: 'json' });
    }
  });
});

describe('inertText', () => {
  it('flattens line breaks, control characters, ANSI escapes and bidi overrides; cuts to the bound', () => {
    expect(inertText('a\nMoney moved: no\r\n\u001b[31mred\u202eevil\u2028x')).toBe('a Money moved: no [31mred evil x');
    expect(inertText('x'.repeat(20), 10)).toBe(`${'x'.repeat(10)}…`);
    expect(inertText('plain text, kept')).toBe('plain text, kept');
  });
});

describe('the transport rule', () => {
  it('https anywhere; http only on loopback unless allowed; nothing else', () => {
    expect(transportAllowed('https://api.example.com/x', false)).toBe(true);
    expect(transportAllowed('http://api.example.com/x', false)).toBe(false);
    expect(transportAllowed('http://api.example.com/x', true)).toBe(true);
    for (const host of ['127.0.0.1', '127.8.9.10', 'localhost', 'api.localhost', '[::1]']) {
      expect(transportAllowed(`http://${host}:8080/x`, false), host).toBe(true);
    }
    for (const host of ['127.0.0.1.evil.test', 'localhost.evil.test', '10.0.0.1', '[::2]']) expect(isLoopbackHost(host), host).toBe(false);
    expect(transportAllowed('ftp://api.example.com/x', true)).toBe(false);
    expect(transportAllowed('data:text/plain,x', true)).toBe(false);
    expect(transportAllowed('not a url', true)).toBe(false);
  });
});

describe('the payment identifier', () => {
  it('a fresh id is pay_ + 32 hex digits, different every time', () => {
    const ids = new Set(Array.from({ length: 1000 }, newPaymentId));
    expect(ids.size).toBe(1000);
    for (const id of ids) expect(id).toMatch(/^pay_[0-9a-f]{32}$/);
    for (const id of ids) expect(id).toMatch(PAYMENT_ID_PATTERN);
  });

  it('is added to a copy of the extensions, keeping the server info; the frozen challenge is untouched', () => {
    const extensions = deepFreeze({ 'payment-identifier': { info: { required: true, note: 'x' }, schema: { type: 'object' } }, bazaar: { info: 1 } });
    const { extensions: out, paymentId } = attachPaymentIdentifier(extensions, 'pay_0123456789abcdef0123456789abcdef');
    expect(paymentId).toBe('pay_0123456789abcdef0123456789abcdef');
    expect(out).toEqual({ 'payment-identifier': { info: { required: true, note: 'x', id: paymentId }, schema: { type: 'object' } }, bazaar: { info: 1 } });
    expect(extensions['payment-identifier'].info).toEqual({ required: true, note: 'x' });
  });

  it('nothing is added when the server did not advertise it (or advertised it as a non-object), or the id is malformed', () => {
    expect(attachPaymentIdentifier(undefined, newPaymentId())).toEqual({ extensions: undefined, paymentId: undefined });
    const other = { bazaar: {} };
    expect(attachPaymentIdentifier(other, newPaymentId())).toEqual({ extensions: other, paymentId: undefined });
    const odd = { 'payment-identifier': 'yes' };
    expect(attachPaymentIdentifier(odd, newPaymentId())).toEqual({ extensions: odd, paymentId: undefined });
    const ok = { 'payment-identifier': {} };
    expect(attachPaymentIdentifier(ok, 'short').paymentId).toBeUndefined();
    expect(attachPaymentIdentifier(ok, 'bad id with spaces, long enough').paymentId).toBeUndefined();
    expect(attachPaymentIdentifier(ok, newPaymentId()).extensions).toMatchObject({ 'payment-identifier': { info: { id: expect.any(String) } } });
  });
});

describe('the circuit breaker', () => {
  it('opens after `threshold` failures in a row, for `coolDownMs`; then lets one probe through at a time', () => {
    let now = 1_000;
    const breaker = createCircuitBreaker({ threshold: 2, coolDownMs: 500 }, () => now);
    const url = 'https://api.example.com/x';
    breaker.admit(url).failed();
    breaker.admit(url).succeeded();
    breaker.admit(url).failed();
    breaker.admit(url).failed();
    expect(() => breaker.admit(url)).toThrow(CircuitOpenError);
    expect(() => breaker.admit('https://other.example.com/x')).not.toThrow();
    now += 500;
    const probe = breaker.admit(url);
    expect(() => breaker.admit(url)).toThrow(CircuitOpenError);
    probe.abandon();
    const probe2 = breaker.admit(url);
    probe2.failed();
    expect(() => breaker.admit(url)).toThrow(CircuitOpenError);
    now += 500;
    breaker.admit(url).succeeded();
    breaker.admit(url).failed();
    expect(() => breaker.admit(url)).not.toThrow();
  });

  it('the error says when to retry, and that no money moved', () => {
    const breaker = createCircuitBreaker({ threshold: 1, coolDownMs: 60_000 }, () => 0);
    breaker.admit('https://api.example.com/x').failed();
    const error = (() => {
      try {
        breaker.admit('https://api.example.com/y');
      } catch (e) {
        return e as CircuitOpenError;
      }
    })()!;
    expect(error).toMatchObject({ code: 'circuit_open', moneyMoved: 'no', host: 'api.example.com', failures: 1, retryAt: 60_000 });
  });

  it('one probe at a time: a payment admitted before the breaker opened, abandoned later, does not open the probe slot', () => {
    let now = 0;
    const url = 'https://a.example/x';
    const breaker = createCircuitBreaker({ threshold: 2, coolDownMs: 1_000 }, () => now);
    const early = breaker.admit(url); // admitted while closed, still in flight
    breaker.admit(url).failed();
    breaker.admit(url).failed(); // open
    now = 1_000;
    const probe = breaker.admit(url); // the one probe
    early.abandon();
    expect(() => breaker.admit(url)).toThrow(CircuitOpenError);
    probe.succeeded();
    expect(() => breaker.admit(url)).not.toThrow();
  });

  it('false admits everything', () => {
    const breaker = createCircuitBreaker(false, () => 0);
    for (let i = 0; i < 10; i++) breaker.admit('https://a.example/x').failed();
    expect(() => breaker.admit('https://a.example/x')).not.toThrow();
  });
});

describe('payee pins', () => {
  const quote = (url: string, payTo: string) => ({ url, payTo }) as unknown as Quote;
  it('pins the first payee per host; a change is refused unless allowed; undo unpins', () => {
    const pins = createPayeePins(true, (p) => p === '0x3333333333333333333333333333333333333333');
    const undo = pins.claim(quote('https://a.example/x', '0x1111111111111111111111111111111111111111'));
    expect(pins.refusal(quote('https://a.example/y', '0x2222222222222222222222222222222222222222'))).toMatchObject({ code: 'payee_changed' });
    expect(() => pins.claim(quote('https://a.example/y', '0x2222222222222222222222222222222222222222'))).toThrow(PayeeChangedError);
    expect(pins.refusal(quote('https://a.example:8443/y', '0x2222222222222222222222222222222222222222'))).toBeUndefined();
    expect(pins.refusal(quote('https://a.example/y', '0x3333333333333333333333333333333333333333'))).toBeUndefined();
    undo();
    expect(() => pins.claim(quote('https://a.example/y', '0x2222222222222222222222222222222222222222'))).not.toThrow();
  });

  it('only the payment that set a pin can take it back: a second one to the pinned payee that fails leaves it', () => {
    const pins = createPayeePins(true, () => false);
    const X = '0x1111111111111111111111111111111111111111';
    const Y = '0x2222222222222222222222222222222222222222';
    const first = pins.claim(quote('https://a.example/x', X));
    const second = pins.claim(quote('https://a.example/x', X)); // in flight at the same time, same payee
    second(); // the second one was never sent
    expect(() => pins.claim(quote('https://a.example/x', Y))).toThrow(PayeeChangedError);
    first(); // the first one was never sent either: nothing was ever paid to X
    expect(() => pins.claim(quote('https://a.example/x', Y))).not.toThrow();
  });

  it('off: nothing is pinned or refused', () => {
    const pins = createPayeePins(false, () => false);
    pins.claim(quote('https://a.example/x', '0x1111111111111111111111111111111111111111'));
    expect(pins.refusal(quote('https://a.example/x', '0x2222222222222222222222222222222222222222'))).toBeUndefined();
    expect(() => pins.claim(quote('https://a.example/x', '0x2222222222222222222222222222222222222222'))).not.toThrow();
  });
});

describe('price pins', () => {
  const clock = () => 1_750_000_000_000;
  const usdc = { decimals: 6, symbol: 'USDC' };
  const token = { decimals: 18, symbol: 'TKN' };
  const quote = (url: string, amount: bigint, asset: 'usd' | 'token' = 'usd') =>
    ({
      url,
      amount,
      network: 'eip155:8453',
      asset: asset === 'usd' ? usdc : token,
      option: { asset: asset === 'usd' ? '0xUSDC' : '0xTKN' },
      usd: asset === 'usd' ? amount * 10n ** 30n : undefined,
    }) as unknown as Quote;

  it('refuses more than maxRatio times the last price of the place, exactly at the bound', () => {
    const prices = createPricePins({ maxRatio: 2 }, clock);
    prices.claim(quote('https://a.example/x?q=1', 1_000n), 'GET');
    expect(prices.refusal(quote('https://a.example/x?q=2', 2_000n), 'get')).toBeUndefined();
    const refused = prices.refusal(quote('https://a.example/x', 2_001n), 'GET');
    expect(refused).toMatchObject({ code: 'price_changed' });
    expect(refused!.error).toMatchObject({ place: 'GET https://a.example/x', pinned: '0.001 USD', offered: '0.002001 USD', maxRatio: 2, moneyMoved: 'no' });
    expect(() => prices.claim(quote('https://a.example/x', 2_001n), 'GET')).toThrow(PriceChangedError);
  });

  it('is per place: another path, method or port is not pinned; the reference is the lower of the last price and the 24 h median', () => {
    const prices = createPricePins({ maxRatio: 2 }, clock);
    prices.claim(quote('https://a.example/x', 1_000n), 'GET');
    expect(prices.refusal(quote('https://a.example/y', 9_000n), 'GET')).toBeUndefined();
    expect(prices.refusal(quote('https://a.example/x', 9_000n), 'POST')).toBeUndefined();
    expect(prices.refusal(quote('https://a.example:8443/x', 9_000n), 'GET')).toBeUndefined();
    prices.claim(quote('https://a.example/x', 2_000n), 'GET');
    // Last 2,000, median (lower middle of 1,000 and 2,000) 1,000: the reference is 1,000.
    expect(prices.refusal(quote('https://a.example/x', 2_000n), 'GET')).toBeUndefined();
    expect(prices.refusal(quote('https://a.example/x', 2_001n), 'GET')?.error).toMatchObject({ pinned: '0.001 USD' });
    prices.claim(quote('https://a.example/x', 100n), 'GET');
    // Last 100 is below the median 1,000: the reference is 100.
    expect(prices.refusal(quote('https://a.example/x', 201n), 'GET')).toMatchObject({ code: 'price_changed' });
  });

  it('stops a slow-burn ramp (B4): +10% a call passes the last-price check every time, and the median stops it at the 15th call', () => {
    const prices = createPricePins({ maxRatio: 2 }, clock);
    let price = 1_000_000n;
    let paid = 0;
    while (paid < 100 && !prices.refusal(quote('https://a.example/x', price), 'GET')) {
      prices.claim(quote('https://a.example/x', price), 'GET');
      paid++;
      price = (price * 11n) / 10n;
    }
    expect(paid).toBe(14);
  });

  it('forgets prices older than 24 h, and keeps at most 64 per place', () => {
    const now = { t: 0 };
    const prices = createPricePins({ maxRatio: 2 }, () => now.t);
    prices.claim(quote('https://a.example/x', 1_000n), 'GET');
    now.t = PRICE_HISTORY_MS;
    expect(prices.refusal(quote('https://a.example/x', 5_000n), 'GET')).toBeUndefined(); // the old price is gone
    for (let i = 0; i < PRICE_HISTORY_MAX; i++) prices.claim(quote('https://a.example/x', 1_000n), 'GET');
    for (let i = 0; i < PRICE_HISTORY_MAX; i++) prices.claim(quote('https://a.example/x', 2_000n), 'GET');
    // Only the 64 prices of 2,000 are left: 4,000 is within 2× of them.
    expect(prices.refusal(quote('https://a.example/x', 4_000n), 'GET')).toBeUndefined();
    expect(prices.refusal(quote('https://a.example/x', 4_001n), 'GET')).toMatchObject({ code: 'price_changed' });
  });

  it('compares only prices in one unit; a token price is shown in its own units', () => {
    const prices = createPricePins({ maxRatio: 1.5 }, clock);
    prices.claim(quote('https://a.example/x', 10n ** 18n, 'token'), 'GET');
    expect(prices.refusal(quote('https://a.example/x', 10n ** 9n), 'GET')).toBeUndefined();
    expect(prices.refusal(quote('https://a.example/x', 15n * 10n ** 17n, 'token'), 'GET')).toBeUndefined();
    expect(prices.refusal(quote('https://a.example/x', 15n * 10n ** 17n + 1n, 'token'), 'GET')?.error).toMatchObject({ pinned: '1 TKN', offered: '1.500000000000000001 TKN' });
  });

  it('undo takes back the price claimed (and a history another unit replaced); false pins nothing', () => {
    const prices = createPricePins({ maxRatio: 2 }, clock);
    const undoFirst = prices.claim(quote('https://a.example/x', 1_000n), 'GET');
    const undo = prices.claim(quote('https://a.example/x', 1_500n), 'GET');
    undo();
    expect(prices.refusal(quote('https://a.example/x', 2_000n), 'GET')).toBeUndefined();
    expect(prices.refusal(quote('https://a.example/x', 2_001n), 'GET')).toMatchObject({ code: 'price_changed' });
    undoFirst();
    expect(prices.refusal(quote('https://a.example/x', 10n ** 9n), 'GET')).toBeUndefined();
    prices.claim(quote('https://a.example/x', 1_000n), 'GET');
    prices.claim(quote('https://a.example/x', 10n ** 18n, 'token'), 'GET')();
    expect(prices.refusal(quote('https://a.example/x', 2_001n), 'GET')).toMatchObject({ code: 'price_changed' });
    const off = createPricePins(false, clock);
    off.claim(quote('https://a.example/x', 1n), 'GET');
    expect(off.refusal(quote('https://a.example/x', 10n ** 9n), 'GET')).toBeUndefined();
  });
});

describe('readBody', () => {
  it('gives up on a body that has not ended in time, and reports a broken stream', async () => {
    const slow = new ReadableStream<Uint8Array>({ start: (c) => c.enqueue(new Uint8Array([1])) });
    const started = performance.now();
    expect(await readBody(slow, 1024, null, 50)).toEqual({ ok: false, why: 'timeout' });
    expect(performance.now() - started).toBeLessThan(1_000);
    const broken = new ReadableStream<Uint8Array>({ pull: (c) => c.error(new Error('ECONNRESET')) });
    expect(await readBody(broken, 1024, null, 1_000)).toEqual({ ok: false, why: 'broken' });
    const fine = new Response('abc').body;
    expect(await readBody(fine, 1024, null, 1_000)).toMatchObject({ ok: true });
  });
});

describe('the hardening options', () => {
  it('defaults', () => {
    expect(resolveOptions().hardening).toEqual({
      challengeTimeoutMs: 5_000,
      paidRequestTimeoutMs: 120_000,
      breaker: { threshold: 3, coolDownMs: 60_000 },
      pinPayees: true,
      pinPrices: false,
      allowInsecureHttp: false,
      resend: { times: 1, delayMs: 500 },
    });
  });

  it('a bad value is a TypeError naming the option', () => {
    const bad: Array<[Record<string, unknown>, RegExp]> = [
      [{ challengeTimeoutMs: 0 }, /options\.challengeTimeoutMs must be an integer/],
      [{ challengeTimeoutMs: '5000' }, /options\.challengeTimeoutMs/],
      [{ paidRequestTimeoutMs: 1.5 }, /options\.paidRequestTimeoutMs/],
      [{ breaker: true }, /options\.breaker must be/],
      [{ breaker: { threshold: 0 } }, /options\.breaker\.threshold/],
      [{ breaker: { coolDownMs: -1 } }, /options\.breaker\.coolDownMs/],
      [{ breaker: { treshold: 3 } }, /options\.breaker\.treshold is not a breaker option/],
      [{ pinPayees: 'no' }, /options\.pinPayees must be true or false/],
      [{ allowInsecureHttp: 1 }, /options\.allowInsecureHttp must be true or false/],
      [{ pinPrices: 2 }, /options\.pinPrices must be true, false or \{ maxRatio\? \}/],
      [{ pinPrices: { maxRatio: 0.5 } }, /options\.pinPrices\.maxRatio must be a number from 1/],
      [{ pinPrices: { maxRatio: Number.NaN } }, /options\.pinPrices\.maxRatio/],
      [{ pinPrices: { ratio: 2 } }, /options\.pinPrices\.ratio is not a pinPrices option/],
      [{ resend: true }, /options\.resend must be \{ times\?, delayMs\? \} or false/],
      [{ resend: { times: 6 } }, /options\.resend\.times must be an integer from 0 to 5; got 6/],
      [{ resend: { times: -1 } }, /options\.resend\.times/],
      [{ resend: { delayMs: 60_001 } }, /options\.resend\.delayMs must be an integer from 0 to 60000/],
      [{ resend: { attempts: 2 } }, /options\.resend\.attempts is not a resend option/],
      [{ on: { resend: 'yes' } }, /options\.on\.resend must be a payment, denied, error, resend or signIn listener function/],
      [{ on: { signIn: true } }, /options\.on\.signIn must be a payment, denied, error, resend or signIn listener function/],
      [{ signIn: true }, /options\.signIn must be signInWithX\(\) \(import \{ signInWithX \} from 'x402-autopay'\)/],
      [{ signIn: { kind: 'sign-in-with-x' } }, /options\.signIn must be signInWithX\(\)/],
    ];
    for (const [options, message] of bad) expect(() => wrapFetch(fetch, testAccount, options as never), JSON.stringify(options)).toThrow(message);
    expect(resolveOptions({ pinPrices: true }).hardening.pinPrices).toEqual({ maxRatio: 2 });
    expect(resolveOptions({ pinPrices: { maxRatio: 1.5 } }).hardening.pinPrices).toEqual({ maxRatio: 1.5 });
    expect(resolveOptions({ resend: false }).hardening.resend).toBe(false);
    expect(resolveOptions({ resend: { times: 0 } }).hardening.resend).toEqual({ times: 0, delayMs: 500 });
    expect(resolveOptions({ resend: { delayMs: 0, times: 5 } }).hardening.resend).toEqual({ times: 5, delayMs: 0 });
    expect(resolveOptions({ breaker: false, pinPayees: false, allowInsecureHttp: true, challengeTimeoutMs: 100 }).hardening).toMatchObject({
      breaker: false,
      pinPayees: false,
      allowInsecureHttp: true,
      challengeTimeoutMs: 100,
    });
  });
});
