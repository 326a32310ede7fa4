/**
 * The special-purpose range an IP address falls in, or `undefined` for a public (globally
 * routable) address. A request guard refuses every named range: loopback, private networks,
 * link-local (where cloud metadata services answer, `169.254.169.254`), shared carrier NAT,
 * documentation and benchmark nets, multicast, reserved and unspecified addresses. IPv6
 * addresses that carry an IPv4 address (mapped `::ffff:a.b.c.d`, compatible `::a.b.c.d`,
 * NAT64 `64:ff9b::/96`, 6to4 `2002::/16`) are judged by that IPv4 address; Teredo
 * (`2001::/32`) and other tunnels are refused. Text that is not an IP address gives
 * `'not_an_address'`, so a caller that refuses every named range fails closed.
 *
 * Ranges from the IANA IPv4 and IPv6 Special-Purpose Address Registries (RFC 6890 and updates).
 *
 * @param address - an IPv4 address in dotted-decimal form, or an IPv6 address (no brackets).
 * @returns the range's name, or `undefined` when the address is public.
 *
 * @example
 * ```ts
 * import { addressRange } from './addressRange.js';
 * addressRange('169.254.169.254'); // 'link_local'
 * addressRange('::ffff:7f00:1'); // 'loopback' (IPv4-mapped 127.0.0.1)
 * addressRange('93.184.216.34'); // undefined: public
 * ```
 */
export function addressRange(address: string): AddressRange | undefined {
  const v4 = parseIpv4(address);
  if (v4 !== undefined) return ipv4Range(v4);
  const v6 = parseIpv6(address);
  if (v6 !== undefined) return ipv6Range(v6);
  return 'not_an_address';
}

/** The names {@link addressRange} gives. */
export type AddressRange =
  | 'unspecified'
  | 'loopback'
  | 'private'
  | 'shared'
  | 'link_local'
  | 'documentation'
  | 'benchmarking'
  | 'multicast'
  | 'reserved'
  | 'tunnel'
  | 'not_an_address';

/** IPv4 ranges as [first address, prefix length, name], first match wins. */
const IPV4_RANGES: ReadonlyArray<readonly [number, number, AddressRange]> = [
  [ip4(0, 0, 0, 0), 8, 'unspecified'], // "this network"
  [ip4(10, 0, 0, 0), 8, 'private'],
  [ip4(100, 64, 0, 0), 10, 'shared'], // carrier-grade NAT
  [ip4(127, 0, 0, 0), 8, 'loopback'],
  [ip4(169, 254, 0, 0), 16, 'link_local'],
  [ip4(172, 16, 0, 0), 12, 'private'],
  [ip4(192, 0, 0, 0), 24, 'reserved'], // IETF protocol assignments
  [ip4(192, 0, 2, 0), 24, 'documentation'],
  [ip4(192, 88, 99, 0), 24, 'reserved'], // deprecated 6to4 relay anycast
  [ip4(192, 168, 0, 0), 16, 'private'],
  [ip4(198, 18, 0, 0), 15, 'benchmarking'],
  [ip4(198, 51, 100, 0), 24, 'documentation'],
  [ip4(203, 0, 113, 0), 24, 'documentation'],
  [ip4(224, 0, 0, 0), 4, 'multicast'],
  [ip4(240, 0, 0, 0), 4, 'reserved'], // and 255.255.255.255, broadcast
];

function ip4(a: number, b: number, c: number, d: number): number {
  return ((a << 24) | (b << 16) | (c << 8) | d) >>> 0;
}

function ipv4Range(value: number): AddressRange | undefined {
  for (const [first, prefix, name] of IPV4_RANGES) {
    if (value >>> (32 - prefix) === first >>> (32 - prefix)) return name;
  }
  return undefined;
}

