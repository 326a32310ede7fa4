/**
 * THREATS.md §A — malformed, huge and ambiguous 402s, against a real hostile server on loopback.
 * Every refusal is REFUSE(code): typed error, 0 signatures, no payment header anywhere, ledger
 * unchanged, no unhandled rejection, process alive (see harness.ts).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { isX402Error } from '../../src/index.js';
import { BASE_USDC, PAY_TO, requirementV2 } from '../support/challenges.js';
import { API, expectOneSignature, snapshot, useHostile } from './harness.js';
import { decodePayment, paywall, pump, send402body, send402v2 } from './hostileServer.js';
import { AMOUNT, MB, VERSIONS, b64, challenge, jsonWithRaw, requirement, rssGrowth, send402, send402Text } from './common.js';

const h = useHostile();
const EVIL = '0x000000000000000000000000000000000000dEaD';

describe('A1 memory and CPU exhaustion', () => {
  // Node loads its fetch implementation lazily: warm every code path up once, so that the RSS
  // measured below is the attack's, not the first fetch's.
  beforeAll(async () => {
    h.server.route(API, '/warm-up', (_q, res) => send402body(res, `{"x402Version":1,"accepts":[${' '.repeat(4096)}]}`));
    const c = h.client({ maxChallengeBytes: 1024 });
    for (let i = 0; i < 3; i++) await c.paidFetch(h.url('/warm-up')).catch(() => undefined);
    (globalThis as { gc?: () => void }).gc?.();
  });

  for (const via of ['v1', 'v2 body'] as const) {
    // The start of a challenge of that version, then blanks for ever (or for 200 MB).
    const prefix = `{"x402Version":${via === 'v1' ? 1 : 2},"accepts":[`;
    it(`${via}: a 200 MB 402 body with its Content-Length → REFUSE(oversize), RSS bounded`, async () => {
      h.server.route(API, '/huge', (_q, res) => {
        res.writeHead(402, { 'content-type': 'application/json', 'content-length': String(200 * MB) });
        res.write(prefix);
        void pump(res, Buffer.alloc(64 * 1024, 0x20), 200 * MB - prefix.length);
      });
      const c = h.client();
      const growth = await rssGrowth(() => h.expectRefused(c, () => c.paidFetch(h.url('/huge')), { code: 'invalid_challenge', reason: 'oversize' }));
      expect(growth).toBeLessThan(32 * MB);
    });

    it(`${via}: a never-ending chunked 402 body → REFUSE(oversize) after at most 64 KiB, RSS bounded`, async () => {
      h.server.route(API, '/endless', async (_q, res) => {
        res.writeHead(402, { 'content-type': 'application/json' });
        res.write(prefix);
        await pump(res, Buffer.alloc(16 * 1024, 0x20), Number.POSITIVE_INFINITY);
      });
      const c = h.client();
      const started = performance.now();
      const growth = await rssGrowth(() =>
        h.expectRefused(c, () => c.paidFetch(h.url('/endless')), { code: 'invalid_challenge', reason: 'oversize' }),
      );
      expect(performance.now() - started).toBeLessThan(3_000);
      expect(growth).toBeLessThan(32 * MB);
    });

    it(`${via}: a slow body (1 KiB/s) → REFUSE(timeout) within the deadline`, async () => {
      h.server.route(API, '/slow', async (_q, res) => {
        res.writeHead(402, { 'content-type': 'application/json' });
        res.write(prefix);
        await pump(res, Buffer.alloc(1024, 0x20), Number.POSITIVE_INFINITY, 1_000);
      });
      const c = h.client({ challengeTimeoutMs: 300 });
      const started = performance.now();
      await h.expectRefused(c, () => c.paidFetch(h.url('/slow')), { code: 'invalid_challenge', reason: 'timeout' });
      const elapsed = performance.now() - started;
      expect(elapsed).toBeGreaterThanOrEqual(290);
      expect(elapsed).toBeLessThan(300 + 400);
    });
  }

  it('v2: a valid header beside a never-ending body is read from the header, within time and bounded memory (ONE)', async () => {
    h.server.route(API, '/header-and-endless', paywall(async (_q, res) => {
      res.writeHead(402, { 'content-type': 'application/json', 'payment-required': Buffer.from(JSON.stringify(challenge('v2'))).toString('base64') });
      await pump(res, Buffer.alloc(16 * 1024, 0x20), Number.POSITIVE_INFINITY);
    }));
    const c = h.client();
    const growth = await rssGrowth(async () => {
      const res = await c.paidFetch(h.url('/header-and-endless'));
      expect(res.status).toBe(200);
      await res.text();
    });
    expect(growth).toBeLessThan(32 * MB);
    expectOneSignature(c, h, { to: PAY_TO, value: 10000n });
  });

  it('v2: a valid header beside a slow body is paid once the body deadline passes, not held forever', async () => {
    h.server.route(API, '/header-and-slow', paywall(async (_q, res) => {
      res.writeHead(402, { 'content-type': 'application/json', 'payment-required': b64(JSON.stringify(challenge('v2'))) });
      await pump(res, Buffer.from(' '), Number.POSITIVE_INFINITY, 1_000);
    }));
    const c = h.client({ challengeTimeoutMs: 200 });
    const started = performance.now();
    const res = await c.paidFetch(h.url('/header-and-slow'));
    expect(res.status).toBe(200);
    expect(performance.now() - started).toBeLessThan(2_000);
    expectOneSignature(c, h, { to: PAY_TO, value: 10000n });
  });

  it('v1: 100,000-deep nested JSON (200 KB, under a raised byte bound) → REFUSE(malformed) without recursion', async () => {
    const depth = 100_000;
    const text = `{"x402Version":1,"accepts":[${'['.repeat(depth)}${']'.repeat(depth)}]}`;
    h.server.route(API, '/deep', (_q, res) => send402body(res, text));
    const c = h.client({ maxChallengeBytes: 512 * 1024 });
    const e = await h.expectRefused(c, () => c.paidFetch(h.url('/deep')), { code: 'invalid_challenge', reason: 'malformed' });
    expect(e.issues[0].message).toMatch(/deeper than 32/);
  });

  it('v2: 5,000-deep nested JSON in the header → REFUSE(malformed)', async () => {
    const depth = 5_000;
    const text = JSON.stringify(challenge('v2')).replace('"accepts":', `"deep":${'['.repeat(depth)}${']'.repeat(depth)},"accepts":`);
    h.server.route(API, '/deep2', (_q, res) => send402Text('v2', res, text));
    const c = h.client();
    await h.expectRefused(c, () => c.paidFetch(h.url('/deep2')), { code: 'invalid_challenge', reason: 'malformed' });
  });
});

describe('A2 header overflow, bad base64, bad UTF-8', () => {
  it('v2: a 64 KB PAYMENT-REQUIRED header: the transport error passes through, nothing paid, nothing leaked', async () => {
    h.server.route(API, '/big-header', (_q, res) => {
      res.writeHead(402, { 'payment-required': 'A'.repeat(64 * 1024) });
      res.end('{}');
    });
    const c = h.client();
    const before = await snapshot(c);
    const error = await c.paidFetch(h.url('/big-header')).then(
      () => undefined,
      (e: unknown) => e,
    );
    // Not a 402 the SDK could read: the transport refused it, and the error passes through as a fetch error.
    expect(error).toBeInstanceOf(TypeError);
    expect(isX402Error(error)).toBe(false);
    expect(String((error as { cause?: { code?: string } }).cause?.code)).toMatch(/HEADERS_OVERFLOW|UND_ERR/);
    expect(c.signer.calls).toBe(0);
    expect(h.server.paymentHeaders()).toEqual([]);
    expect(await snapshot(c)).toEqual(before);
    expect(h.tripwire).toEqual([]);
  });

  it('v2: a base64url header (- and _) → REFUSE(malformed)', async () => {
    const required = challenge('v2', [requirement('v2', { extra: { name: 'USDC', version: '2', pad: '>>>???' } })]);
    const url = Buffer.from(JSON.stringify(required)).toString('base64url');
    expect(url).toMatch(/[-_]/);
    h.server.route(API, '/b64url', (_q, res) => void res.writeHead(402, { 'payment-required': url }).end('{}'));
    const c = h.client();
    await h.expectRefused(c, () => c.paidFetch(h.url('/b64url')), { code: 'invalid_challenge', reason: 'malformed' });
  });

  it('v2: invalid UTF-8 inside the base64 header → REFUSE(malformed)', async () => {
    const bytes = Buffer.concat([Buffer.from('{"x402Version":2,"error":"'), Buffer.from([0xc3, 0x28, 0xff]), Buffer.from('","accepts":[]}')]);
    h.server.route(API, '/utf8', (_q, res) => void res.writeHead(402, { 'payment-required': bytes.toString('base64') }).end('{}'));
    const c = h.client();
    const e = await h.expectRefused(c, () => c.paidFetch(h.url('/utf8')), { code: 'invalid_challenge', reason: 'malformed' });
    expect(e.issues[0].message).toMatch(/UTF-8/);
  });

  it('v1: invalid UTF-8 in the body → REFUSE(not_x402)', async () => {
    const bytes = Buffer.concat([Buffer.from('{"x402Version":1,"error":"'), Buffer.from([0xed, 0xa0, 0x80]), Buffer.from('","accepts":[]}')]);
    h.server.route(API, '/utf8b', (_q, res) => void res.writeHead(402, { 'content-type': 'application/json' }).end(bytes));
    const c = h.client();
    await h.expectRefused(c, () => c.paidFetch(h.url('/utf8b')), { code: 'invalid_challenge', reason: 'not_x402' });
  });

  it('v2: two PAYMENT-REQUIRED headers (different terms) → REFUSE(malformed), never "the first one"', async () => {
    const a = b64(JSON.stringify(challenge('v2')));
    const b = b64(JSON.stringify(challenge('v2', [requirement('v2', { payTo: EVIL })])));
    h.server.route(API, '/two', (_q, res) => {
      res.setHeader('payment-required', [a, b]);
      res.writeHead(402).end('{}');
    });
    const c = h.client();
    await h.expectRefused(c, () => c.paidFetch(h.url('/two')), { code: 'invalid_challenge', reason: 'malformed' });
  });
});

describe('A3 header and body disagree', () => {
  it('v2 header says 10000 to payTo A; v2 body says 1 to payTo B → REFUSE(ambiguous)', async () => {
    const header = challenge('v2');
    const body = challenge('v2', [requirement('v2', { amount: '1', payTo: EVIL })]);
    h.server.route(API, '/disagree', (_q, res) => send402v2(res, header, { body: JSON.stringify(body) }));
    const c = h.client();
    await h.expectRefused(c, () => c.paidFetch(h.url('/disagree')), { code: 'invalid_challenge', reason: 'ambiguous' });
  });

  it('v2 header beside a legacy v1 body naming another payee and amount → REFUSE(ambiguous)', async () => {
    const header = challenge('v2');
    const body = challenge('v1', [requirement('v1', { amount: '1', payTo: EVIL })]);
    h.server.route(API, '/disagree-v1', (_q, res) => send402v2(res, header, { body: JSON.stringify(body) }));
    const c = h.client();
    await h.expectRefused(c, () => c.paidFetch(h.url('/disagree-v1')), { code: 'invalid_challenge', reason: 'ambiguous' });
  });
});

describe('A4 number and string type confusion (strict schema, no coercion)', () => {
  const amounts: Array<[string, string]> = [
    ['""', '""'],
    ['"0x10"', '"0x10"'],
    ['" 7 "', '" 7 "'],
    ['"-5"', '"-5"'],
    ['"1e6"', '"1e6"'],
    ['"1.5"', '"1.5"'],
    ['"０１" (full-width digits)', '"０１"'],
    ['"007" (leading zeros)', '"007"'],
    ['1e6 (a JSON number)', '1e6'],
    ['2^256 (one over uint256)', `"${(2n ** 256n).toString()}"`],
    ['10^80', `"1${'0'.repeat(80)}"`],
  ];
  for (const version of VERSIONS) {
    for (const [label, raw] of amounts) {
      it(`${version}: ${AMOUNT[version]} = ${label} → REFUSE(malformed)`, async () => {
        const text = jsonWithRaw(challenge(version, [requirement(version, { amount: '@RAW@' })]), raw);
        h.server.route(API, '/amount', (_q, res) => send402Text(version, res, text));
        const c = h.client();
        const e = await h.expectRefused(c, () => c.paidFetch(h.url('/amount')), { code: 'invalid_challenge', reason: 'malformed' });
        expect(e.issues.map((i: { path: string }) => i.path)).toContain(`accepts.0.${AMOUNT[version]}`);
      });
    }
  }

  const timeouts: Array<[string, string]> = [
    ['1e309 (Infinity)', '1e309'],
    ['0.5', '0.5'],
    ['-1', '-1'],
    ['0', '0'],
    ['1e21', '1e21'],
    ['"60" (a string)', '"60"'],
  ];
  for (const version of VERSIONS) {
    for (const [label, raw] of timeouts) {
      it(`${version}: maxTimeoutSeconds = ${label} → REFUSE(malformed)`, async () => {
        const text = jsonWithRaw(challenge(version, [requirement(version, { maxTimeoutSeconds: '@RAW@' })]), raw);
        h.server.route(API, '/timeout', (_q, res) => send402Text(version, res, text));
        const c = h.client();
        const e = await h.expectRefused(c, () => c.paidFetch(h.url('/timeout')), { code: 'invalid_challenge', reason: 'malformed' });
        expect(e.issues.map((i: { path: string }) => i.path)).toContain('accepts.0.maxTimeoutSeconds');
      });
    }
  }

  it('v2: x402Version "2" (a string) → REFUSE(malformed)', async () => {
    const text = jsonWithRaw({ ...challenge('v2'), x402Version: '@RAW@' }, '"2"');
    h.server.route(API, '/version', (_q, res) => send402Text('v2', res, text));
    const c = h.client();
    await h.expectRefused(c, () => c.paidFetch(h.url('/version')), { code: 'invalid_challenge', reason: 'malformed' });
  });

  it('v1: x402Version "1" (a string) in the body → REFUSE(not_x402)', async () => {
    const text = jsonWithRaw({ ...challenge('v1'), x402Version: '@RAW@' }, '"1"');
    h.server.route(API, '/version1', (_q, res) => send402Text('v1', res, text));
    const c = h.client();
    await h.expectRefused(c, () => c.paidFetch(h.url('/version1')), { code: 'invalid_challenge', reason: 'not_x402' });
  });
});

describe('A5 duplicate keys and prototype pollution', () => {
  for (const version of VERSIONS) {
    it(`${version}: {"payTo":"0xALLOWED","payTo":"0xEVIL"} → REFUSE(ambiguous)`, async () => {
      const text = JSON.stringify(challenge(version)).replace(`"payTo":"${PAY_TO}"`, `"payTo":"${PAY_TO}","payTo":"${EVIL}"`);
      expect(text).toContain(EVIL);
      h.server.route(API, '/dup', (_q, res) => send402Text(version, res, text));
      const c = h.client();
      const e = await h.expectRefused(c, () => c.paidFetch(h.url('/dup')), { code: 'invalid_challenge', reason: 'ambiguous' });
      expect(e.issues[0].message).toMatch(/duplicate key "payTo"/);
    });

    it(`${version}: a "__proto__" key → REFUSE(malformed), no global prototype touched`, async () => {
      const text = JSON.stringify(challenge(version)).replace('"scheme":', '"__proto__":{"isAllowed":true,"payTo":"0xEVIL"},"scheme":');
      h.server.route(API, '/proto', (_q, res) => send402Text(version, res, text));
      const c = h.client();
      await h.expectRefused(c, () => c.paidFetch(h.url('/proto')), { code: 'invalid_challenge', reason: 'malformed' });
      expect(({} as Record<string, unknown>)['isAllowed']).toBeUndefined();
      expect(Object.prototype).not.toHaveProperty('isAllowed');
    });
  }

  it('v2: "constructor"/"prototype" keys are inert data: ONE, the signed `to` is the checked payTo, no prototype changed', async () => {
    const text = JSON.stringify(challenge('v2')).replace(
      '"scheme":',
      '"constructor":{"prototype":{"polluted":true,"payTo":"0xEVIL"}},"prototype":{"polluted":true},"scheme":',
    );
    h.server.route(API, '/ctor', paywall((_q, res) => send402Text('v2', res, text)));
    const c = h.client();
    const res = await c.paidFetch(h.url('/ctor'));
    expect(res.status).toBe(200);
    const header = expectOneSignature(c, h, { to: PAY_TO, value: 10000n });
    expect(decodePayment(header).payload.authorization.to).toBe(PAY_TO);
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
    expect(Object.prototype).not.toHaveProperty('polluted');
  });
});

describe('A6 check/sign TOCTOU', () => {
  it('an approve hook that tries to mutate the quote cannot change what is signed', async () => {
    h.server.route(API, '/toctou', paywall((_q, res) => send402('v2', res, challenge('v2'))));
    const c = h.client({
      budget: {
        approve: (quote) => {
          const q = quote as unknown as Record<string, any>;
          for (const mutate of [
            () => (q['amount'] = 1n),
            () => (q['payTo'] = EVIL),
            () => (q['option']['wire']['payTo'] = EVIL),
            () => (q['option']['wire']['amount'] = '999999999'),
            () => (q['option']['extra']['name'] = 'Evil'),
          ]) {
            try {
              mutate();
            } catch {
              // Frozen: as it must be.
            }
          }
          return true;
        },
      },
    });
    const res = await c.paidFetch(h.url('/toctou'));
    expect(res.status).toBe(200);
    const header = decodePayment(expectOneSignature(c, h, { to: PAY_TO, value: 10000n }));
    expect(header.accepted.payTo).toBe(PAY_TO);
    expect(header.accepted.amount).toBe('10000');
  });

  for (const order of ['cheap-disallowed first', 'expensive-allowed first'] as const) {
    it(`accepts = [cheap on a disallowed chain, over-cap on the allowed chain] (${order}) → REFUSE(budget_exceeded)`, async () => {
      const cheap = requirementV2({ network: 'eip155:8453', asset: BASE_USDC, amount: '1', extra: { name: 'USD Coin', version: '2' } });
      const dear = requirementV2({ amount: '5000000' });
      const accepts = order === 'cheap-disallowed first' ? [cheap, dear] : [dear, cheap];
      h.server.route(API, '/order', (_q, res) => send402('v2', res, challenge('v2', accepts)));
      const c = h.client({ budget: { networks: { allow: ['eip155:84532'] } } });
      await h.expectRefused(c, () => c.paidFetch(h.url('/order')), { code: 'budget_exceeded' });
    });
  }
});

describe('A7 unknown scheme or version', () => {
  for (const version of VERSIONS) {
    for (const scheme of ['upto', 'batch-settlement'] as const) {
      it(`${version}: scheme "${scheme}" with a huge max → REFUSE(no_acceptable_option / unsupported_scheme)`, async () => {
        h.server.route(API, '/scheme', (_q, res) => send402(version, res, challenge(version, [requirement(version, { scheme, amount: '1000000000000' })])));
        const c = h.client();
        await h.expectRefused(c, () => c.paidFetch(h.url('/scheme')), { code: 'no_acceptable_option', refusal: 'unsupported_scheme' });
      });
    }
  }

  it('v2 header with x402Version 3 → REFUSE(unsupported_version)', async () => {
    h.server.route(API, '/v3', (_q, res) => send402v2(res, { ...challenge('v2'), x402Version: 3 }));
    const c = h.client();
    await h.expectRefused(c, () => c.paidFetch(h.url('/v3')), { code: 'unsupported_version' });
  });

  it('a v1 downgrade when only v2 is enabled → REFUSE(unsupported_version)', async () => {
    h.server.route(API, '/downgrade', (_q, res) => send402body(res, challenge('v1')));
    const c = h.client({ versions: [2] });
    await h.expectRefused(c, () => c.paidFetch(h.url('/downgrade')), { code: 'unsupported_version' });
  });
});

describe('A8 accepts flood', () => {
  for (const version of VERSIONS) {
    it(`${version}: a 10,000-entry accepts → REFUSE(malformed), in bounded time`, async () => {
      const flood = `{"x402Version":${version === 'v1' ? 1 : 2},"resource":{"url":"x"},"accepts":[${Array(10_000).fill('{}').join(',')}]}`;
      h.server.route(API, '/flood', (_q, res) => send402body(res, flood));
      const c = h.client();
      const started = performance.now();
      const e = await h.expectRefused(c, () => c.paidFetch(h.url('/flood')), { code: 'invalid_challenge', reason: 'malformed' });
      expect(performance.now() - started).toBeLessThan(2_000);
      expect(e.issues.length).toBeLessThanOrEqual(50);
    });
  }

  it('v2: 33 valid entries (one over the cap of 32) in the header → REFUSE(malformed)', async () => {
    const accepts = Array.from({ length: 33 }, (_, i) => requirement('v2', { amount: String(10000 + i) }));
    h.server.route(API, '/33', (_q, res) => send402('v2', res, challenge('v2', accepts)));
    const c = h.client();
    await h.expectRefused(c, () => c.paidFetch(h.url('/33')), { code: 'invalid_challenge', reason: 'malformed' });
  });

  for (const version of VERSIONS) {
    it(`${version}: 10 identical entries → ONE payment, not ten`, async () => {
      const accepts = Array.from({ length: 10 }, () => requirement(version));
      h.server.route(API, '/ten', paywall((_q, res) => send402(version, res, challenge(version, accepts))));
      const c = h.client();
      const res = await c.paidFetch(h.url('/ten'));
      expect(res.status).toBe(200);
      expectOneSignature(c, h, { to: PAY_TO, value: 10000n });
    });
  }
});
