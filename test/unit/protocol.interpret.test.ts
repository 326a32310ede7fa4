/**
 * The synchronous core of the 402 reader (`interpretChallenge`): what a header and a body read
 * together mean, each refusal's reason and message, and the cache of challenges already read.
 * Wire-level reading (streams, msw) is in protocol.read.test.ts; these cases pin the decisions.
 */
import { describe, expect, it } from 'vitest';
import { InvalidChallengeError, UnsupportedVersionError } from '../../src/index.js';
import { deepEqual, interpretChallenge, type ReadChallengeLimits } from '../../src/protocol/read.js';
import type { BodyRead } from '../../src/protocol/readBody.js';
import { encodeBase64Json } from '../../src/protocol/codec.js';
import { paymentRequiredV1, paymentRequiredV2, requirementV1, requirementV2 } from '../support/challenges.js';

const URL_ = 'https://api.example.com/premium-data';
const LIMITS: ReadChallengeLimits = { maxBodyBytes: 65536, maxHeaderBytes: 16384, versions: [1, 2], timeoutMs: 1234 };
const OTHER_PAYEE = '0x1111111111111111111111111111111111111111';
const OTHER_ASSET = '0x2222222222222222222222222222222222222222';

const bytes = (text: string): BodyRead => ({ ok: true, bytes: new TextEncoder().encode(text) as Uint8Array<ArrayBuffer> });
const json = (value: unknown): BodyRead => bytes(JSON.stringify(value));
const EMPTY: BodyRead = bytes('');
const header = (value: unknown) => encodeBase64Json(value);

function read(h: string | null, body: BodyRead, limits: ReadChallengeLimits = LIMITS) {
  return interpretChallenge(h, body, URL_, limits);
}

function refusal(h: string | null, body: BodyRead, limits: ReadChallengeLimits = LIMITS): InvalidChallengeError {
  try {
    read(h, body, limits);
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidChallengeError);
    return error as InvalidChallengeError;
  }
  throw new Error('expected the challenge to be refused');
}

describe('a legacy v1 body beside a v2 header (THREATS A3)', () => {
  const v2 = (accepts = [requirementV2()]) => header(paymentRequiredV2(accepts));

  it('naming the same payee (in any case) and amount: the header is read', () => {
    const body = json(paymentRequiredV1([requirementV1({ payTo: (requirementV2()['payTo'] as string).toLowerCase() })]));
    const challenge = read(v2(), body);
    expect(challenge.version).toBe(2);
    expect(challenge.options).toHaveLength(1);
  });

  it('another payee and amount on another network: no conflict (the header offers nothing there)', () => {
    const body = json(paymentRequiredV1([requirementV1({ network: 'base', payTo: OTHER_PAYEE, maxAmountRequired: '1' })]));
    expect(read(v2(), body).version).toBe(2);
  });

  it('another payee and amount for another asset: no conflict', () => {
    const body = json(paymentRequiredV1([requirementV1({ asset: OTHER_ASSET, payTo: OTHER_PAYEE, maxAmountRequired: '1' })]));
    expect(read(v2(), body).version).toBe(2);
  });

  it('another payee for another scheme on the same network and asset: no conflict (the header does not offer that scheme)', () => {
    const body = json(paymentRequiredV1([requirementV1({ scheme: 'upto', payTo: OTHER_PAYEE, maxAmountRequired: '1' })]));
    expect(read(v2(), body).version).toBe(2);
    // Control: the same body option under the header's scheme conflicts.
    expect(refusal(v2(), json(paymentRequiredV1([requirementV1({ payTo: OTHER_PAYEE, maxAmountRequired: '1' })]))).reason).toBe('ambiguous');
  });

  it('an unknown network name in the body matches nothing in the header', () => {
    const body = json(paymentRequiredV1([requirementV1({ network: 'nowhere', payTo: OTHER_PAYEE, maxAmountRequired: '1' })]));
    expect(read(v2(), body).version).toBe(2);
  });

  it('the same payee with another amount: ambiguous, at the body option that differs', () => {
    const body = json(paymentRequiredV1([requirementV1({ network: 'base' }), requirementV1({ maxAmountRequired: '9999' })]));
    const error = refusal(v2(), body);
    expect(error.reason).toBe('ambiguous');
    expect(error.issues).toEqual([{ path: 'accepts.1', message: 'PAYMENT-REQUIRED header and v1 body name different terms' }]);
  });

  it('another payee with the same amount: ambiguous', () => {
    const error = refusal(v2(), json(paymentRequiredV1([requirementV1({ payTo: OTHER_PAYEE })])));
    expect(error.reason).toBe('ambiguous');
    expect(error.issues[0]!.path).toBe('accepts.0');
  });

  it('the header offers two payees on one network and asset: the body may name either, not a third', () => {
    const header2 = v2([requirementV2(), requirementV2({ payTo: OTHER_PAYEE, amount: '20000' })]);
    expect(read(header2, json(paymentRequiredV1([requirementV1({ payTo: OTHER_PAYEE, maxAmountRequired: '20000' })]))).options).toHaveLength(2);
    expect(read(header2, json(paymentRequiredV1([requirementV1()]))).options).toHaveLength(2);
    // One payee's address with the other's amount matches no header option.
    expect(refusal(header2, json(paymentRequiredV1([requirementV1({ maxAmountRequired: '20000' })]))).reason).toBe('ambiguous');
  });

  it('a v1 body that is not a valid challenge is ignored', () => {
    const body = json({ x402Version: 1, error: 'x', accepts: 'not a list' });
    expect(read(v2(), body).version).toBe(2);
  });
});