/** Dotted-decimal IPv4 (four parts, 0–255, no leading zeros), as a 32-bit number. */
function parseIpv4(text: string): number | undefined {
  const parts = text.split('.');
  if (parts.length !== 4) return undefined;
  let value = 0;
  for (const part of parts) {
    if (!/^(0|[1-9]\d{0,2})$/.test(part) || Number(part) > 255) return undefined;
    value = value * 256 + Number(part);
  }
  return value;
}

/** An IPv6 address as eight 16-bit groups; `::` and a dotted IPv4 tail allowed; a zone (`%eth0`) ignored. */
function parseIpv6(text: string): number[] | undefined {
  // Every part is checked below: hex groups of 1–4 digits, or a dotted IPv4 address at the end.
  const halves = text.split('%')[0]!.split('::');
  if (halves.length > 2) return undefined;
  const groups = (half: string): number[] | undefined => {
    if (half === '') return [];
    const out: number[] = [];
    const parts = half.split(':');
    for (const [i, part] of parts.entries()) {
      if (i === parts.length - 1 && part.includes('.')) {
        const v4 = parseIpv4(part);
        if (v4 === undefined) return undefined;
        out.push(v4 >>> 16, v4 & 0xffff);
      } else if (/^[0-9a-fA-F]{1,4}$/.test(part)) {
        out.push(parseInt(part, 16));
      } else {
        return undefined;
      }
    }
    return out;
  };
  const head = groups(halves[0]!);
  if (halves.length === 1) return head?.length === 8 ? head : undefined;
  const tail = groups(halves[1]!);
  // A dotted IPv4 part may only end the address.
  if (head === undefined || tail === undefined || halves[0]!.includes('.')) return undefined;
  const missing = 8 - head.length - tail.length;
  if (missing < 1) return undefined;
  return [...head, ...new Array<number>(missing).fill(0), ...tail];
}

function ipv6Range(g: number[]): AddressRange | undefined {
  const [g0, g1, g2, g3, g4, g5, g6, g7] = g as [number, number, number, number, number, number, number, number];
  const embedded = (hi: number, lo: number) => ipv4Range(((hi << 16) | lo) >>> 0);
  const zeroUpTo = (n: number) => g.slice(0, n).every((x) => x === 0);
  if (zeroUpTo(7) && g7 === 1) return 'loopback';
  if (zeroUpTo(5) && g5 === 0xffff) return embedded(g6, g7); // IPv4-mapped
  // IPv4-compatible (deprecated), and `::` itself, which carries 0.0.0.0: unspecified.
  if (zeroUpTo(6)) return embedded(g6, g7) ?? 'reserved';
  if (g0 === 0x64 && g1 === 0xff9b && (g2 | g3 | g4 | g5) === 0) return embedded(g6, g7); // NAT64
  if (g0 === 0x2002) return embedded(g1, g2) ?? 'tunnel'; // 6to4: named by the IPv4 address it carries, else a tunnel
  if (g0 === 0x2001 && g1 === 0) return 'tunnel'; // Teredo
  if (g0 === 0x2001 && g1 === 0xdb8) return 'documentation';
  if (g0 === 0x3fff && g1 < 0x1000) return 'documentation'; // 3fff::/20
  if (g0 === 0x2001 && g1 === 2 && g2 === 0) return 'benchmarking';
  if (g0 === 0x2001 && g1 < 0x200) return 'reserved'; // IETF protocol assignments (2001::/23)
  if ((g0 & 0xfe00) === 0xfc00) return 'private'; // unique local fc00::/7
  if ((g0 & 0xffc0) === 0xfe80) return 'link_local';
  if ((g0 & 0xffc0) === 0xfec0) return 'private'; // site-local (deprecated)
  if ((g0 & 0xff00) === 0xff00) return 'multicast';
  // Outside 2000::/3 nothing is assigned for global unicast (this covers discard-only 100::/64,
  // local-use NAT64 64:ff9b:1::/48 and every unassigned block).
  if ((g0 & 0xe000) !== 0x2000) return 'reserved';
  return undefined;
}
