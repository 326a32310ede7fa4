import { HttpResponse } from 'msw';
import { describe, expect, it } from 'vitest';
import { getPayment, InvalidChallengeError, UnsupportedVersionError, wrapFetch, type WrapFetchOptions } from '../../src/index.js';
import { interpretChallenge, readChallenge } from '../../src/protocol/read.js';
import { encodeBase64Json } from '../../src/protocol/codec.js';
import { challengeV2, paywall, useMswServer, type SeenRequest } from '../support/msw.js';
import {
  decodeHeader,
  paymentRequiredV1,
  paymentRequiredV2,
  requirementV1,
  requirementV2,
  testAccount,
  V1_BODY,
  V2_HEADER,
  V2_JSON,
} from '../support/challenges.js';
import { BASE_SEPOLIA_USDC_DOMAIN, countingSigner, verifyWirePayload } from '../support/signers.js';
import { rejectionOf } from '../support/secrets.js';

const server = useMswServer();
const URL_ = 'https://api.example.com/premium-data';

/** Serves `challenge` to unpaid requests, 200 to paid ones; returns the paywall and a counting signer. */
function serve(challenge: (seen: SeenRequest) => Response) {
  const p = paywall({ url: URL_, challenge });
  server.use(p.handler);
  return { p, signer: countingSigner() };
}

/** Calls the wrapped fetch expecting a refusal; checks nothing was signed or sent. */
async function refused(challenge: (seen: SeenRequest) => Response, options?: WrapFetchOptions) {
  const { p, signer } = serve(challenge);
  const error = await rejectionOf(wrapFetch(fetch, signer, options)(URL_));
  expect(p.seen).toHaveLength(1);
  expect(p.paid()).toHaveLength(0);
  expect(signer.calls).toBe(0);
  return error;
}

async function invalid(challenge: (seen: SeenRequest) => Response, reason: string, options?: WrapFetchOptions) {
  const error = await refused(challenge, options);
  expect(error).toBeInstanceOf(InvalidChallengeError);
  expect(error.code).toBe('invalid_challenge');
  expect(error.moneyMoved).toBe('no');
  expect(error.reason).toBe(reason);
  expect(error.issues.length).toBeGreaterThan(0);
  expect(error.response).toBeInstanceOf(Response);
  expect(error.response.status).toBe(402);
  return error as InvalidChallengeError;
}

const rawHeader = (value: string, body: BodyInit | null = '{}') => () =>
  new HttpResponse(body, { status: 402, headers: { 'PAYMENT-REQUIRED': value, 'Content-Type': 'application/json' } });

const base64Of = (bytes: Uint8Array | string) => Buffer.from(bytes).toString('base64');

