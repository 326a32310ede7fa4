import type { Policy } from './policy.js';
import type { Quote } from '../select.js';

/** Where a spend stands. `reserved` and `sent` count as spent: spent = signed. */
export type SpendStatus = 'reserved' | 'sent' | 'settled' | 'failed' | 'unknown' | 'released';

/** One line of the ledger. */
export interface SpendRecord {
  readonly id: string;
  /** When it was reserved, ms since the epoch. */
  readonly at: number;
  readonly url: string;
  readonly host: string;
  readonly network: string;
  readonly asset: string;
  readonly payTo: string;
  readonly amount: bigint;
  status: SpendStatus;
  transaction?: string;
}

/** A reservation made before signing; the engine moves it along as the payment proceeds. */
export interface Reservation {
  readonly record: Readonly<SpendRecord>;
  /**
   * The header is about to leave: from now on it is released only if sending provably failed
   * before any byte left (connection refused, unknown host).
   */
  markSent(): void;
  /** The header was provably never sent (not signed, or not delivered): the reservation no longer counts. */
  release(): void;
  /** The outcome of a sent payment, as far as the client can tell. */
  settle(status: 'settled' | 'failed' | 'unknown', transaction?: string): void;
}

/**
 * The spend ledger: reserves a quote atomically (policy re-checked and the record written in one
 * synchronous step) before anything is signed.
 */
export interface Ledger {
  /** Reserves a quote or throws the policy's error; nothing is recorded on refusal. */
  reserve(quote: Quote): Reservation;
  /** Every record, oldest first. */
  records(): readonly Readonly<SpendRecord>[];
}

/** An in-memory ledger over a policy. */
export function createLedger(policy: Policy, clock: () => number): Ledger {
  const records: SpendRecord[] = [];
  let counter = 0;
  return {
    reserve(quote) {
      const refused = policy.check(quote);
      if (refused) throw refused.error;
      const record: SpendRecord = {
        id: `spend_${clock().toString(36)}_${(counter++).toString(36)}`,
        at: clock(),
        url: quote.url,
        host: quote.host,
        network: quote.network,
        asset: quote.option.asset,
        payTo: quote.payTo,
        amount: quote.amount,
        status: 'reserved',
      };
      records.push(record);
      return {
        record,
        markSent: () => {
          if (record.status === 'reserved') record.status = 'sent';
        },
        release: () => {
          // Never after an outcome is known: only a reservation, or a send that provably failed.
          if (record.status !== 'reserved' && record.status !== 'sent') return;
          record.status = 'released';
        },
        settle: (status, transaction) => {
          record.status = status;
          if (transaction) record.transaction = transaction;
        },
      };
    },
    records: () => records.slice(),
  };
}
