import { X_PAYMENT_HEADER } from '../protocol/v1.js';
import { PAYMENT_SIGNATURE_HEADER, SIGN_IN_WITH_X_HEADER } from '../protocol/v2.js';

/** One request of a redirect chain: where it goes, its method and headers, and whether it carries the body. */
export interface Hop {
  readonly url: URL;
  readonly method: string;
  readonly headers: Headers;
  /** Whether the caller's body is sent with this request (false once a redirect turned it into a GET). */
  readonly withBody: boolean;
}

/** The statuses fetch follows (Fetch standard, "redirect status"). */
export const REDIRECT_STATUSES: ReadonlySet<number> = new Set([301, 302, 303, 307, 308]);

/** Headers that describe the body; dropped with it when a redirect turns the request into a GET. */
const BODY_HEADERS = ['content-type', 'content-encoding', 'content-language', 'content-location', 'content-length'];

/**
 * Headers that are credentials for the origin they were sent to: never carried to another origin.
 * The Fetch standard drops `Authorization`; undici also drops `Cookie` and `Proxy-Authorization`;
 * payment and sign-in headers are bearer instruments (THREATS I2) and follow the same rule.
 */
const ORIGIN_BOUND_HEADERS = ['authorization', 'proxy-authorization', 'cookie', PAYMENT_SIGNATURE_HEADER, X_PAYMENT_HEADER, SIGN_IN_WITH_X_HEADER];

/**
 * The request fetch sends after a redirect, by the Fetch standard's "HTTP-redirect fetch": a 303
 * (for anything but GET and HEAD), or a 301 or 302 answering a POST, becomes a GET without the
 * body or the headers that describe it; a 307 or 308 keeps the method and the body. Going to
 * another origin drops the headers that are credentials for the first one.
 *
 * @param hop - the request that was answered with a redirect.
 * @param status - the redirect status (one of {@link REDIRECT_STATUSES}).
 * @param target - the `Location`, resolved against `hop.url`.
 * @returns the next request of the chain.
 *
 * @example
 * ```ts
 * import { redirectRequest } from './redirectRequest.js';
 * const hop = { url: new URL('https://a.example/form'), method: 'POST', headers: new Headers({ 'content-type': 'text/plain' }), withBody: true };
 * redirectRequest(hop, 303, new URL('https://a.example/done')); // GET, no body, no content-type
 * ```
 */
export function redirectRequest(hop: Hop, status: number, target: URL): Hop {
  const headers = new Headers(hop.headers);
  let { method, withBody } = hop;
  if ((status === 303 && method !== 'GET' && method !== 'HEAD') || ((status === 301 || status === 302) && method === 'POST')) {
    method = 'GET';
    withBody = false;
    for (const name of BODY_HEADERS) headers.delete(name);
  }
  if (target.origin !== hop.url.origin) {
    for (const name of ORIGIN_BOUND_HEADERS) headers.delete(name);
  }
  return { url: target, method, headers, withBody };
}
