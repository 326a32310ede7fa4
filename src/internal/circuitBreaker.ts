import { CircuitOpenError } from '../errors/CircuitOpenError.js';
import { hostKey } from './hostKey.js';
import type { Clock } from './clock.js';

/** Settings of {@link createCircuitBreaker}. */
export interface BreakerSettings {
  /** Paid requests in a row that may fail (refused, or ended unknown) before the host is suspended. */
  readonly threshold: number;
  /** How long a suspension lasts, in ms. */
  readonly coolDownMs: number;
}

/** One admitted payment attempt; report how it ended (only the first report counts). */
export interface BreakerTicket {
  /** The paid request got an answer that is not a refusal. */
  succeeded(): void;
  /** The paid request was refused (a 402 after paying) or its outcome is unknown. */
  failed(): void;
  /** Nothing was sent (refused before signing, wallet error…): no verdict on the host. */
  abandon(): void;
}

/** A per-host circuit breaker over paid requests. */
export interface CircuitBreaker {
  /** Admits a payment to the host of `url`, or throws {@link CircuitOpenError} while it is suspended. */
  admit(url: string): BreakerTicket;
}

interface HostState {
  failures: number;
  openUntil: number;
  probing: boolean;
}

const MAX_HOSTS = 10_000;
const NOOP: BreakerTicket = Object.freeze({ succeeded() {}, failed() {}, abandon() {} });

/**
 * A circuit breaker per host (THREATS F5): after `threshold` paid requests in a row that were
 * refused or ended unknown, payments to that host are refused with {@link CircuitOpenError} for
 * `coolDownMs`. Then one payment is let through as a probe; its failure suspends the host again,
 * its success closes the breaker. `settings === false` admits everything.
 *
 * @example
 * ```ts
 * import { createCircuitBreaker } from './circuitBreaker.js';
 * const breaker = createCircuitBreaker({ threshold: 3, coolDownMs: 60_000 }, Date.now);
 * const ticket = breaker.admit('https://api.example.com/x'); // throws CircuitOpenError when open
 * ticket.failed();
 * ```
 */
export function createCircuitBreaker(settings: BreakerSettings | false, clock: Clock): CircuitBreaker {
  if (settings === false) return { admit: () => NOOP };
  const hosts = new Map<string, HostState>();
  return {
    admit(url) {
      const host = hostKey(url);
      const state = hosts.get(host);
      let probe = false;
      if (state && state.failures >= settings.threshold) {
        const now = clock();
        if (now < state.openUntil || state.probing) {
          throw new CircuitOpenError({ url, host, failures: state.failures, retryAt: Math.max(state.openUntil, now) });
        }
        state.probing = true;
        probe = true;
      }
      let done = false;
      const once = (f: () => void) => () => {
        if (done) return;
        done = true;
        f();
      };
      return {
        succeeded: once(() => {
          hosts.delete(host);
        }),
        failed: once(() => {
          const s = hosts.get(host) ?? { failures: 0, openUntil: 0, probing: false };
          s.failures++;
          s.probing = false;
          if (s.failures >= settings.threshold) s.openUntil = clock() + settings.coolDownMs;
          hosts.delete(host);
          hosts.set(host, s);
          if (hosts.size > MAX_HOSTS) hosts.delete(hosts.keys().next().value as string);
        }),
        abandon: once(() => {
          if (probe) {
            const s = hosts.get(host);
            if (s) s.probing = false;
          }
        }),
      };
    },
  };
}
