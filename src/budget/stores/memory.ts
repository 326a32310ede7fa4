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
  // The records, oldest first, in holders so that an update keeps its place. Eviction takes the
  // oldest from a queue: `records.keys().next()` would walk past every entry deleted since the
  // Map's last rehash, which makes each eviction cost more the more history went by.
  const records = new Map<string, { record: SpendRecord }>();
  const order: { readonly id: string; readonly holder: { record: SpendRecord } }[] = [];
  let head = 0;
  const update = (id: string, patch: Partial<SpendRecord>) => {
    const holder = records.get(id);
    if (holder) holder.record = { ...holder.record, ...patch };
  };
  return {
    async reserve(request) {
      const now = clock();
      const result = reserveIn(state, request, now);
      if (result.ok && !records.has(request.id)) {
        const holder = { record: { ...request.record, id: request.id, time: result.time, status: 'reserved' as const } };
        records.set(request.id, holder);
        order.push({ id: request.id, holder });
        while (records.size > maxRecords && head < order.length) {
          const oldest = order[head++]!;
          if (records.get(oldest.id) === oldest.holder) records.delete(oldest.id);
        }
        if (head > 1024 && head * 2 > order.length) {
          order.splice(0, head);
          head = 0;
        }
      }
      return result;
    },
    async release(id) {
      if (releaseIn(state, id)) update(id, { status: 'released' });
    },
    async settle(id, status, transaction) {
      settleIn(state, id);
      update(id, transaction ? { status, transaction } : { status });
    },
    async usage(checks) {
      return usageIn(state, checks, clock());
    },
    async report(query = {}) {
      const all = [...records.values()].map((h) => h.record).filter((r) => query.since === undefined || r.time >= query.since);
      return query.limit === undefined ? all : all.slice(-query.limit);
    },
  };
}
