import type { AuthorizationRef } from './schemes/exactEvm.js';
import type { DeliveryProblem } from './internal/deliveryProblem.js';

/**
 * Emitted after a payment was sent. Holds no key, no payment header and no signature; its
 * `authorization` (token, payer, nonce, expiry) is enough to look the payment up on chain later
 * with `checkAuthorization`, and not enough to settle it.
 */
export interface PaymentEvent {
  /** Always `'payment'`. */
  readonly type: 'payment';
  /** The URL that answered 402 and was paid. */
  readonly url: string;
  /** Host name of `url`. */
  readonly host: string;
  /** Recipient address. */
  readonly payTo: string;
  /** Atomic units. */
  readonly amount: bigint;
  /** Token contract address. */
  readonly asset: string;
  /** CAIP-2 network. */
  readonly network: string;
  /** What the receipt says: `settled`, `failed`, or `unknown` (no usable receipt). */
  readonly status: 'settled' | 'failed' | 'unknown';
  /** Settlement transaction hash, when the receipt gives one. */
  readonly transaction?: string;
  /**
   * Set when the 2xx answer does not look like a delivery (THREATS F6): `empty`, or
   * `unexpected_type` (not the media type the 402 announced). See `Payment.delivery`.
   */
  readonly delivery?: DeliveryProblem;
  /** Where the signed authorization can be looked up on chain (no signature). */
  readonly authorization: AuthorizationRef;
}

/** Emitted when a payment was refused before signing. */
export interface DeniedEvent {
  /** Always `'denied'`. */
  readonly type: 'denied';
  /** The URL that answered 402. */
  readonly url: string;
  /** Host name of `url`. */
  readonly host: string;
  /** The error code (`budget_exceeded`, `approval_denied`, `no_acceptable_option`, …). */
  readonly code: string;
  /** The short message of the error. */
  readonly message: string;
}

/** Emitted when something failed that the call survives: recording a payment's outcome, giving a reservation back, or reading a balance (`checkBalance`). */
export interface ErrorEvent {
  /** Always `'error'`. */
  readonly type: 'error';
  /** The URL that was paid. */
  readonly url: string;
  /** What failed, e.g. `could not record the payment outcome: …` or `could not read the balance of …`. */
  readonly message: string;
}

/**
 * Emitted when a paid request got no usable answer and is sent again with the same payment (the
 * `resend` option): the same header, so nothing new is signed and the chain can settle it only
 * once. Holds no payment header and no signature.
 */
export interface ResendEvent {
  /** Always `'resend'`. */
  readonly type: 'resend';
  /** The URL that answered 402 and was paid. */
  readonly url: string;
  /** Host name of `url`. */
  readonly host: string;
  /** Why the last send has no usable answer: `timeout`, `network` or `server_error`. */
  readonly reason: 'timeout' | 'network' | 'server_error';
  /** How many times the request was sent so far (1 before the first resend). */
  readonly sends: number;
  /** The payment id sent with it, when the server supports that extension. */
  readonly paymentId?: string;
  /** Where the signed authorization can be looked up on chain (no signature). */
  readonly authorization: AuthorizationRef;
}

/**
 * Emitted when the client signed in to a site that offered it (the opt-in `signIn` option,
 * x402 `sign-in-with-x`): an EIP-4361 message signed with EIP-191, which moves no money. Holds
 * neither the signature nor the header.
 */
export interface SignInEvent {
  /** Always `'sign_in'`. */
  readonly type: 'sign_in';
  /** The URL that answered 402 and was sent again with the sign-in. */
  readonly url: string;
  /** Host name of `url`. */
  readonly host: string;
  /** The address that signed in. */
  readonly address: string;
  /** CAIP-2 chain named in the sign-in. */
  readonly network: string;
  /** True when the server answered without asking for a payment; false when it asked anyway (then the call pays as usual) or the request failed. */
  readonly granted: boolean;
  /** Status of the answer to the signed-in request; absent when none arrived. */
  readonly status?: number;
}
