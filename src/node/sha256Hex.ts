import { createHash } from 'node:crypto';

/**
 * The SHA-256 digest of a UTF-8 string, as 64 lower-case hex digits.
 *
 * @param text - the text to hash (encoded as UTF-8).
 * @returns the hex digest.
 *
 * @example
 * ```ts
 * import { sha256Hex } from './sha256Hex.js';
 * sha256Hex('abc'); // 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad'
 * ```
 */
export function sha256Hex(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}
