/** Deepest nesting of arrays and objects a challenge may have (THREATS A1: depth ≤ 32). */
export const MAX_JSON_DEPTH = 32;

/** Why {@link parseStrictJson} refused a text. */
export type StrictJsonFailure = 'json' | 'duplicate' | 'depth' | 'forbidden_key';

/** The result of {@link parseStrictJson}. */
export type StrictJsonResult = { ok: true; value: unknown } | { ok: false; failure: StrictJsonFailure; message: string };

class Refusal {
  constructor(
    readonly failure: StrictJsonFailure,
    readonly message: string,
  ) {}
}

const WS = new Set([0x20, 0x09, 0x0a, 0x0d]);
const ESCAPES: Readonly<Record<string, string>> = { '"': '"', '\\': '\\', '/': '/', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t' };
const NUMBER = /-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/y;

/**
 * Parses JSON text (RFC 8259) strictly and safely, for values a hostile server wrote:
 * - a key repeated in one object is refused (`duplicate`): `{"payTo":"0xA","payTo":"0xB"}` has
 *   no single meaning, and `JSON.parse` would silently keep the last one;
 * - a `__proto__` key is refused (`forbidden_key`), and every object is created with a `null`
 *   prototype, so no key can reach or change a global prototype;
 * - nesting deeper than `maxDepth` is refused (`depth`), so the recursion is bounded;
 * - anything `JSON.parse` rejects is refused (`json`).
 * Otherwise the value equals `JSON.parse(text)`. Never throws.
 *
 * @example
 * ```ts
 * import { parseStrictJson } from './strictJson.js';
 * parseStrictJson('{"a":1,"a":2}'); // { ok: false, failure: 'duplicate', message: 'duplicate key "a" at $' }
 * ```
 */
export function parseStrictJson(text: string, maxDepth: number = MAX_JSON_DEPTH): StrictJsonResult {
  let i = 0;
  const n = text.length;

  const skip = () => {
    while (i < n && WS.has(text.charCodeAt(i))) i++;
  };
  const syntax = (what: string): never => {
    throw new Refusal('json', `${what} at position ${i}`);
  };

  const string = (): string => {
    // Called with text[i] === '"'.
    const start = ++i;
    let plain = true;
    for (;;) {
      if (i >= n) syntax('unterminated string');
      const c = text.charCodeAt(i);
      if (c === 0x22) break;
      if (c < 0x20) syntax('control character in string');
      if (c === 0x5c) {
        plain = false;
        i += 2;
        continue;
      }
      i++;
    }
    const end = i++;
    if (plain) return text.slice(start, end);
    let out = '';
    for (let j = start; j < end; j++) {
      const ch = text[j]!;
      if (ch !== '\\') {
        out += ch;
        continue;
      }
      const e = text[++j];
      if (e === 'u') {
        const hex = text.slice(j + 1, j + 5);
        if (!/^[0-9a-fA-F]{4}$/.test(hex)) syntax('bad \\u escape');
        out += String.fromCharCode(parseInt(hex, 16));
        j += 4;
      } else if (e !== undefined && Object.hasOwn(ESCAPES, e)) {
        out += ESCAPES[e];
      } else {
        syntax('bad escape');
      }
    }
    return out;
  };

  const value = (depth: number, path: string): unknown => {
    skip();
    if (i >= n) syntax('unexpected end');
    const c = text[i];
    if (c === '{') {
      if (depth >= maxDepth) throw new Refusal('depth', `nesting deeper than ${maxDepth} at ${path}`);
      i++;
      const object = Object.create(null) as Record<string, unknown>;
      skip();
      if (text[i] === '}') {
        i++;
        return object;
      }
      for (;;) {
        skip();
        if (text[i] !== '"') syntax('expected a key');
        const key = string();
        if (key === '__proto__') throw new Refusal('forbidden_key', `key "__proto__" at ${path}`);
        if (Object.hasOwn(object, key)) throw new Refusal('duplicate', `duplicate key ${JSON.stringify(key.slice(0, 40))} at ${path}`);
        skip();
        if (text[i] !== ':') syntax('expected ":"');
        i++;
        object[key] = value(depth + 1, `${path}.${key.slice(0, 40)}`);
        skip();
        if (text[i] === ',') {
          i++;
          continue;
        }
        if (text[i] === '}') {
          i++;
          return object;
        }
        syntax('expected "," or "}"');
      }
    }
    if (c === '[') {
      if (depth >= maxDepth) throw new Refusal('depth', `nesting deeper than ${maxDepth} at ${path}`);
      i++;
      const array: unknown[] = [];
      skip();
      if (text[i] === ']') {
        i++;
        return array;
      }
      for (;;) {
        array.push(value(depth + 1, `${path}.${array.length}`));
        skip();
        if (text[i] === ',') {
          i++;
          continue;
        }
        if (text[i] === ']') {
          i++;
          return array;
        }
        syntax('expected "," or "]"');
      }
    }
    if (c === '"') return string();
    if (text.startsWith('true', i)) {
      i += 4;
      return true;
    }
    if (text.startsWith('false', i)) {
      i += 5;
      return false;
    }
    if (text.startsWith('null', i)) {
      i += 4;
      return null;
    }
    NUMBER.lastIndex = i;
    const match = NUMBER.exec(text);
    if (!match) syntax('unexpected character');
    i += match![0].length;
    return Number(match![0]);
  };

  try {
    const result = value(0, '$');
    skip();
    if (i < n) syntax('unexpected data after the value');
    return { ok: true, value: result };
  } catch (error) {
    if (error instanceof Refusal) return { ok: false, failure: error.failure, message: error.message };
    // Only a bug could land here (the recursion is bounded by maxDepth); fail closed all the same.
    return { ok: false, failure: 'json', message: 'unparseable' };
  }
}
