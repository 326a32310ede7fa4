import { decodeBase64Json, parseJsonBytes } from './codec.js';
import { parseChallengeV1 } from './v1.js';
import { parseChallengeV2, PAYMENT_REQUIRED_HEADER } from './v2.js';
import { readBody, type BodyRead } from './readBody.js';
import { InvalidChallengeError } from '../errors/InvalidChallengeError.js';
import { UnsupportedVersionError } from '../errors/UnsupportedVersionError.js';
import type { Challenge, PaymentOption } from './challenge.js';
import type { DecodeFailure } from './codec.js';

/** Why a browser may see no header at all: CORS hides every response header a server does not expose. */
const HIDDEN_BY_CORS = ` (in a browser, a cross-origin server must send Access-Control-Expose-Headers: ${PAYMENT_REQUIRED_HEADER}, or the header is hidden from the page)`;

/**
 * Challenges already read, by the exact header and body bytes and the limits they were read
 * with: a server repeats the same 402 for a route, and reading it again (base64, strict JSON,
 * schemas) would give the same frozen result. Only successes are kept: 32 at most, each of at
 * most 8 KiB of input (some 512 KiB in all).
 */
const readChallenges = new Map<string, Challenge>();
const REMEMBERED_CHALLENGES = 32;
/** Longest header + body (in characters and bytes) whose challenge is remembered. */
const REMEMBERED_INPUT = 8 * 1024;

/** Bounds for {@link readChallenge}. */
export interface ReadChallengeLimits {
  /** Most bytes of 402 body read (default 64 KiB). */
  readonly maxBodyBytes: number;
  /** Most bytes a decoded `PAYMENT-REQUIRED` header may hold. */
  readonly maxHeaderBytes: number;
  /** Versions this client speaks. */
  readonly versions: readonly (1 | 2)[];
  /** Most ms reading the body may take (default: no bound of its own). */
  readonly timeoutMs?: number;
}

/**
 * Reads a 402 response into a validated {@link Challenge}: v2 from the `PAYMENT-REQUIRED`
 * header (the body only cross-checked), else the body (v1, or a v2 object when the header was
 * not exposed). The body is read at most once, never past `maxBodyBytes` nor past `timeoutMs`;
 * JSON is parsed strictly (duplicate keys are `ambiguous`; `__proto__` keys and nesting deeper
 * than 32 are `malformed`). A v2 or v1 body beside the header must not contradict it.
 * Throws {@link InvalidChallengeError} or {@link UnsupportedVersionError}; never signs anything.
 *
 * @example
 * ```ts
 * import { readChallenge } from './read.js';
 * const challenge = await readChallenge(response, response.url, { maxBodyBytes: 65536, maxHeaderBytes: 16384, versions: [1, 2], timeoutMs: 5000 });
 * ```
 */
export async function readChallenge(response: Response, url: string, limits: ReadChallengeLimits): Promise<Challenge> {
  const header = response.headers.get(PAYMENT_REQUIRED_HEADER);
  const body = await readBody(response.body, limits.maxBodyBytes, response.headers.get('content-length'), limits.timeoutMs);
  return interpretChallenge(header, body, url, limits, () =>
    new Response(body.ok ? body.bytes : null, { status: response.status, statusText: response.statusText, headers: response.headers }),
  );
}

/**
 * The synchronous core of {@link readChallenge}: turns a `PAYMENT-REQUIRED` header value (or
 * null) and the bounded read of the body into a validated {@link Challenge}, or throws
 * {@link InvalidChallengeError} / {@link UnsupportedVersionError}. `response` builds the 402 the
 * error carries (a copy whose body is re-readable).
 *
 * @example
 * ```ts
 * import { interpretChallenge } from './read.js';
 * const challenge = interpretChallenge(null, { ok: true, bytes }, url, { maxBodyBytes: 65536, maxHeaderBytes: 16384, versions: [1, 2] });
 * ```
 */
export function interpretChallenge(
  header: string | null,
  body: BodyRead,
  url: string,
  limits: ReadChallengeLimits,
  response?: () => Response,
): Challenge {
  const key = cacheKey(header, body, limits);
  const known = key === undefined ? undefined : readChallenges.get(key);
  if (known) {
    // Most recently used last, so the oldest goes first.
    readChallenges.delete(key!);
    readChallenges.set(key!, known);
    return known;
  }
  const challenge = readFresh(header, body, url, limits, response);
  if (key !== undefined) {
    readChallenges.set(key, challenge);
    if (readChallenges.size > REMEMBERED_CHALLENGES) readChallenges.delete(readChallenges.keys().next().value as string);
  }
  return challenge;
}

/**
 * The key of a challenge in the cache: everything its reading depends on, exactly and without
 * ambiguity (the header length-prefixed, the body as one character per byte), or undefined when
 * the input is too large to keep.
 */
function cacheKey(header: string | null, body: BodyRead, limits: ReadChallengeLimits): string | undefined {
  const bytes = body.ok ? body.bytes : undefined;
  if ((header?.length ?? 0) + (bytes?.byteLength ?? 0) > REMEMBERED_INPUT) return undefined;
  const bodyKey = bytes ? String.fromCharCode.apply(null, bytes as unknown as number[]) : `!${body.ok ? '' : body.why}`;
  // The header is length-prefixed, so no header and body can be cut differently into one key.
  return `${limits.maxHeaderBytes}|${limits.versions.join(',')}|${header === null ? '-' : `${header.length}:${header}`}|${bodyKey}`;
}

