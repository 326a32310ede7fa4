/**
 * Fuzzing the v2 header parser (`PAYMENT-REQUIRED`: strict base64 → fatal UTF-8 → strict JSON →
 * schema): raw header strings, base64 of raw bytes, base64 of random JSON, structure-aware
 * mutations judged by the schema oracle, text-level attacks, and header/body combinations.
 * 0 crashes, 0 untyped errors, every accepted challenge within its invariants.
 */
import fc from 'fast-check';
import { describe, it } from 'vitest';
import { challengeIsValid, mutatedChallenge, textAttack, validChallenge, wire } from './arbitraries.js';
import { parse, parseParts, utf8 } from './challengeParsers.shared.js';
import { useFuzzStats } from './fuzzStats.js';

const stats = useFuzzStats('v2 header parser');
const EMPTY = new Uint8Array(0);
const b64 = (text: string | Uint8Array) => Buffer.from(text).toString('base64');

describe('v2 header parser', { timeout: 120_000 }, () => {
  it('raw header strings (any characters): never crashes, never accepts', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ maxLength: 200 }), fc.string({ unit: 'binary', maxLength: 100 }), fc.base64String({ maxLength: 200 })), (header) => {
        stats.count();
        if (parseParts(header, EMPTY).ok) throw new Error(`accepted ${JSON.stringify(header)}`);
      }),
      stats.params(8_000),
    );
  });

  it('base64 of raw bytes and of random JSON: accepted only when the oracle says valid', () => {
    const header = fc.oneof(
      fc.uint8Array({ maxLength: 300 }).map((bytes) => ({ header: b64(bytes), value: undefined as unknown })),
      fc.jsonValue({ maxDepth: 4 }).map((value) => ({ header: b64(JSON.stringify(value)), value })),
    );
    fc.assert(
      fc.property(header, ({ header: h, value }) => {
        stats.count();
        const result = parseParts(h, EMPTY);
        if (result.ok && !(value !== undefined && (challengeIsValid(2, value) || challengeIsValid(1, value)))) throw new Error('accepted an invalid header');
      }),
      stats.params(8_000),
    );
  });

  it('valid challenges are accepted; base64url, line breaks, missing padding or inner spaces are refused', () => {
    fc.assert(
      fc.property(validChallenge(2), fc.constantFrom('none', 'url', 'newline', 'unpadded', 'space'), (value, damage) => {
        stats.count();
        let header = b64(JSON.stringify(value));
        if (damage === 'url') header = header.replaceAll('+', '-').replaceAll('/', '_') + (header.includes('+') || header.includes('/') ? '' : '-');
        if (damage === 'newline') header = `${header.slice(0, 8)}\n${header.slice(8)}`;
        if (damage === 'unpadded') header = header.endsWith('=') ? header.replace(/=+$/, '') : `${header}A`;
        if (damage === 'space') header = `${header.slice(0, 8)} ${header.slice(8)}`;
        const result = parseParts(header, EMPTY);
        if (damage === 'none' && !result.ok) throw new Error(`refused a valid challenge: ${result.reason}`);
        if (damage !== 'none' && result.ok) throw new Error(`accepted a ${damage} header`);
      }),
      stats.params(4_000),
    );
  });

  it('one field replaced by a hostile value: accepted exactly when the oracle says valid', () => {
    fc.assert(
      fc.property(mutatedChallenge(2), ({ value, where }) => {
        stats.count();
        const result = parseParts(b64(JSON.stringify(value)), EMPTY);
        const valid = challengeIsValid(2, wire(value));
        if (result.ok !== valid) throw new Error(`${where}: parser says ${result.ok ? 'valid' : 'invalid'}, oracle ${valid ? 'valid' : 'invalid'}`);
      }),
      stats.params(12_000),
    );
  });

  it('duplicate keys, __proto__ keys, deep nesting and truncation are always refused', () => {
    fc.assert(
      fc.property(textAttack(2), ({ text, attack }) => {
        stats.count();
        const result = parseParts(b64(text), EMPTY);
        if (result.ok) throw new Error(`accepted a ${attack} attack`);
        if (attack === 'duplicate' && result.reason !== 'ambiguous') throw new Error('a duplicate key must be ambiguous');
      }),
      stats.params(4_000),
    );
  });

  it('header and body: a v2 body that differs from the header, or a body with a duplicate key, is refused', () => {
    fc.assert(
      fc.property(validChallenge(2), validChallenge(2), fc.boolean(), (header, other, duplicate) => {
        stats.count();
        const same = JSON.stringify(header) === JSON.stringify(other);
        let body = JSON.stringify(other);
        if (duplicate) body = body.replace('"x402Version":2', '"x402Version":2,"x402Version":2');
        const result = parseParts(b64(JSON.stringify(header)), utf8(body));
        if (duplicate || !same) {
          if (result.ok) throw new Error('accepted a header contradicted by its body');
          if (result.reason !== 'ambiguous') throw new Error(`expected ambiguous, got ${result.reason}`);
        } else if (!result.ok) throw new Error('refused a header with an identical body');
      }),
      stats.params(2_000),
    );
  });

  it('through readChallenge with real Headers: mutated challenges', async () => {
    await fc.assert(
      fc.asyncProperty(mutatedChallenge(2), async ({ value }) => {
        stats.count();
        const response = new Response('{}', { status: 402, headers: { 'payment-required': b64(JSON.stringify(value)) } });
        const result = await parse(response);
        if (result.ok !== challengeIsValid(2, wire(value))) throw new Error('readChallenge disagrees with the oracle');
      }),
      stats.params(3_000),
    );
  });
});
