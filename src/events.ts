/** Emitted after a payment was sent. Holds no key and no payment header. */
export interface PaymentEvent {
  readonly type: 'payment';
  readonly url: string;
  readonly host: string;
  readonly payTo: string;
  /** Atomic units. */
  readonly amount: bigint;
  readonly asset: string;
  /** CAIP-2 network. */
  readonly network: string;
  readonly status: 'settled' | 'failed' | 'unknown';
  readonly transaction?: string;
}

/** Emitted when a payment was refused before signing. */
export interface DeniedEvent {
  readonly type: 'denied';
  readonly url: string;
  readonly host: string;
  /** The error code (`budget_exceeded`, `approval_denied`, `no_acceptable_option`, …). */
  readonly code: string;
  /** The short message of the error. */
  readonly message: string;
}

/** Emitted when something failed after a payment was sent (the call itself still answers). */
export interface ErrorEvent {
  readonly type: 'error';
  readonly url: string;
  readonly message: string;
}