function readFresh(
  header: string | null,
  body: BodyRead,
  url: string,
  limits: ReadChallengeLimits,
  response?: () => Response,
): Challenge {
  const fail = (reason: InvalidChallengeError['reason'], issues: InvalidChallengeError['issues']): never => {
    throw new InvalidChallengeError({ reason, issues, url, response: response?.() });
  };
  const bodyJson = body.ok && body.bytes.byteLength > 0 ? parseJsonBytes(body.bytes) : undefined;

  let value: unknown;
  let source: 'header' | 'body';
  if (header !== null) {
    const decoded = decodeBase64Json(header.trim(), limits.maxHeaderBytes);
    if (!decoded.ok) {
      fail(reasonOf(decoded.failure, 'malformed'), [{ path: '', message: `${PAYMENT_REQUIRED_HEADER} header is ${decoded.message}` }]);
    } else {
      value = decoded.value;
      source = 'header';
      // JSON beside the header that has no single meaning (duplicate keys, too deep) is refused:
      // it might be the same challenge saying something else. A body that is not JSON is ignored.
      if (bodyJson && !bodyJson.ok && bodyJson.failure !== 'json' && bodyJson.failure !== 'utf8') {
        fail(reasonOf(bodyJson.failure, 'malformed'), [{ path: '', message: `the body beside the ${PAYMENT_REQUIRED_HEADER} header is ${bodyJson.message}` }]);
      }
      // A v2 object in the body too must say the same thing; a legacy v1 body beside it must not
      // name another payee or amount for the same network and asset.
      if (bodyJson?.ok && versionOf(bodyJson.value) === 2 && !deepEqual(bodyJson.value, value)) {
        fail('ambiguous', [{ path: '', message: `${PAYMENT_REQUIRED_HEADER} header and v2 body disagree` }]);
      }
      if (bodyJson?.ok && versionOf(bodyJson.value) === 1 && versionOf(value) === 2) {
        const conflict = v1BodyConflict(bodyJson.value, value);
        if (conflict) fail('ambiguous', [{ path: conflict, message: `${PAYMENT_REQUIRED_HEADER} header and v1 body name different terms` }]);
      }
    }
  } else {
    if (!body.ok) {
      if (body.why === 'timeout') fail('timeout', [{ path: '', message: `402 body did not arrive within ${limits.timeoutMs} ms` }]);
      if (body.why === 'broken') fail('malformed', [{ path: '', message: '402 body could not be read (the stream failed)' }]);
      fail('oversize', [{ path: '', message: `402 body is larger than ${limits.maxBodyBytes} bytes` }]);
    }
    if (!bodyJson) fail('not_x402', [{ path: '', message: `no ${PAYMENT_REQUIRED_HEADER} header and an empty body${HIDDEN_BY_CORS}` }]);
    if (!bodyJson!.ok) {
      const failure = (bodyJson as { failure: DecodeFailure }).failure;
      fail(reasonOf(failure, 'not_x402'), [{ path: '', message: `no ${PAYMENT_REQUIRED_HEADER} header and the body is ${(bodyJson as { message: string }).message}` }]);
    }
    value = (bodyJson as { value: unknown }).value;
    source = 'body';
  }

  const version = versionOf(value);
  if (version === undefined) {
    fail(source! === 'header' ? 'malformed' : 'not_x402', [
      { path: 'x402Version', message: source! === 'header' ? 'missing or not an integer' : `missing or not an integer, and no ${PAYMENT_REQUIRED_HEADER} header${HIDDEN_BY_CORS}` },
    ]);
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

/** The refusal reason for a decoding failure; `plain` for plain syntax errors. */
function reasonOf(failure: DecodeFailure, plain: 'malformed' | 'not_x402'): InvalidChallengeError['reason'] {
  if (failure === 'size') return 'oversize';
  if (failure === 'duplicate') return 'ambiguous';
  if (failure === 'depth' || failure === 'forbidden_key') return 'malformed';
  return plain;
}

/**
 * Where a v1 body contradicts a v2 header (THREATS A3): a v1 option whose scheme, network and
 * asset the header also offers, but with no header option of the same payee and amount.
 * Undefined when they agree, or when the v1 body is not a valid challenge (then it is ignored).
 */
function v1BodyConflict(v1: unknown, v2: unknown): string | undefined {
  const body = parseChallengeV1(v1);
  const header = parseChallengeV2(v2, 'header');
  if (!body.ok || !header.ok) return undefined;
  // A header option's network is always a CAIP-2 string, so a body option whose v1 name is unknown
  // (network undefined) matches none.
  const same = (a: PaymentOption, b: PaymentOption) => a.scheme === b.scheme && a.network === b.network && a.asset.toLowerCase() === b.asset.toLowerCase();
  for (const option of body.challenge.options) {
    const peers = header.challenge.options.filter((h) => same(option, h));
    if (peers.length > 0 && !peers.some((h) => h.payTo.toLowerCase() === option.payTo.toLowerCase() && h.amount === option.amount)) {
      return `accepts.${option.index}`;
    }
  }
  return undefined;
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