describe('other bodies beside a v2 header', () => {
  const h = header(paymentRequiredV2());

  it('a body that is not JSON, or not UTF-8, is ignored', () => {
    expect(read(h, bytes('<html>pay me</html>')).version).toBe(2);
    expect(read(h, { ok: true, bytes: new Uint8Array([0x7b, 0xff, 0x7d]) as Uint8Array<ArrayBuffer> }).version).toBe(2);
    expect(read(h, EMPTY).version).toBe(2);
  });

  it('a v2 body equal to the header (keys in another order) is read', () => {
    const { accepts, ...rest } = paymentRequiredV2();
    expect(read(h, json({ accepts, ...rest })).version).toBe(2);
  });

  it('JSON with a repeated key beside the header: ambiguous, and the message says where', () => {
    const error = refusal(h, bytes('{"x402Version":2,"x402Version":1}'));
    expect(error.reason).toBe('ambiguous');
    expect(error.issues[0]!.message).toMatch(/^the body beside the PAYMENT-REQUIRED header is ambiguous JSON/);
  });

  it('JSON nested too deep beside the header: malformed', () => {
    expect(refusal(h, bytes(`${'['.repeat(40)}${']'.repeat(40)}`)).reason).toBe('malformed');
  });

  it('a header that is not base64: malformed, with the header named', () => {
    const error = refusal('%%%', EMPTY);
    expect(error.reason).toBe('malformed');
    expect(error.issues[0]!.message).toMatch(/^PAYMENT-REQUIRED header is not standard padded base64/);
  });

  it('the header is read trimmed of surrounding spaces', () => {
    expect(read(`  ${h}  `, EMPTY).version).toBe(2);
  });
});

