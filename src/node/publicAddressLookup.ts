import dns from 'node:dns';
import type { LookupFunction } from 'node:net';
import { addressRange } from './addressRange.js';
import { bareHost, hostAllowList } from './hostAllowList.js';
import { RequestBlockedError } from './RequestBlockedError.js';

/** Options of {@link publicAddressLookup}. */
export interface PublicAddressLookupOptions {
  /** Host names that may resolve to non-public addresses (exact, as in `guardAddresses`). */
  readonly allow?: readonly string[];
  /** The resolver to ask (default `dns.lookup`, read at call time). */
  readonly lookup?: LookupFunction;
}

/**
 * A `lookup` for sockets (`net.connect`, `tls.connect`, an undici `Agent`'s `connect`, an
 * `http.Agent`) that fails when a name resolves to a non-public address: loopback, private,
 * link-local (cloud metadata), carrier NAT, documentation, multicast, reserved. The address is
 * checked where the socket gets it, so a name that changes its answer between a check and the
 * connection (DNS rebinding) cannot slip through: this closes the gap `guardAddresses` leaves.
 * The error is a {@link RequestBlockedError} (code `request_blocked`, with `hop` undefined); a
 * fetch rejects with it as its `cause`, and a paid request it stops counts as never sent.
 * IP addresses written in a URL are not looked up by sockets; `guardAddresses` checks those.
 *
 * @param options - see {@link PublicAddressLookupOptions}.
 * @returns a function with the signature of `dns.lookup`.
 *
 * @example
 * ```ts
 * import { Agent, fetch as undiciFetch } from 'undici';
 * import { guardAddresses, publicAddressLookup, wrapFetch } from 'x402-autopay/node';
 * const agent = new Agent({ connect: { lookup: publicAddressLookup() } });
 * const guarded = guardAddresses(((url, init) => undiciFetch(url, { ...init, dispatcher: agent })) as typeof fetch, { scope: 'all' });
 * const paidFetch = wrapFetch(guarded, account);
 * ```
 */
export function publicAddressLookup(options: PublicAddressLookupOptions = {}): LookupFunction {
  if (typeof options !== 'object' || options === null) throw new TypeError('publicAddressLookup: options must be an object');
  const allowed = hostAllowList(options.allow ?? [], 'publicAddressLookup');
  if (options.lookup !== undefined && typeof options.lookup !== 'function') throw new TypeError('publicAddressLookup: options.lookup must be a function');
  const resolver = options.lookup;
  return (hostname, lookupOptions, callback) => {
    const answer = (error: NodeJS.ErrnoException | null, address: string | dns.LookupAddress[], family?: number) => {
      if (error || allowed.has(bareHost(hostname))) return callback(error, address as string, family as number);
      const found = typeof address === 'string' ? [address] : address.map((a) => a.address);
      for (const one of found) {
        const range = addressRange(one);
        if (range !== undefined) {
          const blocked = new RequestBlockedError({ reason: 'private_address', host: hostname, address: one, range });
          return callback(blocked as RequestBlockedError & NodeJS.ErrnoException, address as string, family as number);
        }
      }
      callback(null, address as string, family as number);
    };
    (resolver ?? dns.lookup)(hostname, lookupOptions, answer as Parameters<LookupFunction>[2]);
  };
}
