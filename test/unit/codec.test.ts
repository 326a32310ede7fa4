import { describe, expect, it, vi } from 'vitest';
import { getPayment, wrapFetch } from '../../src/index.js';
import { decodeBase64Json, encodeBase64Json, parseJsonBytes } from '../../src/protocol/codec.js';
import { challengeV2, paywall, useMswServer } from '../support/msw.js';
import {
  decodeHeader,
  paymentRequiredV2,
  requirementV2,
  V2_HEADER,
  V2_JSON,
  V3_JSON,
  V4_FAILURE_HEADER,
  V4_FAILURE_JSON,
  V4_SUCCESS_HEADER,
  V4_SUCCESS_JSON,
} from '../support/challenges.js';
import { countingSigner } from '../support/signers.js';

const server = useMswServer();
const URL_ = 'https://api.example.com/premium-data';

function decoded(text: string, max = 1 << 20): unknown {
  const result = decodeBase64Json(text, max);
  if (!result.ok) throw new Error(`decode failed: ${result.failure}: ${result.message}`);
  return result.value;
}

describe('PROTOCOL §9 vectors round-trip exactly', () => {
  it('V2: encoding the documented JSON gives the documented header (584 chars, no padding)', () => {
    const encoded = encodeBase64Json(JSON.parse(V2_JSON));
    expect(encoded).toBe(V2_HEADER);
    expect(encoded).toHaveLength(584);
    expect(encoded).not.toContain('=');
  });

  it('V2: decoding the header gives the documented JSON, key order kept', () => {
    const value = decoded(V2_HEADER);
    expect(value).toEqual(JSON.parse(V2_JSON));
    expect(JSON.stringify(value)).toBe(V2_JSON);
  });

  it('V3: the PAYMENT-SIGNATURE example is 1088 characters and round-trips', () => {
    const encoded = encodeBase64Json(JSON.parse(V3_JSON));
    expect(encoded).toHaveLength(1088);
    expect(Buffer.from(encoded, 'base64').toString('utf8')).toBe(V3_JSON);
    expect(JSON.stringify(decoded(encoded))).toBe(V3_JSON);
    expect(encodeBase64Json(decoded(encoded))).toBe(encoded);
  });

  it('V3 in the v1 shape: the X-PAYMENT example is 648 characters', () => {
    const v3 = JSON.parse(V3_JSON);
    const encoded = encodeBase64Json({ x402Version: 1, scheme: 'exact', network: 'base-sepolia', payload: v3.payload });
    expect(encoded).toHaveLength(648);
  });

  it('V4 success: JSON ↔ header', () => {
    expect(encodeBase64Json(JSON.parse(V4_SUCCESS_JSON))).toBe(V4_SUCCESS_HEADER);
    expect(JSON.stringify(decoded(V4_SUCCESS_HEADER))).toBe(V4_SUCCESS_JSON);
  });

  it('V4 failure: JSON ↔ header', () => {
    expect(encodeBase64Json(JSON.parse(V4_FAILURE_JSON))).toBe(V4_FAILURE_HEADER);
    expect(JSON.stringify(decoded(V4_FAILURE_HEADER))).toBe(V4_FAILURE_JSON);
  });

  it('V4 v1 variants differ only by network', () => {
    const v1 = encodeBase64Json({ ...JSON.parse(V4_SUCCESS_JSON), network: 'base-sepolia' });
    expect(decoded(v1)).toEqual({ ...JSON.parse(V4_SUCCESS_JSON), network: 'base-sepolia' });
  });
});