describe('v2 from the PAYMENT-REQUIRED header', () => {
  it('pays the PROTOCOL §9 V2 header vector, echoing its requirement exactly', async () => {
    const { p, signer } = serve(rawHeader(V2_HEADER));
    const res = await wrapFetch(fetch, signer)(URL_);
    expect(res.status).toBe(200);
    const [paid] = p.paid();
    const payment = decodeHeader(paid!.headers['payment-signature']!);
    const documented = JSON.parse(V2_JSON);
    expect(payment.x402Version).toBe(2);
    expect(payment.accepted).toEqual(documented.accepts[0]);
    expect(payment.resource).toEqual(documented.resource);
    expect(Object.keys(payment).sort()).toEqual(['accepted', 'payload', 'resource', 'x402Version']);
    expect(await verifyWirePayload(payment.payload, BASE_SEPOLIA_USDC_DOMAIN, testAccount.address)).toBe(true);
    expect(signer.calls).toBe(1);
    expect(getPayment(res)?.network).toBe('eip155:84532');
  });

  it('reads the V2 vector into the documented model', async () => {
    const challenge = await readChallenge(rawHeader(V2_HEADER)(), URL_, { maxBodyBytes: 65536, maxHeaderBytes: 16384, versions: [1, 2] });
    const documented = JSON.parse(V2_JSON);
    expect(challenge.version).toBe(2);
    expect(challenge.source).toBe('header');
    expect(challenge.error).toBe('PAYMENT-SIGNATURE header is required');
    expect(challenge.resource).toEqual(documented.resource);
    expect(challenge.extensions).toBeUndefined();
    expect(challenge.options).toHaveLength(1);
    const option = challenge.options[0]!;
    expect(option).toMatchObject({
      index: 0,
      scheme: 'exact',
      network: 'eip155:84532',
      wireNetwork: 'eip155:84532',
      amount: 10000n,
      asset: '0x036CbD53842c5426634e7929541eC2318f3dCF7e',
      payTo: '0x209693Bc6afc0C5328bA36FaF03C514EF312287C',
      maxTimeoutSeconds: 60,
      extra: { name: 'USDC', version: '2' },
    });
    expect(option.wire).toEqual(documented.accepts[0]);
    expect(Object.isFrozen(option.wire)).toBe(true);
  });

  it('accepts a lower-case header name and a v2 header beside an HTML body', async () => {
    const { p, signer } = serve(
      () => new HttpResponse('<html><body>Pay me</body></html>', { status: 402, headers: { 'payment-required': V2_HEADER, 'content-type': 'text/html' } }),
    );
    const res = await wrapFetch(fetch, signer)(URL_);
    expect(res.status).toBe(200);
    expect(p.paid()).toHaveLength(1);
  });

  describe('a bad header is an InvalidChallengeError (malformed) and nothing is paid', () => {
    const required = paymentRequiredV2([requirementV2()], { resource: { url: URL_, description: '>>>???~~~ ÿÿ' } });
    const standard = encodeBase64Json(required);

    it('the fixture has + and / so base64url differs', () => {
      expect(standard).toMatch(/[+/]/);
    });

    it('base64url alphabet', async () => {
      const error = await invalid(rawHeader(standard.replace(/\+/g, '-').replace(/\//g, '_')), 'malformed');
      expect(error.issues[0]!.message).toMatch(/base64/);
    });

    it('spaces inside the value', async () => {
      await invalid(rawHeader(`${standard.slice(0, 40)} ${standard.slice(40)}`), 'malformed');
    });

    it('a line break inside the value is not a valid header', async () => {
      // Headers cannot carry a raw newline; a tab is the nearest thing a server can send.
      await invalid(rawHeader(`${standard.slice(0, 40)}\t${standard.slice(40)}`), 'malformed');
    });

    it('missing padding', async () => {
      const padded = encodeBase64Json({ ...required, error: 'x' });
      const withPad = padded.endsWith('=') ? padded : encodeBase64Json({ ...required, error: 'xy' });
      expect(withPad).toMatch(/=$/);
      await invalid(rawHeader(withPad.replace(/=+$/, '')), 'malformed');
    });

    it('too much padding', async () => {
      await invalid(rawHeader(`${standard}====`), 'malformed');
    });

    it('padding in the middle', async () => {
      await invalid(rawHeader(`${standard.slice(0, 8)}==${standard.slice(10)}`), 'malformed');
    });

    it('empty value', async () => {
      await invalid(rawHeader(''), 'malformed');
    });

    it('invalid UTF-8 (fatal decoding)', async () => {
      const bytes = new Uint8Array([...new TextEncoder().encode('{"x402Version":2,"error":"'), 0xff, 0xfe, ...new TextEncoder().encode('"}')]);
      const error = await invalid(rawHeader(base64Of(bytes)), 'malformed');
      expect(error.issues[0]!.message).toMatch(/UTF-8/);
    });

    it('overlong UTF-8 encoding', async () => {
      const bytes = new Uint8Array([...new TextEncoder().encode('{"a":"'), 0xc0, 0xaf, ...new TextEncoder().encode('"}')]);
      await invalid(rawHeader(base64Of(bytes)), 'malformed');
    });

    it('invalid JSON', async () => {
      const error = await invalid(rawHeader(base64Of('{"x402Version":2,"accepts":[')), 'malformed');
      expect(error.issues[0]!.message).toMatch(/JSON/);
    });

    it("Cloudflare's documented example (invalid JSON: literal [...])", async () => {
      await invalid(rawHeader(base64Of('{"x402Version": 2, "accepts": [...]}')), 'malformed');
    });

    it('valid JSON that is not an object', async () => {
      await invalid(rawHeader(base64Of('[1,2,3]')), 'malformed');
      await invalid(rawHeader(base64Of('"x402"')), 'malformed');
      await invalid(rawHeader(base64Of('null')), 'malformed');
    });

    it('a decoded header over 16 KiB is oversize', async () => {
      const huge = paymentRequiredV2([requirementV2()], { extensions: { blob: { data: 'a'.repeat(20_000) } } });
      const error = await invalid(rawHeader(encodeBase64Json(huge)), 'oversize');
      expect(error.issues[0]!.message).toMatch(/16384/);
    });

    it('the response in the error keeps the 402 body readable', async () => {
      const error = await invalid(rawHeader('!!!', '{"hello":"world"}'), 'malformed');
      expect(await error.response!.json()).toEqual({ hello: 'world' });
    });
  });
});

describe('v1 from the body', () => {
  it('pays the PROTOCOL §9 V1 body vector (outputSchema: null)', async () => {
    const { p, signer } = serve(() => new HttpResponse(V1_BODY, { status: 402, headers: { 'Content-Type': 'application/json' } }));
    const res = await wrapFetch(fetch, signer)(URL_);
    expect(res.status).toBe(200);
    const [paid] = p.paid();
    expect(paid!.headers['payment-signature']).toBeUndefined();
    const payment = decodeHeader(paid!.headers['x-payment']!);
    expect(Object.keys(payment)).toEqual(['x402Version', 'scheme', 'network', 'payload']);
    expect(payment).toMatchObject({ x402Version: 1, scheme: 'exact', network: 'base-sepolia' });
    expect(payment.payload.authorization).toMatchObject({ from: testAccount.address, to: '0x209693Bc6afc0C5328bA36FaF03C514EF312287C', value: '10000' });
    expect(await verifyWirePayload(payment.payload, BASE_SEPOLIA_USDC_DOMAIN, testAccount.address)).toBe(true);
    expect(getPayment(res)?.network).toBe('eip155:84532');
  });

  it('reads a v1 body into the model with a CAIP-2 network', async () => {
    const challenge = await readChallenge(new Response(V1_BODY, { status: 402 }), URL_, { maxBodyBytes: 65536, maxHeaderBytes: 16384, versions: [1, 2] });
    expect(challenge.version).toBe(1);
    expect(challenge.source).toBe('body');
    expect(challenge.error).toBe('X-PAYMENT header is required');
    expect(challenge.options[0]).toMatchObject({ network: 'eip155:84532', wireNetwork: 'base-sepolia', amount: 10000n, maxTimeoutSeconds: 60 });
    expect(challenge.options[0]!.wire).toEqual(JSON.parse(V1_BODY).accepts[0]);
  });

  it('a v1 body with an unknown network name reads (refused later, at selection)', async () => {
    const challenge = await readChallenge(
      new Response(JSON.stringify(paymentRequiredV1([requirementV1({ network: 'flat-earth' })])), { status: 402 }),
      URL_,
      { maxBodyBytes: 65536, maxHeaderBytes: 16384, versions: [1, 2] },
    );
    expect(challenge.options[0]!.network).toBeUndefined();
    expect(challenge.options[0]!.wireNetwork).toBe('flat-earth');
  });

  it('a v1 body with a whole 60 KiB of JSON whitespace is read', async () => {
    const body = JSON.stringify(paymentRequiredV1()).replace('{', `{${' '.repeat(60 * 1024)}`);
    const { p, signer } = serve(() => new HttpResponse(body, { status: 402 }));
    await wrapFetch(fetch, signer)(URL_);
    expect(p.paid()).toHaveLength(1);
  });
});

describe('bounded body read', () => {
  it('a streamed body of 10 MB is refused after reading little of it', async () => {
    let pulled = 0;
    const error = await invalid(() => {
      const stream = new ReadableStream<Uint8Array>({
        pull(controller) {
          if (pulled >= 10 * 1024 * 1024) return controller.close();
          pulled += 16 * 1024;
          controller.enqueue(new Uint8Array(16 * 1024).fill(0x20));
        },
      });
      return new HttpResponse(stream, { status: 402, headers: { 'Content-Type': 'application/json' } });
    }, 'oversize');
    expect(pulled).toBeGreaterThan(0);
    expect(pulled).toBeLessThan(256 * 1024);
    expect(error.issues[0]!.message).toMatch(/65536/);
  });

  it('a declared Content-Length over the bound is refused before reading', async () => {
    let pulled = 0;
    await invalid(() => {
      const stream = new ReadableStream<Uint8Array>({
        pull(controller) {
          pulled += 1024;
          controller.enqueue(new Uint8Array(1024).fill(0x20));
          if (pulled >= 100 * 1024) controller.close();
        },
      });
      return new HttpResponse(stream, { status: 402, headers: { 'Content-Length': String(100 * 1024), 'Content-Type': 'application/json' } });
    }, 'oversize');
    // Only what the stream queued by itself before anyone read; the client read nothing.
    expect(pulled).toBeLessThanOrEqual(2 * 1024);
  });

  it('maxChallengeBytes lowers the bound', async () => {
    const body = JSON.stringify(paymentRequiredV1()).replace('{', `{${' '.repeat(4096)}`);
    await invalid(() => new HttpResponse(body, { status: 402 }), 'oversize', { maxChallengeBytes: 2048 });
  });

  it('an oversize body beside a valid header does not matter: the header is read', async () => {
    const { p, signer } = serve(() => {
      const stream = new ReadableStream<Uint8Array>({
        pull(controller) {
          controller.enqueue(new Uint8Array(16 * 1024).fill(0x20));
        },
      });
      return new HttpResponse(stream, { status: 402, headers: { 'PAYMENT-REQUIRED': V2_HEADER } });
    });
    const res = await wrapFetch(fetch, signer)(URL_);
    expect(res.status).toBe(200);
    expect(p.paid()).toHaveLength(1);
  });
});

describe('v2 in the body (header not exposed) and header/body agreement', () => {
  it('a v2 object in the body with no header is paid with PAYMENT-SIGNATURE', async () => {
    const required = paymentRequiredV2();
    const { p, signer } = serve(() => HttpResponse.json(required, { status: 402 }));
    const res = await wrapFetch(fetch, signer)(URL_);
    expect(res.status).toBe(200);
    const [paid] = p.paid();
    expect(paid!.headers['x-payment']).toBeUndefined();
    const payment = decodeHeader(paid!.headers['payment-signature']!);
    expect(payment.x402Version).toBe(2);
    expect(payment.accepted).toEqual((required.accepts as unknown[])[0]);
    expect(payment.resource).toEqual(required.resource);
    expect(await verifyWirePayload(payment.payload, BASE_SEPOLIA_USDC_DOMAIN, testAccount.address)).toBe(true);
  });

  it('header and a disagreeing v2 body: ambiguous', async () => {
    const header = paymentRequiredV2([requirementV2({ payTo: '0x209693Bc6afc0C5328bA36FaF03C514EF312287C' })]);
    const body = paymentRequiredV2([requirementV2({ payTo: '0x1111111111111111111111111111111111111111' })]);
    const error = await invalid(() => challengeV2(header, { body }), 'ambiguous');
    expect(error.issues[0]!.message).toMatch(/disagree/);
  });

  it('header and a disagreeing v2 body, differing only in amount: ambiguous', async () => {
    const header = paymentRequiredV2([requirementV2({ amount: '10000' })]);
    const body = paymentRequiredV2([requirementV2({ amount: '1' })]);
    await invalid(() => challengeV2(header, { body }), 'ambiguous');
  });

  it('header and the same v2 body with keys in another order: paid', async () => {
    const header = paymentRequiredV2();
    const reordered = Object.fromEntries(Object.entries(header).reverse());
    const { p, signer } = serve(() => challengeV2(header, { body: reordered }));
    await wrapFetch(fetch, signer)(URL_);
    expect(p.paid()).toHaveLength(1);
  });

  it('header with a legacy v1 body beside it: the header (v2) wins', async () => {
    const { p, signer } = serve(() => challengeV2(paymentRequiredV2(), { body: paymentRequiredV1() }));
    await wrapFetch(fetch, signer)(URL_);
    const [paid] = p.paid();
    expect(paid!.headers['payment-signature']).toBeDefined();
    expect(paid!.headers['x-payment']).toBeUndefined();
  });

  it('no header and an empty body: not_x402', async () => {
    await invalid(() => new HttpResponse(null, { status: 402 }), 'not_x402');
  });

  it('no header and an HTML body: not_x402, the body kept in the error', async () => {
    const error = await invalid(() => new HttpResponse('<h1>Payment Required</h1>', { status: 402, headers: { 'content-type': 'text/html' } }), 'not_x402');
    expect(await error.response!.text()).toBe('<h1>Payment Required</h1>');
  });

  it('no header and JSON without x402Version: not_x402', async () => {
    const error = await invalid(() => HttpResponse.json({ error: 'pay up' }, { status: 402 }), 'not_x402');
    expect(error.issues[0]!.path).toBe('x402Version');
  });
});

describe('schema violations name the path', () => {
  const v2With = (overrides: Record<string, unknown>, index = 0) => {
    const accepts = [requirementV2(), requirementV2()];
    accepts[index] = requirementV2(overrides);
    return () => challengeV2(paymentRequiredV2(accepts));
  };

  const badAmounts: [string, unknown][] = [
    ['"1.5"', '1.5'],
    ['"-5"', '-5'],
    ['"0x10"', '0x10'],
    ['" 7 "', ' 7 '],
    ['""', ''],
    ['"1e6"', '1e6'],
    ['"007"', '007'],
    ['"+7"', '+7'],
    ['a number', 10000],
    ['null', null],
    ['2^256', (1n << 256n).toString()],
    ['80 digits', '9'.repeat(80)],
  ];
  for (const [label, amount] of badAmounts) {
    it(`v2 amount ${label} → accepts.N.amount`, async () => {
      const error = await invalid(v2With({ amount }, 1), 'malformed');
      expect(error.issues.map((i) => i.path)).toEqual(['accepts.1.amount']);
    });
  }

  it('v2 amount 2^256 - 1 is valid (and then over budget, not invalid)', async () => {
    const error = await refused(() => challengeV2(paymentRequiredV2([requirementV2({ amount: ((1n << 256n) - 1n).toString() })])));
    expect(error.code).toBe('budget_exceeded');
  });

  for (const [label, amount] of badAmounts) {
    it(`v1 maxAmountRequired ${label} → accepts.0.maxAmountRequired`, async () => {
      const error = await invalid(() => HttpResponse.json(paymentRequiredV1([requirementV1({ maxAmountRequired: amount })]), { status: 402 }), 'malformed');
      expect(error.issues.map((i) => i.path)).toEqual(['accepts.0.maxAmountRequired']);
    });
  }

  const badTimeouts: [string, unknown][] = [
    ['0.5', 0.5],
    ['-1', -1],
    ['0', 0],
    ['"60"', '60'],
    ['7 days + 1 s', 604801],
    ['NaN-like null', null],
  ];
  for (const [label, maxTimeoutSeconds] of badTimeouts) {
    it(`maxTimeoutSeconds ${label} → accepts.0.maxTimeoutSeconds`, async () => {
      const error = await invalid(v2With({ maxTimeoutSeconds }), 'malformed');
      expect(error.issues.map((i) => i.path)).toEqual(['accepts.0.maxTimeoutSeconds']);
    });
  }

  it('maxTimeoutSeconds of exactly 7 days is valid', async () => {
    const { p, signer } = serve(v2With({ maxTimeoutSeconds: 604800 }));
    await wrapFetch(fetch, signer)(URL_);
    expect(p.paid()).toHaveLength(1);
  });

  it('several problems are all listed, each with its path', async () => {
    const error = await invalid(
      () => challengeV2(paymentRequiredV2([requirementV2({ amount: '1.5', maxTimeoutSeconds: -1 }), requirementV2({ payTo: undefined })])),
      'malformed',
    );
    expect(error.issues.map((i) => i.path).sort()).toEqual(['accepts.0.amount', 'accepts.0.maxTimeoutSeconds', 'accepts.1.payTo']);
    for (const issue of error.issues) expect(issue.message.length).toBeGreaterThan(0);
  });

  it('missing or wrong-typed fields', async () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ scheme: undefined }, 'accepts.0.scheme'],
      [{ network: 'eip155' }, 'accepts.0.network'],
      [{ network: 8453 }, 'accepts.0.network'],
      [{ asset: '' }, 'accepts.0.asset'],
      [{ extra: 'USDC' }, 'accepts.0.extra'],
    ];
    for (const [overrides, path] of cases) {
      const error = await invalid(v2With(overrides), 'malformed');
      expect(error.issues.map((i) => i.path)).toEqual([path]);
      server.resetHandlers();
    }
  });

  it('empty or oversized accepts list', async () => {
    let error = await invalid(() => challengeV2(paymentRequiredV2([])), 'malformed');
    expect(error.issues.map((i) => i.path)).toEqual(['accepts']);
    server.resetHandlers();
    error = await invalid(() => challengeV2(paymentRequiredV2(Array.from({ length: 33 }, () => requirementV2()))), 'malformed');
    expect(error.issues.map((i) => i.path)).toEqual(['accepts']);
  });

  it('resource that is not an object', async () => {
    const error = await invalid(() => challengeV2(paymentRequiredV2([requirementV2()], { resource: 'https://x' })), 'malformed');
    expect(error.issues.map((i) => i.path)).toEqual(['resource']);
  });

  it('x402Version as a string ("2", as in some extension docs)', async () => {
    const error = await invalid(() => challengeV2({ ...paymentRequiredV2(), x402Version: '2' }), 'malformed');
    expect(error.issues.map((i) => i.path)).toEqual(['x402Version']);
  });

  it('extra: null is allowed', async () => {
    // Allowed by the schema; the option is then refused at selection (no EIP-712 domain).
    const error = await refused(() => challengeV2(paymentRequiredV2([requirementV2({ extra: null })])));
    expect(error.code).toBe('no_acceptable_option');
    expect(error.refusals[0].code).toBe('domain_missing');
  });
});

