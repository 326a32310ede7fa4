/**
 * The storage interface of the spend ledger. The budget logic (which limits apply to a quote,
 * in which units, over which windows) is written once in `budget.ts`; a store only has to apply
 * a list of counter checks atomically, remember pending reservations, and keep a report.
 */

/** A time window of a counter. `rolling` spans end now; `calendar` spans are UTC minutes, hours and days. */
export type CounterWindow =
  | { readonly kind: 'rolling'; readonly seconds: 60 | 3600 | 86400 }
  | { readonly kind: 'calendar'; readonly seconds: 60 | 3600 | 86400 }
  | { readonly kind: 'total' };

/** One limit to check and, if every check passes, to add to. */
export interface CounterCheck {
  /** Stable key of the counter (scope, unit and window), e.g. `global|usd|rolling:86400`. */
  readonly key: string;
  /** Which time window the counter covers. */
  readonly window: CounterWindow;
  /** What this payment adds: micro-units of USD or of a token, or 1 for a payment count. */
  readonly amount: bigint;
  /** The most the counter may hold after adding. */
  readonly limit: bigint;
}

/** Where a spend stands. `reserved` counts as spent (spent = signed); `released` does not. */
export type SpendStatus = 'reserved' | 'settled' | 'failed' | 'unknown' | 'released';

/**
 * Where a sent payment's signed authorization can be looked up on chain (with the record's
 * `asset` as the token and `network` as the chain). It holds no signature.
 */
export interface SpendAuthorization {
  /** The paying address (the authorizer). */
  readonly from: string;
  /** The authorization's 32-byte nonce, as 0x-prefixed hex. */
  readonly nonce: string;
  /** Unix seconds, as a decimal string: the token refuses the authorization at or after it. */
  readonly validBefore: string;
}

/** One payment in the spend report. */
export interface SpendRecord {
  /** Reservation id. */
  readonly id: string;
  /** When it was reserved, ms since the epoch, by the store's clock. */
  readonly time: number;
  /** Host name of the URL that was paid. */
  readonly host: string;
  /** Recipient address (`payTo`). */
  readonly payee: string;
  /** Atomic units of the asset, as a decimal string. */
  readonly amount: string;
  /** Token contract address. */
  readonly asset: string;
  /** CAIP-2 network. */
  readonly network: string;
  /** Where the payment stands (`reserved` counts as spent). */
  readonly status: SpendStatus;
  /** Settlement transaction hash, when a receipt gave one. */
  readonly transaction?: string;
  /**
   * Where the authorization can be looked up on chain. From the reservation on, the one planned
   * (the nonce to be signed, and the latest `validBefore` it may carry); once the payment was
   * sent, the one signed. Absent in records written before planned authorizations were kept.
   */
  readonly authorization?: SpendAuthorization;
}

/** What to reserve: the checks, and the facts for the report. */
export interface ReserveRequest {
  /** Reservation id; a retried reserve with the same id counts once. */
  readonly id: string;
  /** Every limit this payment must fit under; all are added, or none. */
  readonly checks: readonly CounterCheck[];
  /** The facts kept for the spend report, with the planned authorization (keep it in the record when given). */
  readonly record: Omit<SpendRecord, 'id' | 'time' | 'status' | 'transaction'>;
}

/** Result of a reservation: accepted, or the index of the first check that would overflow and the counter's current value. */
export type ReserveResult = { readonly ok: true; readonly time: number } | { readonly ok: false; readonly failed: number; readonly used: bigint };

/**
 * A spend store. Implementations: `memoryStore()` (x402-autopay), `fileStore(path)`
 * (x402-autopay/node), `browserStore()` (x402-autopay/browser), `redisStore(client)`
 * (x402-autopay/redis). Every method fails closed: an error means "no payment".
 */
export interface SpendStore {
  /** Atomically: if every check holds with its amount added, adds them all and records the reservation. Idempotent by id. */
  reserve(request: ReserveRequest): Promise<ReserveResult>;
  /**
   * Undoes a reservation whose payment was provably never sent, or, for a `failed` or `unknown`
   * payment, whose authorization expired unused on chain (a reconciliation). No-op for unknown
   * ids, `settled` payments, and reservations older than the pending TTL (1 h). Resolves to true
   * when it gave an amount back, false when there was nothing to undo (a store written before
   * this may resolve to nothing).
   */
  release(id: string): Promise<boolean | void>;
  /**
   * Records the outcome of a sent payment; the amount stays counted. A `settled` payment can never
   * be released; a `failed` or `unknown` one keeps what is needed to release it, until the pending
   * TTL, in case a reconciliation proves it can never be settled. (A store that drops it anyway
   * is safe: the payment just stays counted.) `authorization` (given for every sent payment) is
   * kept in the record, so that any process sharing the store can reconcile it. A no-op for a
   * released id (its amount was given back: nothing that arrives later changes that).
   */
  settle(id: string, status: 'settled' | 'failed' | 'unknown', transaction?: string, authorization?: SpendAuthorization): Promise<void>;
  /** Current value of each counter, for `remaining()`. */
  usage(checks: readonly Pick<CounterCheck, 'key' | 'window'>[]): Promise<bigint[]>;
  /** Spend records, oldest first (optionally since a time, and at most `limit` newest). */
  report(query?: { readonly since?: number; readonly limit?: number }): Promise<SpendRecord[]>;
}
