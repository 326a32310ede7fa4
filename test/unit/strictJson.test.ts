/**
 * The strict JSON parser against `JSON.parse` on a table of edge cases (numbers, escapes,
 * whitespace, truncations), plus what only it refuses (repeated keys, `__proto__`, depth) and the
 * message of each syntax error. The fuzz suite compares them on random input; this table makes
 * sure the cases that matter are always there.
 */
import { describe, expect, it } from 'vitest';
import { MAX_JSON_DEPTH, parseStrictJson } from '../../src/internal/strictJson.js';

/** What `JSON.parse` makes of `text`: its value, or undefined when it throws. */
function oracle(text: string): { ok: true; value: unknown } | { ok: false } {
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch {
    return { ok: false };
  }
}

const VALID = [
  '0', '-0', '7', '-7', '10', '1234567890', '0.5', '-0.5', '1.25', '10.125', '1e5', '1E5', '1e+5', '1e-5', '-1.5e-3', '12e0', '1.0e10', '9007199254740993',
  '""', '"a"', '"\\""', '"\\\\"', '"\\/"', '"\\b"', '"\\f"', '"\\n"', '"\\r"', '"\\t"', '"\\u0041"', '"\\u00e9"', '"\\u00E9"', '"\\ud83d\\ude00"', '"a\\nb\\tc"', '"é😀"', '"\\u0000"',
  'true', 'false', 'null', '[]', '{}', '[ ]', '{ }', '[1,2,3]', '[1, [2, [3]]]', '{"a":1}', '{"a":{"b":[true,false,null]}}', '{"":0}', '{"a":1,"b":2}',
  ' 1 ', '\t1\n', '\r\n[\r\n1\r\n]\r\n', '{ "a" : 1 , "b" : [ 1 , 2 ] }', '["a","b"]', '{"constructor":1,"toString":2}',
];

const INVALID = [
  '', ' ', '01', '-', '+1', '.5', '1.', '1.e5', '1e', '1e+', '-a', '0x10', 'NaN', 'Infinity', '1 2', '00', '-01', '1.5.5', '1ee5', '1e5.5',
  '"', '"abc', '"\\x41"', '"\\u12"', '"\\u12G4"', '"\\uGGGG"', '"\\', '"\\q"', '"a\nb"', '"\t"', "'a'",
  'tru', 'True', 'nul', 'falsey', 'nullx', '[', ']', '[1', '[1,', '[1,]', '[,1]', '[1 2]', '{', '}', '{"a"', '{"a":', '{"a":1', '{"a":1,}', '{a:1}', '{"a" 1}', '{"a":1 "b":2}', '{,}', '{"a":1}}', '[]]', '{}x', '1 // c',
  '\u00a01', '\u20281',
];

describe('agrees with JSON.parse', () => {
  it.each(VALID)('accepts %j with the same value', (text) => {
    const expected = oracle(text);
    expect(expected.ok).toBe(true);
    const result = parseStrictJson(text);
    expect(result).toMatchObject({ ok: true });
    expect(JSON.stringify((result as { value: unknown }).value)).toBe(JSON.stringify((expected as { value: unknown }).value));
    if (typeof (expected as { value: unknown }).value === 'number') expect(Object.is((result as { value: unknown }).value, (expected as { value: unknown }).value)).toBe(true);
  });

  it.each(INVALID)('refuses %j as not JSON', (text) => {
    expect(oracle(text).ok).toBe(false);
    const result = parseStrictJson(text);
    expect(result).toMatchObject({ ok: false, failure: 'json' });
  });
});