describe('versions', () => {
  it('x402Version 3 in the header → UnsupportedVersionError', async () => {
    const error = await refused(() => challengeV2({ ...paymentRequiredV2(), x402Version: 3 }));
    expect(error).toBeInstanceOf(UnsupportedVersionError);
    expect(error.code).toBe('unsupported_version');
    expect(error.moneyMoved).toBe('no');
    expect(error.version).toBe(3);
  });

  it('x402Version 3 in the body → UnsupportedVersionError', async () => {
    const error = await refused(() => HttpResponse.json({ ...paymentRequiredV1(), x402Version: 3 }, { status: 402 }));
    expect(error).toBeInstanceOf(UnsupportedVersionError);
    expect(error.code).toBe('unsupported_version');
    expect(error.version).toBe(3);
  });

  it('x402Version 0 → UnsupportedVersionError', async () => {
    const error = await refused(() => challengeV2({ ...paymentRequiredV2(), x402Version: 0 }));
    expect(error).toBeInstanceOf(UnsupportedVersionError);
    expect(error.version).toBe(0);
  });

  it('versions: [2] refuses a v1 challenge', async () => {
    const error = await refused(() => HttpResponse.json(paymentRequiredV1(), { status: 402 }), { versions: [2] });
    expect(error).toBeInstanceOf(UnsupportedVersionError);
    expect(error.code).toBe('unsupported_version');
    expect(error.version).toBe(1);
  });

  it('versions: [1] refuses a v2 challenge', async () => {
    const error = await refused(() => challengeV2(paymentRequiredV2()), { versions: [1] });
    expect(error).toBeInstanceOf(UnsupportedVersionError);
    expect(error.version).toBe(2);
  });

  it('versions: [2] still pays v2', async () => {
    const { p, signer } = serve(() => challengeV2(paymentRequiredV2()));
    await wrapFetch(fetch, signer, { versions: [2] })(URL_);
    expect(p.paid()).toHaveLength(1);
  });
});

