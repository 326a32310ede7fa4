/** A signal that aborts when the caller's signal does, or when the time is up. */
export interface Deadline {
  /** Pass this to fetch. */
  readonly signal: AbortSignal;
  /** True once the time ran out (rather than the caller aborting). */
  readonly timedOut: boolean;
  /** Stops the clock (the caller's signal stays linked, so it can still abort a body being read). */
  clear(): void;
}

/**
 * A deadline of `ms` linked to the caller's `parent` signal: the returned signal aborts with a
 * `TimeoutError` when the time is up, or with the caller's reason when the caller aborts.
 * Uses `AbortSignal.any` where the platform has it (listeners are then released with the
 * signals), and a plain listener otherwise.
 *
 * @example
 * ```ts
 * import { linkedDeadline } from './deadline.js';
 * const deadline = linkedDeadline(init?.signal ?? undefined, 120_000);
 * try { return await fetch(url, { ...init, signal: deadline.signal }); } finally { deadline.clear(); }
 * ```
 */
export function linkedDeadline(parent: AbortSignal | undefined, ms: number): Deadline {
  const own = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    own.abort(new DOMException(`no answer within ${ms} ms`, 'TimeoutError'));
  }, ms);
  let signal: AbortSignal = own.signal;
  if (parent) {
    const any = (AbortSignal as unknown as { any?: (signals: AbortSignal[]) => AbortSignal }).any;
    if (typeof any === 'function') {
      signal = any.call(AbortSignal, [parent, own.signal]);
    } else if (parent.aborted) {
      own.abort(parent.reason);
    } else {
      parent.addEventListener('abort', () => own.abort(parent.reason), { once: true });
    }
  }
  return {
    signal,
    get timedOut() {
      return timedOut;
    },
    clear: () => clearTimeout(timer),
  };
}