describe('without a header: the body alone', () => {
  it('a body that did not arrive in time: timeout, with the bound in the message', () => {
    const error = refusal(null, { ok: false, why: 'timeout' });
    expect(error.reason).toBe('timeout');
    expect(error.issues).toEqual([{ path: '', message: '402 body did not arrive within 1234 ms' }]);
  });

  it('a body whose stream failed: malformed', () => {
    const error = refusal(null, { ok: false, why: 'broken' });
    expect(error.reason).toBe('malformed');
    expect(error.issues).toEqual([{ path: '', message: '402 body could not be read (the stream failed)' }]);
  });

  it('a body over the bound: oversize, with the bound in the message', () => {
    const error = refusal(null, { ok: false, why: 'oversize' });
    expect(error.reason).toBe('oversize');
    expect(error.issues).toEqual([{ path: '', message: '402 body is larger than 65536 bytes' }]);
  });

  it('an empty body: not x402, with the CORS hint', () => {
    const error = refusal(null, EMPTY);
    expect(error.reason).toBe('not_x402');
    expect(error.issues[0]!.message).toMatch(/^no PAYMENT-REQUIRED header and an empty body \(in a browser/);
  });

  it('a body that is not JSON: not x402, saying so', () => {
    const error = refusal(null, bytes('Payment Required'));
    expect(error.reason).toBe('not_x402');
    expect(error.issues[0]!.message).toMatch(/^no PAYMENT-REQUIRED header and the body is not valid JSON/);
  });

  it('a body with a repeated key: ambiguous', () => {
    expect(refusal(null, bytes('{"a":1,"a":2}')).reason).toBe('ambiguous');
  });
});

describe('x402Version', () => {
  it('missing from the header: malformed, at x402Version', () => {
    const error = refusal(header({ accepts: [] }), EMPTY);
    expect(error.reason).toBe('malformed');
    expect(error.issues).toEqual([{ path: 'x402Version', message: 'missing or not an integer' }]);
  });

  it('missing from a body: not x402, with the CORS hint', () => {
    const error = refusal(null, json({ hello: 'world' }));
    expect(error.reason).toBe('not_x402');
    expect(error.issues[0]!.path).toBe('x402Version');
    expect(error.issues[0]!.message).toMatch(/^missing or not an integer, and no PAYMENT-REQUIRED header \(in a browser/);
  });

  it('not an integer, a string, or the whole value an array: refused', () => {
    expect(refusal(header({ ...paymentRequiredV2(), x402Version: 2.5 }), EMPTY).issues[0]!.path).toBe('x402Version');
    expect(refusal(header({ ...paymentRequiredV2(), x402Version: '2' }), EMPTY).issues[0]!.path).toBe('x402Version');
    expect(refusal(header([paymentRequiredV2()]), EMPTY).issues[0]!.path).toBe('x402Version');
    expect(refusal(null, json(null)).issues[0]!.path).toBe('x402Version');
  });

  it('an integer other than 1 or 2: unsupported version, even if the client speaks both', () => {
    for (const version of [0, 3, -2]) {
      expect(() => read(header({ ...paymentRequiredV2(), x402Version: version }), EMPTY)).toThrow(UnsupportedVersionError);
    }
  });

  it('a version the client turned off: unsupported version', () => {
    expect(() => read(null, json(paymentRequiredV1()), { ...LIMITS, versions: [2] })).toThrow(UnsupportedVersionError);
    expect(read(null, json(paymentRequiredV1()), { ...LIMITS, versions: [1] }).version).toBe(1);
  });
});

describe('the cache of challenges already read', () => {
  it('the same input gives the same frozen challenge; other limits read it anew', () => {
    const body = json(paymentRequiredV1([requirementV1({ maxAmountRequired: '4242' })]));
    const first = read(null, body);
    expect(Object.isFrozen(first)).toBe(true);
    expect(read(null, body)).toBe(first);
    expect(read(null, body, { ...LIMITS, versions: [1] })).not.toBe(first);
    expect(read(null, body, { ...LIMITS, maxHeaderBytes: 100 })).not.toBe(first);
  });

  it('a header and a body are never confused with each other', () => {
    const h = header(paymentRequiredV2([requirementV2({ amount: '777' })]));
    const withHeader = read(h, EMPTY);
    const bodyOnly = read(null, json(paymentRequiredV1([requirementV1({ maxAmountRequired: '777' })])));
    expect(withHeader).not.toBe(bodyOnly);
    expect(withHeader.version).toBe(2);
    expect(bodyOnly.version).toBe(1);
  });

  it('keeps the 32 most recently used; older ones are read anew', () => {
    const input = (i: number) => json(paymentRequiredV1([requirementV1({ maxAmountRequired: String(100_000 + i) })]));
    const first = read(null, input(0));
    for (let i = 1; i <= 31; i++) read(null, input(i));
    expect(read(null, input(0))).toBe(first); // 32 kept: still there, and now the most recent
    for (let i = 32; i <= 63; i++) read(null, input(i));
    const again = read(null, input(0)); // 32 newer ones: gone, read anew
    expect(again).not.toBe(first);
    expect(again).toEqual(first);
  });

  it('an input over 8 KiB is not kept', () => {
    const big = bytes(`${JSON.stringify(paymentRequiredV1())}${' '.repeat(9000)}`);
    const first = read(null, big);
    expect(read(null, big)).not.toBe(first);
    expect(read(null, big)).toEqual(first);
  });
});

describe('deepEqual', () => {
  it('compares JSON values structurally, ignoring key order', () => {
    expect(deepEqual({ a: 1, b: [1, { c: 2 }] }, { b: [1, { c: 2 }], a: 1 })).toBe(true);
    expect(deepEqual({ a: 1 }, { a: 1, b: undefined })).toBe(false);
    expect(deepEqual({ a: 1, b: 2 }, { a: 1 })).toBe(false);
    expect(deepEqual({ a: 1 }, { b: 1 })).toBe(false);
    expect(deepEqual([1], { 0: 1 })).toBe(false);
    expect(deepEqual({ 0: 1 }, [1])).toBe(false);
    expect(deepEqual(null, {})).toBe(false);
    expect(deepEqual({}, null)).toBe(false);
    expect(deepEqual(1, '1')).toBe(false);
    expect(deepEqual([1, 2], [2, 1])).toBe(false);
    expect(deepEqual('a', 'a')).toBe(true);
  });
});

describe('amounts', () => {
  it('one over uint256 is refused at its field, saying so', () => {
    const error = refusal(header(paymentRequiredV2([requirementV2({ amount: (2n ** 256n).toString() })])), EMPTY);
    expect(error.reason).toBe('malformed');
    expect(error.issues).toEqual([{ path: 'accepts.0.amount', message: 'larger than uint256' }]);
    const v1 = refusal(null, json(paymentRequiredV1([requirementV1({ maxAmountRequired: (2n ** 256n).toString() })])));
    expect(v1.issues).toEqual([{ path: 'accepts.0.maxAmountRequired', message: 'larger than uint256' }]);
  });

  it('the largest uint256 is read', () => {
    expect(read(header(paymentRequiredV2([requirementV2({ amount: (2n ** 256n - 1n).toString() })])), EMPTY).options[0]!.amount).toBe(2n ** 256n - 1n);
  });

  it("extra null or absent reads as no extra; an extra object is the requirement's own, frozen", () => {
    const [withNull] = read(header(paymentRequiredV2([requirementV2({ amount: '31', extra: null })])), EMPTY).options;
    expect(withNull!.extra).toBeUndefined();
    const [absent] = read(header(paymentRequiredV2([requirementV2({ amount: '32', extra: undefined })])), EMPTY).options;
    expect(absent!.extra).toBeUndefined();
    const [own] = read(header(paymentRequiredV2([requirementV2({ amount: '33', extra: { name: 'USDC', version: '2', nested: { a: 1 } } })])), EMPTY).options;
    expect(own!.extra).toEqual({ name: 'USDC', version: '2', nested: { a: 1 } });
    expect(own!.extra).toBe(own!.wire['extra']);
    expect(Object.isFrozen(own!.extra)).toBe(true);
    expect(Object.isFrozen(own!.extra!['nested'])).toBe(true);
  });
});
