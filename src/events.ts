/** Emitted after a payment was sent. Holds no key and no payment header. */
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

/** Emitted when something failed after a payment was sent (the call itself still answers). */
export interface ErrorEvent {
  /** Always `'error'`. */
  readonly type: 'error';
  /** The URL that was paid. */
  readonly url: string;
  /** What failed, e.g. `could not record the payment outcome: …`. */
  readonly message: string;
}
