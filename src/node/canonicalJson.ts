/**
 * The canonical JSON text of a value: object keys sorted (by UTF-16 code units), no whitespace,
 * `undefined` members left out. Two equal values always give the same text, so the text can be
 * hashed. Only what JSON can hold exactly is accepted: strings, booleans, null, safe integers,
 * arrays and plain objects; anything else (a float, NaN, a bigint, a Date) throws a TypeError.
 *
 * @param value - the value to serialise.
 * @returns its canonical JSON text.
 * @throws TypeError for a value JSON cannot hold exactly.
 *
 * @example
 * ```ts
 * import { canonicalJson } from './canonicalJson.js';
 * canonicalJson({ b: 1, a: ['x', null] }); // '{"a":["x",null],"b":1}'
 * ```
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value === 'boolean' || typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value)) throw new TypeError(`canonicalJson: ${value} is not a safe integer`);
    return String(value);
  }
  if (Array.isArray(value)) return `[${value.map((item) => canonicalJson(item)).join(',')}]`;
  if (typeof value === 'object' && (Object.getPrototypeOf(value) === Object.prototype || Object.getPrototypeOf(value) === null)) {
    const members: string[] = [];
    for (const key of Object.keys(value).sort()) {
      const member = (value as Record<string, unknown>)[key];
      if (member !== undefined) members.push(`${JSON.stringify(key)}:${canonicalJson(member)}`);
    }
    return `{${members.join(',')}}`;
  }
  throw new TypeError(`canonicalJson: cannot serialise a ${typeof value}`);
}
