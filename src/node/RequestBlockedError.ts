import { X402Error } from '../errors/X402Error.js';
import type { AddressRange } from './addressRange.js';

/** Why a {@link RequestBlockedError} was thrown. */
export type RequestBlockedReason =
  /** The host resolved to (or is) an address in a special-purpose range: loopback, private, link-local… */
  | 'private_address'
  /** A redirect chain longer than `maxRedirects`. */
  | 'too_many_redirects'
  /** A redirect to a scheme other than `http:` or `https:`. */
  | 'unsupported_scheme';

/**
 * A request that {@link guardAddresses} stopped before it was sent: a hop (the URL asked for, or
 * a redirect) that leads to a non-public address, a redirect chain that is too long, or a redirect
 * to a scheme fetch must not follow (THREATS G2, G3); or a connection that
 * {@link publicAddressLookup} refused because the name resolved to a non-public address. Nothing was sent to the blocked hop; a
 * payment header never reaches one. When the blocked request was a paid one, its reservation is
 * released (the signature never left the process).
 *
 * @example
 * ```ts
 * import { guardAddresses, RequestBlockedError, wrapFetch } from 'x402-autopay/node';
 * const paidFetch = wrapFetch(guardAddresses(fetch), account);
 * try {
 *   await paidFetch('https://api.example.com/report');
 * } catch (error) {
 *   if (error instanceof RequestBlockedError) console.error(error.reason, error.host); // 'private_address' 'metadata.internal'
 * }
 * ```
 */
export class RequestBlockedError extends X402Error {
  /** What was refused. */
  readonly reason: RequestBlockedReason;
  /** The host of the hop that was refused, no path or query (they can carry secrets); for `unsupported_scheme`, the scheme. */
  readonly host: string;
  /**
   * Which hop: 0 is the URL asked for, 1 the first redirect, and so on; `undefined` for a
   * connection refused by {@link publicAddressLookup}, which does not know the request.
   */
  readonly hop: number | undefined;
  /** For `private_address`: the address found and its range, e.g. `169.254.169.254 (link_local)`. */
  readonly address: string | undefined;

  constructor(args: { reason: RequestBlockedReason; host: string; hop?: number; address?: string; range?: AddressRange; maxRedirects?: number }) {
    const where = args.hop === undefined ? 'a connection' : args.hop === 0 ? 'the URL requested' : `redirect ${args.hop}`;
    const address = args.address === undefined ? undefined : `${args.address} (${args.range})`;
    const message =
      args.reason === 'private_address'
        ? `Blocked ${where}: ${args.host} is a non-public address (${address}).`
        : args.reason === 'too_many_redirects'
          ? `Blocked ${where} to ${args.host}: more than ${args.maxRedirects} redirects.`
          : `Blocked ${where}: it leads to the scheme ${args.host}, not http: or https:.`;
    super(message, {
      code: 'request_blocked',
      moneyMoved: 'no',
      details: { reason: args.reason, host: args.host, hop: args.hop, address },
      hint:
        args.reason === 'private_address'
          ? 'If this host is yours and meant to be reached, list it in the allow option; otherwise the server tried to reach your network (SSRF): do not retry.'
          : args.reason === 'too_many_redirects'
            ? 'Call the final URL directly, or raise guardAddresses({ maxRedirects }) if the chain is expected.'
            : 'Do not follow it; ask the API for an http(s) URL.',
    });
    this.reason = args.reason;
    this.host = args.host;
    this.hop = args.hop;
    this.address = address;
  }
}
