/**
 * `n` bytes from the platform CSPRNG (`crypto.getRandomValues`, in Node 20+ and browsers).
 * There is deliberately no fallback: without a CSPRNG, no nonce and no payment.
 */
export function randomBytes(n: number): Uint8Array {
  const bytes = new Uint8Array(n);
  globalThis.crypto.getRandomValues(bytes);
  return bytes;
}

/** `0x`-prefixed lower-case hex of some bytes. */
export function toHex(bytes: Uint8Array): `0x${string}` {
  let hex = '0x';
  for (const byte of bytes) hex += byte.toString(16).padStart(2, '0');
  return hex as `0x${string}`;
}
