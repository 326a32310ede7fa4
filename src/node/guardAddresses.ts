import dns from 'node:dns';
import { isIP } from 'node:net';
import { isStream } from '../internal/isStream.js';
import { addressRange } from './addressRange.js';
import { bareHost, hostAllowList } from './hostAllowList.js';
import { redirectRequest, REDIRECT_STATUSES, type Hop } from './redirectRequest.js';
import { RequestBlockedError } from './RequestBlockedError.js';

/** Options of {@link guardAddresses}. */
export interface GuardAddressesOptions {
  /**
   * Which requests must reach public addresses.
   * - `'redirects'` (default): every redirect hop. The URL you asked for is yours to choose, and
   *   so are redirects that stay on its origin when its host is an IP address or `localhost`
   *   (`http://127.0.0.1:3000/login` → `/home`): they reach the address you chose.
   * - `'all'`: the URL asked for as well; for agents that take URLs from text they do not trust.
   */
  readonly scope?: 'redirects' | 'all';
  /**
   * Hosts that may be reached although their address is not public: exact names or IP
   * addresses as a URL writes them (`'localhost'`, `'10.0.0.7'`, `'[::1]'`), no ports, no globs.
   */
  readonly allow?: readonly string[];
  /** Most redirects followed per call, 0–20 (default 5, THREATS G2). One more is refused. */
  readonly maxRedirects?: number;
  /**
   * Resolves a host name to every address it has (default: the system resolver, `dns.lookup`
   * with `all: true`, which is what Node's fetch connects with).
   */
  readonly lookup?: (hostname: string) => Promise<readonly string[]>;
}

/**
 * Wraps a fetch so that it never reaches a non-public address through a redirect (or, with
 * `scope: 'all'`, at all), and follows at most `maxRedirects` redirects (THREATS G2, G3).
 * Redirects are followed here, one hop at a time, the way fetch follows them (method, body and
 * credential headers by the Fetch standard); before each hop is sent, its host is resolved and
 * every address it has is checked against the special-purpose ranges: loopback, private
 * networks, link-local (cloud metadata at `169.254.169.254`), carrier NAT, documentation,
 * multicast, reserved, and IPv6 forms that carry one of them. A hop that fails is never sent:
 * the call rejects with a {@link RequestBlockedError}. Schemes other than `http:` and `https:`
 * are refused as redirect targets.
 *
 * Put it under `wrapFetch`: `wrapFetch(guardAddresses(fetch), wallet)`. Paid requests are sent
 * with `redirect: 'manual'` and never follow a redirect anyway; the guard keeps the unpaid
 * request that meets the 402 (and everything else your agent fetches) away from your network.
 *
 * Limits: the check resolves a name just before the hop is sent, and fetch resolves it again to
 * connect, so a name whose answer changes in between (DNS rebinding with a zero TTL) can still
 * pass; a fetch with a dispatcher that checks the address it connects to closes that gap. A proxy
 * configured for fetch resolves names itself. Node only: browsers hide redirects from script.
 *
 * @param fetchImpl - the fetch to guard (Node's global `fetch`, or one with a dispatcher).
 * @param options - see {@link GuardAddressesOptions}.
 * @returns a fetch with the same signature.
 *
 * @example
 * ```ts
 * import { guardAddresses, wrapFetch } from 'x402-autopay/node';
 * import { privateKeyToAccount } from 'viem/accounts';
 * const account = privateKeyToAccount(process.env.AGENT_KEY as `0x${string}`);
 * // The agent fetches URLs it was given: none of them, and no redirect, may reach the local network.
 * const paidFetch = wrapFetch(guardAddresses(fetch, { scope: 'all' }), account);
 * ```
 */
