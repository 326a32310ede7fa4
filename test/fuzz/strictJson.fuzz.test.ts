/**
 * Differential fuzzing of the strict JSON parser (the first step of both challenge parsers)
 * against JSON.parse: on text without duplicate or `__proto__` keys and nested at most 32 deep
 * it must give the same value; on anything else it must refuse; it never throws.
 */
import { isDeepStrictEqual } from 'node:util';
import fc from 'fast-check';
import { describe, it } from 'vitest';
import { MAX_JSON_DEPTH, parseStrictJson } from '../../src/internal/strictJson.js';
import { useFuzzStats } from './fuzzStats.js';

const stats = useFuzzStats('strictJson');

/** Plain copy (null-prototype objects → ordinary ones) for comparing with JSON.parse. */
function plain(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(plain);
  if (typeof value === 'object' && value !== null) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, plain(v)]));
  return value;
}

function depthOf(value: unknown): number {
  if (typeof value !== 'object' || value === null) return 0;
  return 1 + Math.max(0, ...Object.values(value).map(depthOf));
}

function check(text: string): void {
  stats.count();
  const strict = parseStrictJson(text);
  let reference: { ok: true; value: unknown } | { ok: false };
  try {
    reference = { ok: true, value: JSON.parse(text) as unknown };
  } catch {
    reference = { ok: false };
  }
  // Plain checks in the hot loop (expect() is slow); a failure throws and fast-check shrinks it.
  if (!reference.ok) {
    if (strict.ok) throw new Error(`accepted what JSON.parse refuses: ${JSON.stringify(text)}`);
    return;
  }
  if (strict.ok) {
    if (!isDeepStrictEqual(plain(strict.value), reference.value)) throw new Error(`differs from JSON.parse: ${JSON.stringify(text)}`);
    // Objects from the strict parser never have a prototype.
    const stack: unknown[] = [strict.value];
    while (stack.length > 0) {
      const v = stack.pop();
      if (typeof v === 'object' && v !== null) {
        if (!Array.isArray(v) && Object.getPrototypeOf(v) !== null) throw new Error('an object with a prototype');
        stack.push(...Object.values(v));
      }
    }
  } else if (!['duplicate', 'depth', 'forbidden_key'].includes(strict.failure)) {
    // Valid JSON is refused only for one of the three strict rules.
    throw new Error(`refused valid JSON as ${strict.failure}: ${JSON.stringify(text)}`);
  } else if (strict.failure === 'depth' && depthOf(reference.value) <= MAX_JSON_DEPTH) {
    throw new Error('refused as too deep');
  }
}

describe('parseStrictJson vs JSON.parse', { timeout: 120_000 }, () => {
  it('agrees on generated JSON values (no duplicate keys by construction)', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 6 }), fc.boolean(), (value, pretty) => {
        const text = JSON.stringify(value, null, pretty ? 2 : undefined);
        check(text);
        const strict = parseStrictJson(text);
        if (!strict.ok && strict.failure !== 'forbidden_key') throw new Error(`refused ${text}`);
      }),
      stats.params(12_000),
    );
  });

  it('never throws on arbitrary text and agrees with JSON.parse on what is JSON', () => {
    fc.assert(fc.property(fc.string({ unit: 'binary', maxLength: 200 }), check), stats.params(8_000));
  });

  it('never throws on mutated JSON (cut, spliced, characters swapped)', () => {
    const mutated = fc
      .tuple(fc.json({ maxDepth: 4 }), fc.nat(), fc.nat(), fc.constantFrom('"', '{', '}', '[', ']', ',', ':', '\\', '\\u', '1e999', '-', '0', ' ', '\u0000', 'true', 'nul'))
      .map(([text, at, cut, insert]) => {
        const i = at % (text.length + 1);
        return text.slice(0, i) + insert + text.slice(i + (cut % 3));
      });
    fc.assert(fc.property(mutated, check), stats.params(8_000));
  });

  it('refuses every duplicate key, wherever it is', () => {
    const arb = fc
      .tuple(fc.dictionary(fc.string({ maxLength: 6 }), fc.jsonValue({ maxDepth: 2 }), { minKeys: 1, maxKeys: 6 }), fc.nat(), fc.jsonValue({ maxDepth: 2 }), fc.nat({ max: 3 }))
      .map(([object, pick, other, wrap]) => {
        const keys = Object.keys(object);
        const key = keys[pick % keys.length]!;
        let text = JSON.stringify(object).replace(/}$/, () => `,${JSON.stringify(key)}:${JSON.stringify(other)}}`);
        for (let i = 0; i < wrap; i++) text = `{"w${i}":[${text}]}`;
        return { text, key };
      });
    fc.assert(
      fc.property(arb, ({ text, key }) => {
        stats.count();
        const strict = parseStrictJson(text);
        // A __proto__ key anywhere (also inside a generated value) may be met before the duplicate.
        const allowed = key === '__proto__' ? ['forbidden_key'] : text.includes('"__proto__"') ? ['duplicate', 'forbidden_key'] : ['duplicate'];
        if (strict.ok || !allowed.includes(strict.failure)) throw new Error(`expected ${allowed.join(' or ')} for ${text}`);
      }),
      stats.params(4_000),
    );
  });
});
