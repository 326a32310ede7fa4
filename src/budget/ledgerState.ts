import { checkAndAdd, counterValue, subtract, type BucketAdd, type CounterState } from './windows.js';
import { isKeyClaim, KEY_CLAIM_WINDOW, sweepsKeyClaims } from './keyClaimCheck.js';
import type { ReserveRequest, ReserveResult, CounterCheck } from './store.js';

/** Pending reservations older than this can no longer be released (their call is long over); every built-in store uses it. */
export const PENDING_TTL_MS = 3_600_000;

/**
 * The whole state a plain-object store keeps to enforce a budget: bucketed counters and the
 * reservations that may still be released. Its size is bounded by the windows and by the calls
 * in flight (and by the keyed payments of the last day: their key claims), never by history.
 * Serialisable as JSON (amounts are decimal strings).
 */
export interface LedgerState {
  readonly version: typeof LEDGER_STATE_VERSION;
  counters: CounterState;
  pending: Record<string, { readonly time: number; readonly adds: readonly BucketAdd[] }>;
}

/**
 * The version of the {@link LedgerState} shape, stored with it. The browser store's format is
 * this version (a newer one is refused as written by a newer x402-autopay); the file store's
 * state file has a format version of its own around it.
 */
export const LEDGER_STATE_VERSION = 1;

/** An empty ledger state. */
export function emptyLedgerState(): LedgerState {
  return { version: LEDGER_STATE_VERSION, counters: {}, pending: {} };
}

/** Check-and-reserve on a state the caller holds exclusively. Idempotent by id. */
export function reserveIn(state: LedgerState, request: ReserveRequest, nowMs: number): ReserveResult {
  const existing = Object.hasOwn(state.pending, request.id) ? state.pending[request.id] : undefined;
  if (existing) return { ok: true, time: existing.time };
  const nowSeconds = Math.floor(nowMs / 1000);
  if (request.checks.some((check) => sweepsKeyClaims(check.key))) sweepKeyClaims(state.counters, nowSeconds);
  const result = checkAndAdd(state.counters, request.checks, nowSeconds);
  if (!result.ok) return result;
  for (const [id, entry] of Object.entries(state.pending)) {
    if (entry.time < nowMs - PENDING_TTL_MS) delete state.pending[id];
  }
  state.pending[request.id] = { time: nowMs, adds: result.adds };
  return { ok: true, time: nowMs };
}

/**
 * Drops the key claims no clock within the grace would count any more. A claim's counter is
 * read only when its key comes again, so, unlike the counters of the configured limits, unread
 * ones would pile up, one per keyed payment. A sweep looks at every counter, so it is not done
 * by every keyed reservation but by one in 16 on average: those whose claim digest starts with
 * `0` ({@link sweepsKeyClaims}). That depends on the reservation alone, so a replay of the same
 * journal sweeps at the same points. The state holds the claims of the last day and the
 * grace, plus those of the keyed reservations since the last sweep.
 */
function sweepKeyClaims(counters: CounterState, nowSeconds: number): void {
  for (const key of Object.keys(counters)) if (isKeyClaim(key)) counterValue(counters, key, KEY_CLAIM_WINDOW, nowSeconds);
}

/** Releases a pending reservation; true if there was one. */
export function releaseIn(state: LedgerState, id: string): boolean {
  const entry = Object.hasOwn(state.pending, id) ? state.pending[id] : undefined;
  if (!entry) return false;
  subtract(state.counters, entry.adds);
  delete state.pending[id];
  return true;
}

/**
 * Records that a reservation's payment was sent. With `hold` false (a `settled` payment) its undo
 * information is dropped: it stays counted for good. With `hold` true (a `failed` or `unknown`
 * outcome) the undo information is kept, until the pending TTL, so that a reconciliation that
 * finds the authorization expired unused on chain can still release it.
 */
export function settleIn(state: LedgerState, id: string, hold: boolean): void {
  if (!hold) delete state.pending[id];
}

/** Current counter values. */
export function usageIn(state: LedgerState, checks: readonly Pick<CounterCheck, 'key' | 'window'>[], nowMs: number): bigint[] {
  return checks.map((check) => counterValue(state.counters, check.key, check.window, Math.floor(nowMs / 1000)));
}