describe('encoding', () => {
  it('is standard base64 (+ and /, = padding), identical to Buffer over UTF-8', () => {
    for (const value of [{ a: '>>>???' }, { b: 'x' }, { c: 'xy' }, [1, 2, 3], 'plain', 42, null, { nested: { deep: [true, false] } }]) {
      const encoded = encodeBase64Json(value);
      expect(encoded).toBe(Buffer.from(JSON.stringify(value), 'utf8').toString('base64'));
      expect(encoded.length % 4).toBe(0);
      expect(encoded).toMatch(/^[A-Za-z0-9+/]*={0,2}$/);
    }
    expect(encodeBase64Json({ a: '>>>???' })).toMatch(/[+/]/);
  });

  it('is UTF-8 safe: non-Latin-1 text round-trips', () => {
    const value = { description: 'Données météo — 東京 — Ωmega — emoji 💸🚀 — \u0000 nul — "quotes" \\ backslash', list: ['ü', 'ß', '日本'] };
    const encoded = encodeBase64Json(value);
    expect(encoded).toBe(Buffer.from(JSON.stringify(value), 'utf8').toString('base64'));
    expect(decoded(encoded)).toEqual(value);
  });

  it('large values with multi-byte characters across the internal chunk boundary', () => {
    const value = { text: `${'a'.repeat(0x8000 - 13)}€💸${'日本'.repeat(20_000)}` };
    const encoded = encodeBase64Json(value);
    expect(encoded).toBe(Buffer.from(JSON.stringify(value), 'utf8').toString('base64'));
    expect(decoded(encoded)).toEqual(value);
  });

  it('drops undefined fields, as JSON.stringify does', () => {
    expect(decoded(encodeBase64Json({ a: 1, b: undefined }))).toEqual({ a: 1 });
  });
});

describe('strict decoding', () => {
  const valid = encodeBase64Json({ a: '>>>???', b: 'x' });

  const cases: [string, string, string][] = [
    ['base64url alphabet', valid.replace(/\+/g, '-').replace(/\//g, '_'), 'base64'],
    ['a space inside', `${valid.slice(0, 4)} ${valid.slice(4)}`, 'base64'],
    ['a line break inside', `${valid.slice(0, 4)}\n${valid.slice(4)}`, 'base64'],
    ['leading whitespace', ` ${valid}`, 'base64'],
    ['missing padding', valid.replace(/=+$/, ''), 'base64'],
    ['three = signs', `${valid.replace(/=+$/, '')}===`, 'base64'],
    ['= in the middle', `${valid.slice(0, 4)}==${valid.slice(6)}`, 'base64'],
    ['empty', '', 'base64'],
    ['invalid UTF-8', Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xff, 0x22, 0x7d]).toString('base64'), 'utf8'],
    ['a lone surrogate encoded in UTF-8 (CESU)', Buffer.from([0x22, 0xed, 0xa0, 0x80, 0x22]).toString('base64'), 'utf8'],
    ['invalid JSON', Buffer.from('{"a":').toString('base64'), 'json'],
    ['JSON with a trailing comma', Buffer.from('{"a":1,}').toString('base64'), 'json'],
    ['single quotes', Buffer.from("{'a':1}").toString('base64'), 'json'],
  ];
  it('fixture has padding and + or /', () => {
    expect(valid).toMatch(/=$/);
    expect(valid).toMatch(/[+/]/);
  });
  for (const [label, text, failure] of cases) {
    it(`${label} → ${failure}`, () => {
      const result = decodeBase64Json(text, 1 << 20);
      expect(result.ok).toBe(false);
      if (!result.ok) {
        expect(result.failure).toBe(failure);
        expect(result.message.length).toBeGreaterThan(0);
      }
    });
  }

  it('the size bound is on the decoded bytes', () => {
    const value = { pad: 'x'.repeat(1000) };
    const encoded = encodeBase64Json(value);
    const bytes = Buffer.byteLength(JSON.stringify(value));
    expect(decodeBase64Json(encoded, bytes).ok).toBe(true);
    const small = decodeBase64Json(encoded, bytes - 10);
    expect(small.ok).toBe(false);
    if (!small.ok) expect(small.failure).toBe('size');
  });

  it('parseJsonBytes decodes UTF-8 fatally', () => {
    expect(parseJsonBytes(new TextEncoder().encode('{"é":"ü"}'))).toEqual({ ok: true, value: { é: 'ü' } });
    const bad = parseJsonBytes(new Uint8Array([0x22, 0xc3, 0x22]));
    expect(bad.ok).toBe(false);
    if (!bad.ok) expect(bad.failure).toBe('utf8');
  });
});