describe('a repeated challenge is read once', () => {
  const limits = { maxBodyBytes: 65536, maxHeaderBytes: 16384, versions: [1, 2] as const };
  const bytes = (text: string) => ({ ok: true as const, bytes: new TextEncoder().encode(text) as Uint8Array<ArrayBuffer> });

  it('the same header and body give the same frozen challenge; a different body or limit reads afresh', () => {
    const first = interpretChallenge(V2_HEADER, bytes('{}'), URL_, limits);
    expect(Object.isFrozen(first)).toBe(true);
    expect(interpretChallenge(V2_HEADER, bytes('{}'), URL_, limits)).toBe(first);
    const otherBody = interpretChallenge(V2_HEADER, bytes('{"note":1}'), URL_, limits);
    expect(otherBody).not.toBe(first);
    expect(otherBody).toEqual(first);
    expect(interpretChallenge(V2_HEADER, bytes('{}'), URL_, { ...limits, versions: [2] })).not.toBe(first);
  });

  it('a body that contradicts the header is refused even after the header alone was read', () => {
    interpretChallenge(V2_HEADER, bytes(''), URL_, limits);
    const other = { ...JSON.parse(V2_JSON), accepts: [{ ...JSON.parse(V2_JSON).accepts[0], amount: '999' }] };
    expect(() => interpretChallenge(V2_HEADER, bytes(JSON.stringify(other)), URL_, limits)).toThrow(InvalidChallengeError);
  });

  it('a refusal is not remembered: the same bad header is refused each time', () => {
    const bad = encodeBase64Json({ ...JSON.parse(V2_JSON), accepts: [{ ...JSON.parse(V2_JSON).accepts[0], amount: '1.5' }] });
    for (let i = 0; i < 3; i++) expect(() => interpretChallenge(bad, bytes('{}'), URL_, limits)).toThrow(InvalidChallengeError);
  });
});

describe('the challenge cache key', () => {
  it('cannot be forged by moving bytes between the header and the body', () => {
    const limits = { maxBodyBytes: 65536, maxHeaderBytes: 16384, versions: [1, 2] as const };
    const bytes = (text: string) => ({ ok: true as const, bytes: new TextEncoder().encode(text) as Uint8Array<ArrayBuffer> });
    // A good header with the body 'x|{}' is remembered; then a broken header 'V2|x' with the body '{}'.
    interpretChallenge(V2_HEADER, bytes('x|{}'), URL_, limits);
    expect(() => interpretChallenge(`${V2_HEADER}|x`, bytes('{}'), URL_, limits)).toThrow(InvalidChallengeError);
  });
});
