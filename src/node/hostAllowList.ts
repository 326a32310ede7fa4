import { isIP } from 'node:net';

/**
 * The `allow` option of {@link guardAddresses} and {@link publicAddressLookup}, checked: each
 * entry an exact host name or IP address as a URL writes it (`'LOCALHOST'` → `'localhost'`,
 * `'::1'` and `'[::1]'` → `'::1'`, a trailing dot dropped), with no port, path or wildcard.
 *
 * @param allow - the option's value.
 * @param caller - the function's name, for the `TypeError` of a bad entry.
 * @returns the hosts, as {@link bareHost} writes them.
 *
 * @example
 * ```ts
 * import { hostAllowList } from './hostAllowList.js';
 * hostAllowList(['Intranet.Example.', '::1'], 'guardAddresses'); // Set { 'intranet.example', '::1' }
 * ```
 */
export function hostAllowList(allow: unknown, caller: string): ReadonlySet<string> {
  if (!Array.isArray(allow)) throw new TypeError(`${caller}: options.allow must be an array of host names`);
  const hosts = new Set<string>();
  for (const entry of allow as unknown[]) hosts.add(allowedHost(entry, caller));
  return hosts;
}

function allowedHost(entry: unknown, caller: string): string {
  if (typeof entry === 'string' && !/[\s/?#@*]/.test(entry)) {
    const literal = isIP(entry) === 6 ? `[${entry}]` : entry;
    try {
      const url = new URL(`http://${literal}`);
      if (!/:\d*$/.test(literal)) return bareHost(url.hostname);
    } catch {
      // falls through to the error below
    }
  }
  throw new TypeError(`${caller}: options.allow holds ${JSON.stringify(String(entry)).slice(0, 80)}; expected a host name or IP address, without port, path or wildcard`);
}

/**
 * A host as the allow list compares it: lower case, without IPv6 brackets or a trailing dot.
 *
 * @param hostname - a URL's `hostname`, or a name given to a resolver.
 * @returns the host in compared form.
 *
 * @example
 * ```ts
 * import { bareHost } from './hostAllowList.js';
 * bareHost('[::1]'); // '::1'
 * bareHost('API.Example.com.'); // 'api.example.com'
 * ```
 */
export function bareHost(hostname: string): string {
  const host = hostname.toLowerCase();
  const unbracketed = host.startsWith('[') ? host.slice(1, -1) : host;
  return unbracketed.endsWith('.') ? unbracketed.slice(0, -1) : unbracketed;
}
