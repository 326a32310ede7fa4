import { emptyLedgerState, releaseIn, reserveIn, settleIn, usageIn } from '../ledgerState.js';
import type { SpendRecord, SpendStore } from '../store.js';

/** Options of {@link memoryStore}. */
export interface MemoryStoreOptions {
  /** Clock in ms since the epoch (default `Date.now`). */
  readonly clock?: () => number;
  /** Most records kept for the report, newest kept (default 10,000). Limits are unaffected. */
  readonly maxRecords?: number;
}

/**
 * The default spend store: in this process's memory. Check-and-reserve is one synchronous step,
 * so it is atomic for every call in the process; nothing survives a restart.
 *
 * @example
 * ```ts
 * import { wrapFetch, memoryStore } from 'x402-autopay';
 * const paidFetch = wrapFetch(fetch, account, { budget: { daily: '5.00' }, store: memoryStore() });
 * ```
 */
export function memoryStore(options: MemoryStoreOptions = {}): SpendStore {
  const clock = options.clock ?? Date.now;
  const maxRecords = options.maxRecords ?? 10_000;
  const state = emptyLedgerState();
  const records = new Map<string, SpendRecord>();
  // The oldest record is evicted through one iterator kept for the store's life: a fresh
  // `records.keys()` would walk past every entry deleted since the Map last rehashed, so each
  // eviction would cost more the more payments went by.
  let oldest = records.keys();
  const update = (id: string, patch: Partial<SpendRecord>) => {
    const record = records.get(id);
    if (record) records.set(id, { ...record, ...patch });
  };
  return {
    async reserve(request) {
      const now = clock();
      const result = reserveIn(state, request, now);
      if (result.ok && !records.has(request.id)) {
        records.set(request.id, { ...request.record, id: request.id, time: result.time, status: 'reserved' });
        if (records.size > maxRecords) {
          let next = oldest.next();
          // A Map iterator that reached the end stays done: start another.
          if (next.done) next = (oldest = records.keys()).next();
          records.delete(next.value as string);
        }
      }
      return result;
    },
    async release(id) {
      const released = releaseIn(state, id);
      if (released) update(id, { status: 'released' });
      return released;
    },
    async settle(id, status, transaction, authorization) {
      if (records.get(id)?.status === 'released') return;
      settleIn(state, id, status !== 'settled');
      update(id, { status, ...(transaction ? { transaction } : {}), ...(authorization ? { authorization } : {}) });
    },
    async usage(checks) {
      return usageIn(state, checks, clock());
    },
    async report(query = {}) {
      const all = [...records.values()].filter((r) => query.since === undefined || r.time >= query.since);
      return query.limit === undefined ? all : all.slice(-query.limit);
    },
  };
}