describe('UTF-8 on the wire', () => {
  it('a challenge with non-Latin-1 text in description is read and echoed intact', async () => {
    const resource = { url: URL_, description: 'Météo à Zürich — 東京の天気 — 💸 pay per call', mimeType: 'application/json' };
    const required = paymentRequiredV2([requirementV2()], {
      resource,
      error: 'Paiement requis — 支払いが必要です',
      extensions: { note: { text: 'Ωmega ✓' } },
    });
    const p = paywall({ url: URL_, challenge: () => challengeV2(required) });
    server.use(p.handler);
    const res = await wrapFetch(fetch, countingSigner())(URL_);
    expect(res.status).toBe(200);
    const header = p.paid()[0]!.headers['payment-signature']!;
    expect(header).toMatch(/^[A-Za-z0-9+/]*={0,2}$/);
    const payment = decodeHeader(header);
    expect(payment.resource).toEqual(resource);
    expect(payment.extensions).toEqual({ note: { text: 'Ωmega ✓' } });
    expect(getPayment(res)?.status).toBe('unknown');
  });
});

describe('without Node Buffer (the browser path: TextEncoder, btoa, atob)', () => {
  it('encodes and decodes the same bytes as the Buffer path', async () => {
    vi.resetModules();
    vi.stubGlobal('Buffer', undefined);
    try {
      const browser = await import('../../src/protocol/codec.js');
      const values = [{ a: '>>>???' }, { text: `${'a'.repeat(0x8000 - 13)}€💸${'日本'.repeat(2_000)}` }, V3_JSON];
      for (const value of values) {
        const encoded = browser.encodeBase64Json(value);
        expect(encoded).toBe(encodeBase64Json(value));
        expect(browser.decodeBase64Json(encoded, 1 << 20)).toEqual(decodeBase64Json(encoded, 1 << 20));
      }
      expect(browser.decodeBase64Json('AAA', 100)).toMatchObject({ ok: false, failure: 'base64' });
      expect(browser.decodeBase64Json('/w==', 100)).toMatchObject({ ok: false, failure: 'utf8' });
    } finally {
      vi.unstubAllGlobals();
      vi.resetModules();
    }
  });
});

describe('edges of strict decoding', () => {
  it('the size bound admits a value of exactly maxBytes, whatever its padding', () => {
    for (const pad of ['', 'x', 'xx']) {
      const value = { p: pad };
      const size = Buffer.byteLength(JSON.stringify(value));
      const encoded = encodeBase64Json(value);
      expect(decodeBase64Json(encoded, size)).toEqual({ ok: true, value });
      expect(decodeBase64Json(encoded, size - 3)).toMatchObject({ ok: false, failure: 'size', message: `decodes to more than ${size - 3} bytes` });
    }
  });

  it('the whole value must be base64, not only its start or its end', () => {
    const valid = encodeBase64Json({ a: 1 });
    expect(valid.length % 4).toBe(0);
    expect(decodeBase64Json(`....${valid}`, 1 << 20)).toMatchObject({ ok: false, failure: 'base64', message: 'not standard padded base64 (RFC 4648 §4)' });
    expect(decodeBase64Json(`${valid}....`, 1 << 20)).toMatchObject({ ok: false, failure: 'base64' });
  });

  it('refusals say why: not JSON, ambiguous JSON, refused JSON, each with the parser’s reason (at most 100 characters)', () => {
    const at = (text: string) => parseJsonBytes(new TextEncoder().encode(text));
    expect(at('{"a":')).toEqual({ ok: false, failure: 'json', message: 'not valid JSON (unexpected end at position 5)' });
    expect(at('{"a":1,"a":2}')).toEqual({ ok: false, failure: 'duplicate', message: 'ambiguous JSON (duplicate key "a" at $)' });
    expect(at('{"__proto__":1}')).toEqual({ ok: false, failure: 'forbidden_key', message: 'refused JSON (key "__proto__" at $)' });
    const deep = at(`${'{"abcdefghij":'.repeat(40)}1${'}'.repeat(40)}`);
    expect(deep).toMatchObject({ ok: false, failure: 'depth' });
    expect((deep as { message: string }).message).toMatch(/^refused JSON \(nesting deeper than 32 at \$\.abcdefghij/);
    expect((deep as { message: string }).message.length).toBe('refused JSON ()'.length + 100);
  });

  it('a UTF-8 byte order mark before the JSON is dropped, as a UTF-8 decoder does', () => {
    expect(parseJsonBytes(new Uint8Array([0xef, 0xbb, 0xbf, ...new TextEncoder().encode('{"a":1}')]))).toEqual({ ok: true, value: { a: 1 } });
  });
});
