/** The parser-level property shared by the v1 body and v2 header fuzzers. */
import { interpretChallenge, readChallenge } from '../../src/protocol/read.js';
import { isX402Error } from '../../src/errors/X402Error.js';
import type { Challenge } from '../../src/protocol/challenge.js';

export const LIMITS = { maxBodyBytes: 64 * 1024, maxHeaderBytes: 16 * 1024, versions: [1, 2] as (1 | 2)[], timeoutMs: 5_000 };
const UINT256_MAX = (1n << 256n) - 1n;

export type Parsed = { ok: true; challenge: Challenge } | { ok: false; code: string; reason?: string };

/** Reads a challenge from a Response (the whole client path) and classifies the outcome; anything but a challenge or a typed refusal throws. */
export async function parse(response: Response): Promise<Parsed> {
  try {
    return accepted(await readChallenge(response, 'https://api.example.com/x', LIMITS));
  } catch (error) {
    return refused(error);
  }
}

/** The same, through the synchronous core (header value and body bytes already in hand): many more cases per second. */
export function parseParts(header: string | null, body: Uint8Array): Parsed {
  try {
    return accepted(interpretChallenge(header, { ok: true, bytes: body as Uint8Array<ArrayBuffer> }, 'https://api.example.com/x', LIMITS));
  } catch (error) {
    return refused(error);
  }
}

const encoder = new TextEncoder();
/** UTF-8 bytes of a text. */
export const utf8 = (text: string): Uint8Array => encoder.encode(text);

function accepted(challenge: Challenge): Parsed {
  checkInvariants(challenge);
  return { ok: true, challenge };
}

function refused(error: unknown): Parsed {
  if (!isX402Error(error)) throw new Error(`not a typed refusal: ${String(error)}`);
  if (error.code !== 'invalid_challenge' && error.code !== 'unsupported_version') throw new Error(`unexpected code ${error.code}`);
  if (error.moneyMoved !== 'no') throw new Error('a parser refusal must say no money moved');
  return { ok: false, code: error.code, reason: (error as { reason?: string }).reason };
}

/** What every accepted challenge must satisfy, whatever the input. */
export function checkInvariants(challenge: Challenge): void {
  if (challenge.options.length < 1 || challenge.options.length > 32) throw new Error('options out of bounds');
  if (!Object.isFrozen(challenge) || !Object.isFrozen(challenge.options)) throw new Error('challenge not frozen');
  for (const option of challenge.options) {
    if (typeof option.amount !== 'bigint' || option.amount < 0n || option.amount > UINT256_MAX) throw new Error('amount out of uint256');
    if (!Number.isSafeInteger(option.maxTimeoutSeconds) || option.maxTimeoutSeconds < 1 || option.maxTimeoutSeconds > 604_800) throw new Error('timeout out of bounds');
    for (const s of [option.scheme, option.asset, option.payTo, option.wireNetwork]) {
      if (typeof s !== 'string' || s.length === 0 || s.length > 256) throw new Error('bad string field');
    }
    if (!Object.isFrozen(option) || !Object.isFrozen(option.wire)) throw new Error('option not frozen');
    if (option.extra !== undefined && !Object.isFrozen(option.extra)) throw new Error('extra not frozen');
  }
}
