import { X402Error } from './X402Error.js';

/**
 * The 402 came over plain `http:` from a host that is not loopback. Payment terms are not signed
 * by the server, so anyone on the path could have rewritten them (`payTo`, amount), and the
 * payment header would travel in clear. Nothing was signed.
 *
 * @example
 * ```ts
 * import { wrapFetch } from 'x402-autopay';
 * // Only for a trusted local network:
 * const paidFetch = wrapFetch(fetch, account, { allowInsecureHttp: true });
 * ```
 */
export class InsecureTransportError extends X402Error {
  constructor(args: { url: string }) {
    super(`The 402 from ${args.url} came over plain HTTP; payments go over HTTPS only.`, {
      code: 'insecure_transport',
      moneyMoved: 'no',
      details: { url: args.url },
      hint: 'Use the https:// URL of the API. For a trusted local network only, set options.allowInsecureHttp (loopback hosts are always allowed).',
    });
  }
}
