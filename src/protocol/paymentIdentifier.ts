import { keccak256, stringToBytes } from 'viem';
import { randomBytes, toHex } from '../internal/random.js';

/** Key of the `payment-identifier` extension (PROTOCOL.md §6). */
export const PAYMENT_IDENTIFIER = 'payment-identifier';

/** What a payment id must look like: 16–128 characters of `[A-Za-z0-9_-]`. */
export const PAYMENT_ID_PATTERN = /^[A-Za-z0-9_-]{16,128}$/;

/**
 * A fresh payment id: `pay_` and 32 hex digits from the CSPRNG (36 characters).
 *
 * @example
 * ```ts
 * import { newPaymentId } from './paymentIdentifier.js';
 * newPaymentId(); // 'pay_5f1c…' (36 characters)
 * ```
 */
export function newPaymentId(): string {
  return `pay_${toHex(randomBytes(16)).slice(2)}`;
}

/**
 * The payment id of a call that carries an `Idempotency-Key`: `pay_` and the first 32 hex digits
 * of the key's keccak-256, so every call with that key (also from another process) sends the same
 * id, and a server with the `payment-identifier` extension sees one logical purchase.
 *
 * @example
 * ```ts
 * import { keyedPaymentId } from './paymentIdentifier.js';
 * keyedPaymentId('order-42'); // 'pay_…' (36 characters, the same every time)
 * ```
 */
export function keyedPaymentId(key: string): string {
  return `pay_${keccak256(stringToBytes(key)).slice(2, 34)}`;
}

function isRecord(value: unknown): value is Readonly<Record<string, unknown>> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * The `extensions` to echo in a v2 payment, with `id` added to `payment-identifier.info` when the
 * server advertised that extension (as an object). The challenge's frozen objects are never
 * changed: the result is a copy, and the server's other extensions and other `info` fields are
 * kept as they are. Without the extension, `extensions` comes back unchanged and no id is used.
 *
 * @example
 * ```ts
 * import { attachPaymentIdentifier, newPaymentId } from './paymentIdentifier.js';
 * const { extensions, paymentId } = attachPaymentIdentifier(challenge.extensions, newPaymentId());
 * ```
 */
export function attachPaymentIdentifier(
  extensions: Readonly<Record<string, unknown>> | undefined,
  id: string,
): { extensions: Readonly<Record<string, unknown>> | undefined; paymentId: string | undefined } {
  if (!extensions || !Object.hasOwn(extensions, PAYMENT_IDENTIFIER)) return { extensions, paymentId: undefined };
  const extension = extensions[PAYMENT_IDENTIFIER];
  if (!isRecord(extension) || !PAYMENT_ID_PATTERN.test(id)) return { extensions, paymentId: undefined };
  const info = isRecord(extension['info']) ? extension['info'] : {};
  return {
    extensions: { ...extensions, [PAYMENT_IDENTIFIER]: { ...extension, info: { ...info, id } } },
    paymentId: id,
  };
}
