/**
 * True for host names that cannot leave the machine: `localhost`, `*.localhost` (RFC 6761),
 * `127.0.0.0/8` and `[::1]`.
 *
 * @example
 * ```ts
 * import { isLoopbackHost } from './transport.js';
 * isLoopbackHost('127.0.0.1'); // true
 * isLoopbackHost('api.example.com'); // false
 * ```
 */
export function isLoopbackHost(hostname: string): boolean {
  const host = hostname.toLowerCase().replace(/\.$/, '');
  return host === 'localhost' || host.endsWith('.localhost') || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host) || host === '[::1]';
}

/**
 * Whether a payment may be made for a 402 that came from `url`: over `https:`, or over `http:`
 * to a loopback host, or over `http:` anywhere when the caller allowed it. Any other scheme, or a
 * URL that does not parse, is refused (THREATS G4).
 *
 * @example
 * ```ts
 * import { transportAllowed } from './transport.js';
 * transportAllowed('http://api.example.com/x', false); // false
 * ```
 */
export function transportAllowed(url: string, allowInsecureHttp: boolean): boolean {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return false;
  }
  if (parsed.protocol === 'https:') return true;
  if (parsed.protocol !== 'http:') return false;
  return allowInsecureHttp || isLoopbackHost(parsed.hostname);
}
