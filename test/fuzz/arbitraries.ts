/**
 * fast-check arbitraries for hostile 402 challenges, structure-aware: valid skeletons of both
 * versions with fields replaced by hostile values (THREATS A4's table and random JSON), plus an
 * independent oracle of the schema (which values must be accepted, which refused).
 */
import fc from 'fast-check';
import { BASE_SEPOLIA_USDC, BASE_USDC, PAY_TO } from '../support/challenges.js';

export type Version = 1 | 2;
const UINT256_MAX = (1n << 256n) - 1n;

/** Known-good terms the skeletons are built from. */
export const TERMS = [
  { v1: 'base-sepolia', v2: 'eip155:84532', asset: BASE_SEPOLIA_USDC, name: 'USDC', version: '2' },
  { v1: 'base', v2: 'eip155:8453', asset: BASE_USDC, name: 'USD Coin', version: '2' },
] as const;
export const PAYEES = [PAY_TO, '0x1111111111111111111111111111111111111111', '0x70997970C51812dc3A010C7d01b50e0d17dc79C8'] as const;

/** Values a hostile server might put in any field. */
export const hostileValue: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom('', '0x10', ' 7 ', '-5', '1e6', '1.5', '０１', '007', '0', '1', '10000', (2n ** 256n).toString(), UINT256_MAX.toString(), '1'.repeat(79), 'NaN', 'Infinity', 'exact', 'upto', 'eip155:84532', 'eip155:8453abc', 'EIP155:8453', 'base-sepolia', PAY_TO, BASE_SEPOLIA_USDC, '0x0000000000000000000000000000000000000000', 'merchant', '__proto__') },
  { weight: 2, arbitrary: fc.string({ maxLength: 20 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 12 }) },
  { weight: 2, arbitrary: fc.integer() },
  { weight: 1, arbitrary: fc.constantFrom(0, -1, 0.5, 1e21, 1e309, 60, 300, 604_800, 604_801, 2 ** 53, Number.MAX_SAFE_INTEGER + 2) },
  { weight: 1, arbitrary: fc.double() },
  { weight: 1, arbitrary: fc.bigInt({ min: 0n, max: 1n << 257n }).map(String) },
  { weight: 1, arbitrary: fc.constantFrom(null, true, false, undefined) },
  { weight: 1, arbitrary: fc.array(fc.integer(), { maxLength: 3 }) },
  { weight: 1, arbitrary: fc.dictionary(fc.string({ maxLength: 5 }), fc.jsonValue({ maxDepth: 1 }), { maxKeys: 3 }) },
);

const REQUIREMENT_FIELDS: Record<Version, readonly string[]> = {
  1: ['scheme', 'network', 'maxAmountRequired', 'asset', 'payTo', 'resource', 'description', 'mimeType', 'outputSchema', 'maxTimeoutSeconds', 'extra', 'x-vendor'],
  2: ['scheme', 'network', 'amount', 'asset', 'payTo', 'maxTimeoutSeconds', 'extra', 'x-vendor'],
};
const TOP_FIELDS: Record<Version, readonly string[]> = {
  1: ['x402Version', 'error', 'accepts', 'x-vendor'],
  2: ['x402Version', 'error', 'resource', 'accepts', 'extensions', 'x-vendor'],
};

/** A valid requirement (exact, known stablecoin, amount 1..10^7 atomic). */
export function validRequirement(version: Version): fc.Arbitrary<Record<string, unknown>> {
  return fc
    .record({
      terms: fc.constantFrom(...TERMS),
      // Mostly within the default cap (0.10 USD = 100,000 atomic), sometimes above it.
      amount: fc.oneof({ weight: 3, arbitrary: fc.bigInt({ min: 1n, max: 100_000n }) }, { weight: 1, arbitrary: fc.bigInt({ min: 1n, max: 10_000_000n }) }),
      payTo: fc.constantFrom(...PAYEES),
      timeout: fc.integer({ min: 1, max: 3600 }),
      // Any JSON, except a `__proto__` key (which makes a challenge invalid by design).
      vendor: fc.option(fc.jsonValue({ maxDepth: 2 }).filter((v) => !JSON.stringify(v).includes('"__proto__"')), { nil: undefined }),
    })
    .map(({ terms, amount, payTo, timeout, vendor }) => {
      const base: Record<string, unknown> =
        version === 1
          ? {
              scheme: 'exact',
              network: terms.v1,
              maxAmountRequired: amount.toString(),
              asset: terms.asset,
              payTo,
              resource: 'https://api.example.com/x',
              description: 'fuzz',
              mimeType: 'application/json',
              outputSchema: null,
              maxTimeoutSeconds: timeout,
              extra: { name: terms.name, version: terms.version },
            }
          : {
              scheme: 'exact',
              network: terms.v2,
              amount: amount.toString(),
              asset: terms.asset,
              payTo,
              maxTimeoutSeconds: timeout,
              extra: { name: terms.name, version: terms.version },
            };
      if (vendor !== undefined) base['x-vendor'] = vendor;
      return base;
    });
}

/** A valid challenge with 1..4 valid requirements. */
export function validChallenge(version: Version): fc.Arbitrary<Record<string, unknown>> {
  return fc.array(validRequirement(version), { minLength: 1, maxLength: 4 }).map((accepts) =>
    version === 1
      ? { x402Version: 1, error: 'X-PAYMENT header is required', accepts }
      : { x402Version: 2, error: 'Payment required', resource: { url: 'https://api.example.com/x', description: '', mimeType: '' }, accepts },
  );
}

