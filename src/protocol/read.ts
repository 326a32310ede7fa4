import { decodeBase64Json, parseJsonBytes } from './codec.js';
import { parseChallengeV1 } from './v1.js';
import { parseChallengeV2, PAYMENT_REQUIRED_HEADER } from './v2.js';
import { readBody } from './readBody.js';
import { InvalidChallengeError } from '../errors/InvalidChallengeError.js';
import { UnsupportedVersionError } from '../errors/UnsupportedVersionError.js';
import type { Challenge } from './challenge.js';

/** Bounds for {@link readChallenge}. */
export interface ReadChallengeLimits {
  /** Most bytes of 402 body read (default 64 KiB). */
  readonly maxBodyBytes: number;
  /** Most bytes a decoded `PAYMENT-REQUIRED` header may hold. */
  readonly maxHeaderBytes: number;
  /** Versions this client speaks. */
  readonly versions: readonly (1 | 2)[];
}

/**
 * Reads a 402 response into a validated {@link Challenge}: v2 from the `PAYMENT-REQUIRED`
 * header (the body only cross-checked), else the body (v1, or a v2 object when the header was
 * not exposed). The body is read at most once and never past `maxBodyBytes`.
 * Throws {@link InvalidChallengeError} or {@link UnsupportedVersionError}; never signs anything.
 */
export async function readChallenge(response: Response, url: string, limits: ReadChallengeLimits): Promise<Challenge> {
  const header = response.headers.get(PAYMENT_REQUIRED_HEADER);
  const body = await readBody(response.body, limits.maxBodyBytes, response.headers.get('content-length'));
  const copy = new Response(body.ok ? body.bytes : null, {
    status: response.status,
    statusText: response.statusText,
    headers: response.headers,
  });
  const fail = (reason: InvalidChallengeError['reason'], issues: InvalidChallengeError['issues']): never => {
    throw new InvalidChallengeError({ reason, issues, url, response: copy });
  };
  const bodyJson = body.ok && body.bytes.byteLength > 0 ? parseJsonBytes(body.bytes) : undefined;

  let value: unknown;
  let source: 'header' | 'body';
  if (header !== null) {
    const decoded = decodeBase64Json(header.trim(), limits.maxHeaderBytes);
    if (!decoded.ok) {
      fail(decoded.failure === 'size' ? 'oversize' : 'malformed', [
        { path: '', message: `${PAYMENT_REQUIRED_HEADER} header is ${decoded.message}` },
      ]);
    } else {
      value = decoded.value;
      source = 'header';
      // A v2 object in the body too must say the same thing (a v1 body beside it is a legacy fallback).
      if (bodyJson?.ok && versionOf(bodyJson.value) === 2 && !deepEqual(bodyJson.value, value)) {
        fail('ambiguous', [{ path: '', message: `${PAYMENT_REQUIRED_HEADER} header and v2 body disagree` }]);
      }
    }
  } else {
    if (!body.ok) fail('oversize', [{ path: '', message: `402 body is larger than ${limits.maxBodyBytes} bytes` }]);
    if (!bodyJson) fail('not_x402', [{ path: '', message: `no ${PAYMENT_REQUIRED_HEADER} header and an empty body` }]);
    if (!bodyJson!.ok) fail('not_x402', [{ path: '', message: `no ${PAYMENT_REQUIRED_HEADER} header and the body is ${bodyJson!.message}` }]);
    value = (bodyJson as { value: unknown }).value;
    source = 'body';
  }

  const version = versionOf(value);
  if (version === undefined) {
    fail(source! === 'header' ? 'malformed' : 'not_x402', [{ path: 'x402Version', message: 'missing or not an integer' }]);
  }
  if (version !== 1 && version !== 2) {
    throw new UnsupportedVersionError({ version: version!, url, supported: limits.versions });
  }
  if (!limits.versions.includes(version)) {
    throw new UnsupportedVersionError({ version, url, supported: limits.versions });
  }
  const parsed = version === 2 ? parseChallengeV2(value, source!) : parseChallengeV1(value);
  if (!parsed.ok) fail('malformed', parsed.issues);
  return (parsed as { challenge: Challenge }).challenge;
}

function versionOf(value: unknown): number | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const version = (value as Record<string, unknown>)['x402Version'];
  return typeof version === 'number' && Number.isSafeInteger(version) ? version : undefined;
}

/** Structural equality of JSON values, ignoring key order. */
export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  if (ka.length !== kb.length) return false;
  return ka.every((k) => Object.hasOwn(b, k) && deepEqual((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
}
