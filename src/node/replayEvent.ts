import { releaseIn, reserveIn, settleIn, type LedgerState } from '../budget/ledgerState.js';
import type { ReserveRequest } from '../budget/store.js';
import type { JournalEvent } from './ledgerFileSchema.js';

type ReserveEvent = Extract<JournalEvent, { type: 'reserve' }>;

/**
 * Applies one journal event to a ledger state, with the functions of `ledgerState.ts`, exactly
 * as the live operation did: replaying a journal from an empty state rebuilds the state file.
 * Returns why the event does not apply (a reservation that does not fit, a release of nothing),
 * which in a journal means it was edited; undefined when it applied.
 *
 * @param state - the state to change (changed in place).
 * @param event - the event.
 * @param time - the event's time, ms since the epoch.
 * @returns undefined, or why the event is inconsistent with the state.
 *
 * @example
 * ```ts
 * import { emptyLedgerState } from '../budget/ledgerState.js';
 * import { replayEvent } from './replayEvent.js';
 * const state = emptyLedgerState();
 * for (const record of records) {
 *   const why = replayEvent(state, record, record.time);
 *   if (why) throw new Error(`record ${record.seq}: ${why}`);
 * }
 * ```
 */
export function replayEvent(state: LedgerState, event: JournalEvent, time: number): string | undefined {
  switch (event.type) {
    case 'reserve': {
      if (state.pending[event.id]) return `reservation ${event.id} is already pending`;
      const result = reserveIn(state, reserveRequestOf(event), time);
      return result.ok ? undefined : `reservation ${event.id} does not fit its limits (check ${result.failed})`;
    }
    case 'release':
      return releaseIn(state, event.id) ? undefined : `release of ${event.id}, which is not pending`;
    case 'settle':
      if (event.hold && event.status === 'settled') return `settle of ${event.id} as settled cannot hold it releasable`;
      settleIn(state, event.id, event.hold === true);
      return undefined;
  }
}

/**
 * The journal event of a reservation (amounts as decimal strings).
 *
 * @example
 * ```ts
 * import { reserveEventOf, reserveRequestOf } from './replayEvent.js';
 * const event = reserveEventOf(request);
 * const result = reserveIn(state, reserveRequestOf(event), now); // exactly what a replay does
 * ```
 */
export function reserveEventOf(request: ReserveRequest): ReserveEvent {
  const { host, payee, amount, asset, network, authorization } = request.record;
  return {
    type: 'reserve',
    id: request.id,
    checks: request.checks.map((check) => ({
      key: check.key,
      window: check.window.kind === 'total' ? { kind: 'total' } : { kind: check.window.kind, seconds: check.window.seconds },
      amount: check.amount.toString(),
      limit: check.limit.toString(),
    })),
    record: {
      host,
      payee,
      amount,
      asset,
      network,
      ...(authorization ? { authorization: { from: authorization.from, nonce: authorization.nonce, validBefore: authorization.validBefore } } : {}),
    },
  };
}

/**
 * The reserve request a reservation event stands for (amounts back to bigints).
 *
 * @example
 * ```ts
 * import { reserveRequestOf } from './replayEvent.js';
 * reserveIn(state, reserveRequestOf(event), record.time);
 * ```
 */
export function reserveRequestOf(event: ReserveEvent): ReserveRequest {
  return {
    id: event.id,
    checks: event.checks.map((check) => ({ key: check.key, window: check.window, amount: BigInt(check.amount), limit: BigInt(check.limit) })),
    record: event.record,
  };
}
