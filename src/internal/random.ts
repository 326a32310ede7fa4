/** Bytes drawn from the CSPRNG at once and handed out in order: one `getRandomValues` call serves many payments. */
const POOL_BYTES = 1024;
let pool = new Uint8Array(0);
let used = 0;

/**
 * `n` fresh bytes from the platform CSPRNG (`crypto.getRandomValues`, in Node 20+ and browsers),
 * drawn in blocks of 1 KiB and never handed out twice (each call gets its own copy). There is
 * deliberately no fallback: without a CSPRNG, no nonce and no payment.
 */
export function randomBytes(n: number): Uint8Array {
  if (n > POOL_BYTES) return globalThis.crypto.getRandomValues(new Uint8Array(n));
  if (used + n > pool.length) {
    // A new block each time (never refilled in place), so bytes already handed out stay as they are.
    pool = globalThis.crypto.getRandomValues(new Uint8Array(POOL_BYTES));
    used = 0;
  }
  const bytes = pool.slice(used, used + n);
  // Handed-out bytes are wiped from the pool: nothing here can give them to a second caller.
  pool.fill(0, used, used + n);
  used += n;
  return bytes;
}

/** Two hex digits for each byte value. */
const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

/** `0x`-prefixed lower-case hex of some bytes. */
export function toHex(bytes: Uint8Array): `0x${string}` {
  let hex = '0x';
  for (let i = 0; i < bytes.length; i++) hex += HEX[bytes[i]!];
  return hex as `0x${string}`;
}
