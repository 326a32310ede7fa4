/**
 * The key a place (a route) is remembered by, for prepayment and price pins: the method, the
 * origin and the path; the query string and fragment do not matter, the host always does.
 *
 * @example
 * ```ts
 * import { placeKey } from './placeKey.js';
 * placeKey('get', 'https://API.example.com/weather?city=Oslo'); // 'GET https://api.example.com/weather'
 * ```
 */
export function placeKey(method: string, url: string): string {
  const u = new URL(url);
  return `${method.toUpperCase()} ${u.origin}${u.pathname}`;
}
