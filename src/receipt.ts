import { isAddress, type Address } from 'viem';
import { decodeBase64Json } from './protocol/codec.js';
import { settleResponse } from './protocol/schemas.js';
import { PAYMENT_RESPONSE_HEADER } from './protocol/v2.js';
import { X_PAYMENT_RESPONSE_HEADER } from './protocol/v1.js';
import { v1NetworkToCaip2 } from './protocol/networks.js';
import { inertText } from './internal/inert.js';
import type { Quote } from './select.js';
import type { AuthorizationRef } from './schemes/exactEvm.js';
import type { DeliveryProblem } from './internal/deliveryProblem.js';

/** Registry key on responses; `Symbol.for` so every copy of the library reads the same slot. */
const PAYMENT = Symbol.for('x402-autopay.payment');
const TX_HASH = /^0x[0-9a-fA-F]{64}$/;

/**
 * What was paid for a response. `settled` means the server's receipt says so (receipts are
 * advisory: check the transaction on chain when it matters); `failed` means the receipt says
 * settlement failed; `unknown` means no usable receipt.
 */
export interface Payment {
  /** What the server's receipt says: `settled`, `failed`, or `unknown` (no usable receipt). */
  readonly status: 'settled' | 'failed' | 'unknown';
  /** Atomic units signed for. */
  readonly amount: bigint;
  /** Token contract address. */
  readonly asset: string;
  /** CAIP-2 network. */
  readonly network: string;
  /** Recipient (checksummed). */
  readonly payTo: Address;
  /** The paying address (checksummed). */
  readonly payer: Address;
  /** Settlement transaction hash, when the receipt gives one. */
  readonly transaction?: string;
  /** The `payment-identifier` sent, when the server supports that extension. */
  readonly paymentId?: string;
  /** The server's failure reason, when `status` is `failed`. */
  readonly reason?: string;
  /** The frozen quote that was signed. */
  readonly quote: Quote;
  /**
   * Where the signed authorization can be looked up on chain (token, payer, nonce, expiry; no
   * signature). Pass it to {@link checkAuthorization} to learn whether it was settled, may still
   * be, or expired unused.
   */
  readonly authorization: AuthorizationRef;
  /**
   * Set when the 2xx answer to this payment does not look like a delivery (THREATS F6):
   * `empty` (no content: 204/205, `Content-Length: 0`, no body) or `unexpected_type` (a
   * `Content-Type` other than the media type the 402 announced, e.g. an error page). Judged
   * from the answer's head only. The payment stands and is never made again by the client; keep
   * this receipt to dispute it with the seller.
   */
  readonly delivery?: DeliveryProblem;
  /** True when this payment went with the first request (opt-in prepay), saving the 402 round trip. */
  readonly prepaid?: boolean;
  /**
   * With opt-in prepay only: a prepayment sent first for this same call, which the server
   * answered with 402 before this payment was made. It stays counted (spent = signed).
   */
  readonly refusedPrepayment?: Payment;
}

/** A decoded settlement header, reduced to what the client uses. */
export interface Settlement {
  readonly status: 'settled' | 'failed' | 'unknown';
  readonly transaction?: string;
  readonly reason?: string;
}

/**
 * Reads `PAYMENT-RESPONSE` (or `X-PAYMENT-RESPONSE`) into a {@link Settlement}. A missing or
 * garbled header, or one whose network or payer contradicts what was signed, gives `unknown`.
 */
export function readSettlement(headers: Headers, quote: Quote, payer: Address): Settlement {
  const header = headers.get(PAYMENT_RESPONSE_HEADER) ?? headers.get(X_PAYMENT_RESPONSE_HEADER);
  if (header === null) return { status: 'unknown' };
  const decoded = decodeBase64Json(header.trim(), 16 * 1024);
  if (!decoded.ok) return { status: 'unknown' };
  const parsed = settleResponse.safeParse(decoded.value);
  if (!parsed.success) return { status: 'unknown' };
  const s = parsed.data;
  const network = s.network === undefined ? undefined : (v1NetworkToCaip2(s.network) ?? s.network);
  if (network !== undefined && network !== quote.network) return { status: 'unknown' };
  if (s.payer !== undefined && s.payer !== '' && (!isAddress(s.payer, { strict: false }) || s.payer.toLowerCase() !== payer.toLowerCase())) {
    return { status: 'unknown' };
  }
  if (!s.success) return { status: 'failed', reason: inertText(s.errorReason ?? s.errorMessage ?? 'settlement failed', 200) };
  if (s.transaction === undefined || !TX_HASH.test(s.transaction)) return { status: 'unknown' };
  return { status: 'settled', transaction: s.transaction };
}

/**
 * Freezes a payment and gives it a `toJSON`, so `JSON.stringify(payment)` works (bigints become
 * decimal strings) and shows only the terms and the outcome: never a header or a signature.
 *
 * @example
 * ```ts
 * import { sealPayment } from './receipt.js';
 * JSON.stringify(sealPayment(payment)); // {"status":"settled","amount":"10000",…}
 * ```
 */
export function sealPayment(payment: Payment): Payment {
  if (Object.isFrozen(payment)) return payment;
  Object.defineProperty(payment, 'toJSON', { value: paymentToJSON, enumerable: false });
  return Object.freeze(payment);
}

function paymentToJSON(this: Payment): Record<string, unknown> {
  return {
    status: this.status,
    amount: this.amount.toString(),
    asset: this.asset,
    network: this.network,
    payTo: this.payTo,
    payer: this.payer,
    ...(this.transaction !== undefined ? { transaction: this.transaction } : {}),
    ...(this.paymentId !== undefined ? { paymentId: this.paymentId } : {}),
    ...(this.reason !== undefined ? { reason: this.reason } : {}),
    ...(this.delivery ? { delivery: this.delivery } : {}),
    ...(this.prepaid ? { prepaid: true } : {}),
    ...(this.refusedPrepayment ? { refusedPrepayment: this.refusedPrepayment } : {}),
    quote: this.quote,
    authorization: { ...this.authorization, validBefore: this.authorization.validBefore.toString() },
  };
}

/** Records the payment of a response (internal). */
export function attachPayment(response: Response, payment: Payment): void {
  Object.defineProperty(response, PAYMENT, { value: sealPayment(payment), enumerable: false, configurable: false });
}

/**
 * The payment made for a response returned by a wrapped fetch, or undefined if none was made.
 *
 * @example
 * ```ts
 * import { wrapFetch, getPayment } from 'x402-autopay';
 * const response = await paidFetch('https://api.example.com/data');
 * const payment = getPayment(response);
 * if (payment?.status === 'settled') console.log(payment.amount, payment.transaction);
 * ```
 */
export function getPayment(response: Response): Payment | undefined {
  if (typeof response !== 'object' || response === null) return undefined;
  return (response as unknown as Record<symbol, Payment | undefined>)[PAYMENT];
}
