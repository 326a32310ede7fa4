import { parseStrictJson } from '../internal/strictJson.js';

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;
const encoder = new TextEncoder();
/** Decodes UTF-8 strictly (a malformed sequence throws); stateless between calls, so one is shared. */
const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });

/** Node's `Buffer`, whose base64 is native and several times faster than `btoa`/`atob` loops; undefined in browsers. */
const nodeBuffer = (globalThis as { Buffer?: NodeBufferLike }).Buffer;
interface NodeBufferLike {
  from(text: string, encoding: 'utf8' | 'base64'): Uint8Array & { toString(encoding: 'base64'): string };
}

/**
 * Why {@link decodeBase64Json} or {@link parseJsonBytes} refused a value: not base64, not UTF-8,
 * not JSON, too large, a key repeated in one object (`duplicate`), nesting too deep (`depth`),
 * or a `__proto__` key (`forbidden_key`).
 */
export type DecodeFailure = 'base64' | 'utf8' | 'json' | 'size' | 'duplicate' | 'depth' | 'forbidden_key';

/** The result of {@link decodeBase64Json}: the parsed value, or why it failed. */
export type DecodeResult = { ok: true; value: unknown } | { ok: false; failure: DecodeFailure; message: string };

/**
 * Encodes a value as x402 does on the wire: compact `JSON.stringify`, UTF-8, standard base64
 * (RFC 4648 alphabet `A-Za-z0-9+/`, `=` padding, no line breaks). UTF-8 safe in browsers too.
 */
export function encodeBase64Json(value: unknown): string {
  const json = JSON.stringify(value);
  if (nodeBuffer) return nodeBuffer.from(json, 'utf8').toString('base64');
  const bytes = encoder.encode(json);
  let binary = '';
  for (let i = 0; i < bytes.length; i += 0x8000) {
    binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(binary);
}

/**
 * Decodes a base64 JSON header strictly: standard alphabet only (no base64url, no spaces),
 * correct padding, fatal UTF-8 decoding, and a size bound on the decoded bytes.
 */
export function decodeBase64Json(text: string, maxBytes: number): DecodeResult {
  if (text.length === 0 || text.length % 4 !== 0 || !BASE64.test(text)) {
    return { ok: false, failure: 'base64', message: 'not standard padded base64 (RFC 4648 §4)' };
  }
  if ((text.length / 4) * 3 > maxBytes + 2) {
    return { ok: false, failure: 'size', message: `decodes to more than ${maxBytes} bytes` };
  }
  // The text is standard padded base64 (checked above), which Node's decoder reads exactly as atob does.
  if (nodeBuffer) return parseJsonBytes(nodeBuffer.from(text, 'base64'));
  // atob cannot throw here: it refuses only what the checks above already refused.
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return parseJsonBytes(bytes);
}

/**
 * Decodes UTF-8 bytes fatally and parses them as strict JSON (see `parseStrictJson`: duplicate
 * keys, `__proto__` keys and nesting deeper than 32 are refused; objects have no prototype).
 */
export function parseJsonBytes(bytes: Uint8Array): DecodeResult {
  let text: string;
  try {
    text = strictUtf8.decode(bytes);
  } catch {
    return { ok: false, failure: 'utf8', message: 'not valid UTF-8' };
  }
  const parsed = parseStrictJson(text);
  if (parsed.ok) return parsed;
  const what = parsed.failure === 'json' ? 'not valid JSON' : parsed.failure === 'duplicate' ? 'ambiguous JSON' : 'refused JSON';
  return { ok: false, failure: parsed.failure, message: `${what} (${parsed.message.slice(0, 100)})` };
}