/** A valid challenge with one field (of the top level or of one requirement) replaced by a hostile value. */
export function mutatedChallenge(version: Version): fc.Arbitrary<{ value: Record<string, unknown>; where: string }> {
  return fc
    .tuple(validChallenge(version), fc.boolean(), fc.nat(), fc.constantFrom(...REQUIREMENT_FIELDS[version]), fc.constantFrom(...TOP_FIELDS[version]), hostileValue)
    .map(([challenge, inRequirement, index, field, topField, value]) => {
      const copy = structuredClone(challenge);
      if (inRequirement) {
        const accepts = copy['accepts'] as Record<string, unknown>[];
        const target = accepts[index % accepts.length]!;
        if (value === undefined) delete target[field];
        else target[field] = value;
        return { value: copy, where: `accepts.${index % accepts.length}.${field}` };
      }
      if (value === undefined) delete copy[topField];
      else copy[topField] = value;
      return { value: copy, where: topField };
    });
}

// ---------------------------------------------------------------------------------------------
// The oracle: an independent statement of the schema (THREATS A4, PROTOCOL §1.2).

const isString = (v: unknown, min: number, max: number) => typeof v === 'string' && v.length >= min && v.length <= max;
const isObject = (v: unknown) => typeof v === 'object' && v !== null && !Array.isArray(v);
const optionalString = (v: unknown, max: number) => v === undefined || isString(v, 0, max);

export function validAmount(v: unknown): boolean {
  return typeof v === 'string' && /^(0|[1-9][0-9]{0,77})$/.test(v) && BigInt(v) <= UINT256_MAX;
}

export function validTimeout(v: unknown): boolean {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 1 && v <= 604_800;
}

/** Whether a requirement (after a JSON round trip) must be accepted by the parser. */
export function requirementIsValid(version: Version, r: unknown): boolean {
  if (!isObject(r)) return false;
  const o = r as Record<string, unknown>;
  const common =
    isString(o['scheme'], 1, 256) &&
    isString(o['asset'], 1, 256) &&
    isString(o['payTo'], 1, 256) &&
    validTimeout(o['maxTimeoutSeconds']) &&
    (o['extra'] === undefined || o['extra'] === null || isObject(o['extra']));
  if (!common) return false;
  if (version === 2) return isString(o['network'], 3, 128) && (o['network'] as string).includes(':') && validAmount(o['amount']);
  return (
    isString(o['network'], 1, 128) &&
    validAmount(o['maxAmountRequired']) &&
    isString(o['resource'], 0, 4096) &&
    optionalString(o['description'], 4096) &&
    optionalString(o['mimeType'], 256) &&
    (o['outputSchema'] === undefined || o['outputSchema'] === null || isObject(o['outputSchema']))
  );
}

/** True when a `__proto__` key is anywhere in the value (always refused). */
function hasProtoKey(value: unknown): boolean {
  if (typeof value !== 'object' || value === null) return false;
  if (!Array.isArray(value) && Object.hasOwn(value, '__proto__')) return true;
  return Object.values(value).some(hasProtoKey);
}

/** Whether a whole challenge (after a JSON round trip) must be accepted by the parser. */
export function challengeIsValid(version: Version, c: unknown): boolean {
  if (!isObject(c) || hasProtoKey(c)) return false;
  const o = c as Record<string, unknown>;
  if (o['x402Version'] !== version) return false;
  if (!optionalString(o['error'], 4096)) return false;
  const accepts = o['accepts'];
  if (!Array.isArray(accepts) || accepts.length < 1 || accepts.length > 32) return false;
  if (version === 2) {
    const resource = o['resource'];
    if (resource !== undefined) {
      if (!isObject(resource)) return false;
      const res = resource as Record<string, unknown>;
      if (!isString(res['url'], 0, 4096) || !optionalString(res['description'], 4096) || !optionalString(res['mimeType'], 256)) return false;
    }
    if (o['extensions'] !== undefined && !isObject(o['extensions'])) return false;
  }
  return accepts.every((r) => requirementIsValid(version, r));
}

/** JSON round trip, as the wire does it (NaN/Infinity → null, undefined keys dropped). */
export function wire<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}

/** Text-level attacks on a challenge's JSON: a duplicate key, a `__proto__` key, deep nesting, truncation. */
export function textAttack(version: Version): fc.Arbitrary<{ text: string; attack: 'duplicate' | 'proto' | 'deep' | 'truncated' }> {
  return fc
    .tuple(validChallenge(version), fc.constantFrom('duplicate', 'proto', 'deep', 'truncated') as fc.Arbitrary<'duplicate' | 'proto' | 'deep' | 'truncated'>, fc.constantFrom(...PAYEES), fc.nat())
    .map(([challenge, attack, evil, cut]) => {
      const text = JSON.stringify(challenge);
      switch (attack) {
        case 'duplicate':
          return { text: text.replace(/"payTo":("[^"]*")/, (_m, v: string) => `"payTo":${v},"payTo":"${evil}"`), attack };
        case 'proto':
          return { text: text.replace('"accepts":', () => `"__proto__":{"payTo":"${evil}"},"accepts":`), attack };
        case 'deep':
          return { text: text.replace('"accepts":', () => `"x":${'['.repeat(40)}${']'.repeat(40)},"accepts":`), attack };
        case 'truncated':
          return { text: text.slice(0, cut % text.length), attack };
      }
    });
}
