import { asRequest } from './asRequest.js';

/**
 * Single flight for identical calls (the opt-in `coalesce` option): while a call is in flight,
 * an identical one waits for it instead of paying again, and gets a copy of its answer.
 */
export interface Coalescer {
  /**
   * Runs `call`, or, when a call with the same `key` is in flight, waits for it and resolves to a
   * copy (`clone()`) of its response. If that call fails (or its response cannot be copied), the
   * calls that waited for it run again, coalesced among themselves (the first to resume goes
   * first): none inherits another caller's error, such as an abort. A waiting call whose `signal` aborts rejects with the signal's reason at once. With
   * `key` undefined, `call` just runs.
   */
  run(key: string | undefined, signal: AbortSignal | undefined, call: () => Promise<Response>): Promise<Response>;
}

/**
 * A {@link Coalescer} for one wrapped fetch.
 *
 * @example
 * ```ts
 * import { createCoalescer } from './coalescer.js';
 * const flights = createCoalescer();
 * const [a, b] = await Promise.all([flights.run('GET /x', undefined, pay), flights.run('GET /x', undefined, pay)]); // pay runs once
 * ```
 */
export function createCoalescer(): Coalescer {
  const flights = new Map<string, ((response: Response | undefined) => void)[]>();
  const run = async (key: string | undefined, signal: AbortSignal | undefined, call: () => Promise<Response>): Promise<Response> => {
    if (key === undefined) return call();
    const waiting = flights.get(key);
    if (waiting) {
      const shared = await new Promise<Response | undefined>((resolve, reject) => {
        if (signal?.aborted) return reject(signal.reason);
        const onAbort = () => {
          const at = waiting.indexOf(join);
          if (at !== -1) waiting.splice(at, 1);
          reject(signal!.reason);
        };
        const join = (response: Response | undefined) => {
          signal?.removeEventListener('abort', onAbort);
          resolve(response);
        };
        signal?.addEventListener('abort', onAbort, { once: true });
        waiting.push(join);
      });
      // The first call failed: the calls that waited for it fly again, one of them first.
      return shared ?? run(key, signal, call);
    }
    const mine: ((response: Response | undefined) => void)[] = [];
    flights.set(key, mine);
    let response: Response | undefined;
    try {
      response = await call();
      return response;
    } finally {
      flights.delete(key);
      // Copied before the caller can read the body; one copy per waiting call.
      for (const join of mine) join(copyOf(response));
    }
  };
  return { run };
}

function copyOf(response: Response | undefined): Response | undefined {
  try {
    return response?.clone();
  } catch {
    return undefined; // a body already read cannot be copied: the waiting call runs its own
  }
}

/** The only `RequestInit` fields a coalesced call may set: anything else could change the answer. */
const PLAIN_INIT = new Set(['method', 'headers', 'signal']);

/** A `Request`'s fields that could change the answer, and their defaults (those of a bare URL). */
const REQUEST_DEFAULTS = { cache: 'default', credentials: 'same-origin', mode: 'cors', redirect: 'follow', referrer: 'about:client', integrity: '' } as const;

/**
 * What makes two calls identical for {@link Coalescer.run}: a `GET` or `HEAD` without a body,
 * the same URL, and the same headers (names and values). Undefined (never coalesced) for any
 * other call: one whose `init` sets more than `method`, `headers` and `signal`, or a `Request`
 * whose cache, credentials, mode, redirect, referrer or integrity is not the default.
 *
 * @example
 * ```ts
 * import { coalesceKey } from './coalescer.js';
 * coalesceKey('https://api.example.com/a', undefined, 'GET', 'https://api.example.com/a'); // 'GET https://api.example.com/a\n[]'
 * ```
 */
export function coalesceKey(input: RequestInfo | URL, init: RequestInit | undefined, method: string, url: string): string | undefined {
  if (method !== 'GET' && method !== 'HEAD') return undefined;
  if (init && Object.keys(init).some((name) => !PLAIN_INIT.has(name))) return undefined;
  const request = asRequest(input);
  if (request && (request.body || Object.entries(REQUEST_DEFAULTS).some(([name, value]) => request[name as keyof typeof REQUEST_DEFAULTS] !== value))) return undefined;
  return `${method} ${url}\n${JSON.stringify([...new Headers(init?.headers ?? request?.headers)])}`;
}