describe('what only the strict parser refuses', () => {
  it('a key repeated in one object, wherever it is, naming the key and the path', () => {
    expect(parseStrictJson('{"a":1,"a":1}')).toEqual({ ok: false, failure: 'duplicate', message: 'duplicate key "a" at $' });
    expect(parseStrictJson('{"x":{"b":[{"c":1,"c":2}]}}')).toEqual({ ok: false, failure: 'duplicate', message: 'duplicate key "c" at $.x.b.0' });
    // The same key in two objects is fine; a key equal after unescaping is the same key.
    expect(parseStrictJson('[{"a":1},{"a":2}]')).toMatchObject({ ok: true });
    expect(parseStrictJson('{"a":1,"\\u0061":2}')).toMatchObject({ ok: false, failure: 'duplicate' });
    // Keys that name Object.prototype members are plain keys, not duplicates.
    expect(parseStrictJson('{"hasOwnProperty":1,"valueOf":2}')).toMatchObject({ ok: true });
  });

  it('a __proto__ key, also when escaped, and objects have no prototype', () => {
    expect(parseStrictJson('{"a":{"__proto__":{"x":1}}}')).toEqual({ ok: false, failure: 'forbidden_key', message: 'key "__proto__" at $.a' });
    expect(parseStrictJson('{"\\u005f_proto__":1}')).toMatchObject({ ok: false, failure: 'forbidden_key' });
    const parsed = parseStrictJson('{"a":{}}') as { ok: true; value: Record<string, unknown> };
    expect(Object.getPrototypeOf(parsed.value)).toBe(null);
    expect(Object.getPrototypeOf(parsed.value['a'])).toBe(null);
  });

  it(`nesting: ${MAX_JSON_DEPTH} levels read, one more refused (objects and arrays alike)`, () => {
    const arrays = (d: number) => `${'['.repeat(d)}${']'.repeat(d)}`;
    const objects = (d: number) => `${'{"k":'.repeat(d - 1)}{}${'}'.repeat(d - 1)}`;
    expect(parseStrictJson(arrays(MAX_JSON_DEPTH))).toMatchObject({ ok: true });
    expect(parseStrictJson(objects(MAX_JSON_DEPTH))).toMatchObject({ ok: true });
    expect(parseStrictJson(arrays(MAX_JSON_DEPTH + 1))).toMatchObject({ ok: false, failure: 'depth', message: `nesting deeper than ${MAX_JSON_DEPTH} at $${'.0'.repeat(MAX_JSON_DEPTH)}` });
    expect(parseStrictJson(objects(MAX_JSON_DEPTH + 1))).toMatchObject({ ok: false, failure: 'depth', message: `nesting deeper than ${MAX_JSON_DEPTH} at $${'.k'.repeat(MAX_JSON_DEPTH)}` });
    expect(parseStrictJson('[[1]]', 1)).toMatchObject({ ok: false, failure: 'depth' });
    expect(parseStrictJson('[1]', 1)).toMatchObject({ ok: true });
    expect(parseStrictJson('1', 0)).toMatchObject({ ok: true });
  });

  it('long keys are cut to 40 characters in paths and messages', () => {
    const key = 'k'.repeat(60);
    expect(parseStrictJson(`{"${key}":1,"${key}":2}`)).toMatchObject({ message: `duplicate key "${'k'.repeat(40)}" at $` });
    expect(parseStrictJson(`{"${key}":{"a":1,"a":2}}`)).toMatchObject({ message: `duplicate key "a" at $.${'k'.repeat(40)}` });
  });
});

describe('syntax errors say what and where', () => {
  const cases: Array<[string, string]> = [
    ['', 'unexpected end at position 0'],
    ['"abc', 'unterminated string at position 4'],
    ['"a\u0001"', 'control character in string at position 2'],
    ['"\\u12G4"', 'bad \\u escape at position 8'],
    ['"\\q"', 'bad escape at position 4'],
    ['{1:2}', 'expected a key at position 1'],
    ['{"a" 1}', 'expected ":" at position 5'],
    ['{"a":1 "b":2}', 'expected "," or "}" at position 7'],
    ['[1 2]', 'expected "," or "]" at position 3'],
    ['[1,', 'unexpected end at position 3'],
    ['@', 'unexpected character at position 0'],
    ['1 2', 'unexpected data after the value at position 2'],
  ];
  it.each(cases)('%j → %s', (text, message) => {
    const result = parseStrictJson(text) as { ok: false; message: string };
    expect(result.ok).toBe(false);
    expect(result.message).toBe(message);
  });
});