export function guardAddresses(fetchImpl: typeof fetch, options: GuardAddressesOptions = {}): typeof fetch {
  const settings = resolveGuardOptions(options);
  const { scope, maxRedirects, lookup, allowed } = settings;

  /** Throws when `url` (hop `hop` of a call) may not be reached. */
  const check = async (url: URL, hop: number): Promise<void> => {
    const host = bareHost(url.hostname);
    if (allowed.has(host)) return;
    const addresses = isIP(host) !== 0 ? [host] : await resolve(lookup, host);
    for (const address of addresses) {
      const range = addressRange(address);
      if (range !== undefined) throw new RequestBlockedError({ reason: 'private_address', host: url.host, hop, address, range });
    }
  };

  return async function guardedFetch(input: RequestInfo | URL, init?: RequestInit): Promise<Response> {
    const request = input instanceof Request ? input : undefined;
    let first: URL;
    try {
      first = new URL(request ? request.url : input instanceof URL ? input.href : String(input));
    } catch {
      // Not an absolute URL: fetch refuses it with its own error, before any connection.
      return fetchImpl(input, init);
    }
    const signal = init?.signal ?? request?.signal ?? undefined;
    if (scope === 'all') await check(first, 0);
    const mode = init?.redirect ?? request?.redirect ?? 'follow';
    if (mode !== 'follow') return fetchImpl(input, init);

    // A body given as a Request's may be needed again by a 307 or 308: keep a copy until then.
    const spare = request?.body ? request.clone() : undefined;
    let spareBytes: ArrayBuffer | undefined;
    const bodyAgain = async (): Promise<BodyInit | undefined> => {
      if (init?.body !== undefined && init.body !== null) {
        if (isStream(init.body)) throw new TypeError('fetch failed', { cause: new Error('a 307/308 redirect needs the request body again, but it was a stream and has been sent') });
        return init.body;
      }
      if (spare) spareBytes ??= await spare.arrayBuffer();
      return spareBytes;
    };
    const fixed = namesItsAddress(bareHost(first.hostname));
    let hop: Hop = {
      url: first,
      method: (init?.method ?? request?.method ?? 'GET').toUpperCase(),
      headers: new Headers(init?.headers ?? request?.headers),
      withBody: true,
    };
    let response = await fetchImpl(input, { ...init, redirect: 'manual' });
    for (let count = 1; ; count++) {
      if (response.type === 'opaqueredirect') {
        throw new TypeError('fetch failed', { cause: new Error('the fetch given to guardAddresses hides redirects (opaqueredirect), so they cannot be checked') });
      }
      const location = REDIRECT_STATUSES.has(response.status) ? response.headers.get('location') : null;
      if (location === null) {
        if (count > 1) Object.defineProperty(response, 'redirected', { value: true });
        return response;
      }
      await response.body?.cancel().catch(() => undefined);
      let target: URL;
      try {
        target = new URL(location, hop.url);
      } catch (cause) {
        throw new TypeError('fetch failed', { cause });
      }
      if (target.protocol !== 'http:' && target.protocol !== 'https:') {
        throw new RequestBlockedError({ reason: 'unsupported_scheme', host: target.protocol, hop: count });
      }
      if (count > maxRedirects) throw new RequestBlockedError({ reason: 'too_many_redirects', host: target.host, hop: count, maxRedirects });
      hop = redirectRequest(hop, response.status, target);
      signal?.throwIfAborted();
      // Redirects that stay on an origin whose host names its address reach the address the caller
      // chose (with scope 'all', one it allowed); anywhere else is resolved and must be public.
      if (!(fixed && target.origin === first.origin)) await check(target, count);
      const body = hop.withBody ? await bodyAgain() : undefined;
      response = await fetchImpl(target.href, {
        ...init,
        method: hop.method,
        headers: hop.headers,
        body: body ?? null,
        redirect: 'manual',
        ...(signal ? { signal } : {}),
      });
    }
  };
}

/** The options of {@link guardAddresses}, checked once. */
interface GuardSettings {
  readonly scope: 'redirects' | 'all';
  readonly maxRedirects: number;
  readonly lookup: (hostname: string) => Promise<readonly string[]>;
  readonly allowed: ReadonlySet<string>;
}

function resolveGuardOptions(options: GuardAddressesOptions): GuardSettings {
  if (typeof options !== 'object' || options === null) throw new TypeError('guardAddresses: options must be an object');
  const { scope = 'redirects', maxRedirects = 5, lookup = systemLookup, allow = [] } = options;
  if (scope !== 'redirects' && scope !== 'all') throw new TypeError(`guardAddresses: options.scope must be 'redirects' or 'all'`);
  if (!Number.isInteger(maxRedirects) || maxRedirects < 0 || maxRedirects > 20) throw new TypeError('guardAddresses: options.maxRedirects must be an integer from 0 to 20');
  if (typeof lookup !== 'function') throw new TypeError('guardAddresses: options.lookup must be a function');
  return { scope, maxRedirects, lookup, allowed: hostAllowList(allow, 'guardAddresses') };
}

/** A host whose address is fixed without asking DNS: an IP address, or this machine (`localhost`, `*.localhost`). */
function namesItsAddress(host: string): boolean {
  return isIP(host) !== 0 || host === 'localhost' || host.endsWith('.localhost');
}

async function resolve(lookup: (hostname: string) => Promise<readonly string[]>, host: string): Promise<readonly string[]> {
  let addresses: readonly string[];
  try {
    addresses = await lookup(host);
  } catch (cause) {
    // As fetch reports a name that does not resolve; nothing was sent.
    throw new TypeError('fetch failed', { cause });
  }
  if (!Array.isArray(addresses) || addresses.length === 0) {
    throw new TypeError('fetch failed', { cause: Object.assign(new Error(`${host} has no address`), { code: 'ENOTFOUND' }) });
  }
  return addresses;
}

/** Every address the system resolver gives for `hostname` (read at call time, so a test may stand in for it). */
function systemLookup(hostname: string): Promise<readonly string[]> {
  return new Promise((resolve, reject) => {
    dns.lookup(hostname, { all: true }, (error, addresses) => {
      if (error) reject(error);
      else resolve(addresses.map((a) => a.address));
    });
  });
}
