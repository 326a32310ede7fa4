/**
 * The key a host is remembered by (payee pins, circuit breaker): lower-case `name:port` as the
 * URL holds it (`api.example.com`, `127.0.0.1:8402`), so two services on one name but different
 * ports are two hosts. Empty for a URL that does not parse.
 *
 * @example
 * ```ts
 * import { hostKey } from './hostKey.js';
 * hostKey('https://API.example.com:443/x'); // 'api.example.com'
 * ```
 */
export function hostKey(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return '';
  }
}
