/**
 * `addressRange`: every special-purpose range at both of its edges, the addresses just outside,
 * the IPv6 forms that carry an IPv4 address, and text that is not an address (fails closed).
 */
import { isIP } from 'node:net';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { addressRange } from '../../src/node/addressRange.js';

const IPV4: Array<[first: string, last: string, range: string, before: string | null, after: string | null]> = [
  ['0.0.0.0', '0.255.255.255', 'unspecified', null, '1.0.0.0'],
  ['10.0.0.0', '10.255.255.255', 'private', '9.255.255.255', '11.0.0.0'],
  ['100.64.0.0', '100.127.255.255', 'shared', '100.63.255.255', '100.128.0.0'],
  ['127.0.0.0', '127.255.255.255', 'loopback', '126.255.255.255', '128.0.0.0'],
  ['169.254.0.0', '169.254.255.255', 'link_local', '169.253.255.255', '169.255.0.0'],
  ['172.16.0.0', '172.31.255.255', 'private', '172.15.255.255', '172.32.0.0'],
  ['192.0.0.0', '192.0.0.255', 'reserved', '191.255.255.255', '192.0.1.0'],
  ['192.0.2.0', '192.0.2.255', 'documentation', '192.0.1.255', '192.0.3.0'],
  ['192.88.99.0', '192.88.99.255', 'reserved', '192.88.98.255', '192.88.100.0'],
  ['192.168.0.0', '192.168.255.255', 'private', '192.167.255.255', '192.169.0.0'],
  ['198.18.0.0', '198.19.255.255', 'benchmarking', '198.17.255.255', '198.20.0.0'],
  ['198.51.100.0', '198.51.100.255', 'documentation', '198.51.99.255', '198.51.101.0'],
  ['203.0.113.0', '203.0.113.255', 'documentation', '203.0.112.255', '203.0.114.0'],
  ['224.0.0.0', '239.255.255.255', 'multicast', '223.255.255.255', null],
  ['240.0.0.0', '255.255.255.255', 'reserved', null, null],
];

describe('IPv4 ranges, at both edges and just outside', () => {
  for (const [first, last, range, before, after] of IPV4) {
    it(`${first}–${last} is ${range}${before ? `; ${before} is public` : ''}${after ? `; ${after} is public` : ''}`, () => {
      expect(addressRange(first)).toBe(range);
      expect(addressRange(last)).toBe(range);
      if (before) expect(addressRange(before)).toBeUndefined();
      if (after) expect(addressRange(after)).toBeUndefined();
    });
  }

  it('common public addresses are public', () => {
    for (const a of ['1.1.1.1', '8.8.8.8', '93.184.216.34', '151.101.1.69', '223.255.255.255']) expect(addressRange(a), a).toBeUndefined();
  });
});

describe('IPv6', () => {
  const cases: Array<[string, string | undefined]> = [
    ['::', 'unspecified'],
    ['::1', 'loopback'],
    ['0:0:0:0:0:0:0:1', 'loopback'],
    ['::2', 'unspecified'], // IPv4-compatible 0.0.0.2: "this network"
    ['::ffff:127.0.0.1', 'loopback'],
    ['::ffff:7f00:1', 'loopback'],
    ['::ffff:169.254.169.254', 'link_local'],
    ['::ffff:a9fe:a9fe', 'link_local'],
    ['::ffff:10.1.2.3', 'private'],
    ['::ffff:8.8.8.8', undefined], // mapped public: public
    ['::127.0.0.1', 'loopback'], // IPv4-compatible
    ['::8.8.8.8', 'reserved'], // IPv4-compatible public: deprecated form, refused
    ['64:ff9b::a9fe:a9fe', 'link_local'], // NAT64 of 169.254.169.254
    ['64:ff9b::7f00:1', 'loopback'],
    ['64:ff9b::808:808', undefined], // NAT64 of 8.8.8.8
    ['64:ff9b:1::1', 'reserved'], // local-use NAT64
    ['64:ff9b:1::808:808', 'reserved'], // local-use NAT64 carrying a public address: still not public
    ['64:1::808:808', 'reserved'], // not NAT64 (second group), outside 2000::/3
    ['2600:ff9b::7f00:1', undefined], // a public address whose second group happens to be ff9b
    ['2a00:db8::1', undefined], // second group db8, but not 2001:db8::/32
    ['2a00:2::1', undefined], // second group 2, but not 2001:2::/48
    ['2002:7f00:1::', 'loopback'], // 6to4 of 127.0.0.1
    ['2002:c0a8:101::1', 'private'], // 6to4 of 192.168.1.1
    ['2002:808:808::1', 'tunnel'],
    ['2001:0:4136:e378::1', 'tunnel'], // Teredo
    ['2001:db8::1', 'documentation'],
    ['2001:db8:ffff:ffff:ffff:ffff:ffff:ffff', 'documentation'],
    ['2001:db9::1', undefined],
    ['3fff::1', 'documentation'],
    ['3fff:fff:ffff::1', 'documentation'],
    ['3fff:1000::1', undefined],
    ['2001:2::1', 'benchmarking'],
    ['2001:2:1::1', 'reserved'],
    ['2001:1ff::1', 'reserved'],
    ['2001:200::1', undefined],
    ['100::1', 'reserved'], // discard-only
    ['fc00::1', 'private'],
    ['fd12:3456::1', 'private'],
    ['fbff::1', 'reserved'],
    ['fe80::1', 'link_local'],
    ['fe80::1%eth0', 'link_local'],
    ['febf::1', 'link_local'],
    ['fec0::1', 'private'],
    ['feff::1', 'private'],
    ['ff02::1', 'multicast'],
    ['ff00::', 'multicast'],
    ['4000::1', 'reserved'],
    ['1fff:ffff::1', 'reserved'],
    ['2000::1', undefined],
    ['2606:4700:4700::1111', undefined],
    ['2a00:1450:4001:82a::200e', undefined],
    ['3ffe:ffff::1', undefined],
  ];
  for (const [address, range] of cases) {
    it(`${address} → ${range ?? 'public'}`, () => expect(addressRange(address)).toBe(range));
  }
});

describe('text that is not an IP address is not_an_address (refused, never public)', () => {
  const junk = [
    '', 'localhost', 'example.com', '127.1', '0x7f.0.0.1', '127.0.0.01', '256.0.0.1', '1.2.3', '1.2.3.4.5', '1.2.3.-4',
    ':::', '1::2::3', '1:2:3:4:5:6:7:8:9', '1:2:3:4:5:6:7', '12345::', 'g::1', '::1.2.3', '1.2.3.4::', '::ffff:1.2.3.4:5',
    '1:2:3:4:5:6:7::8', ' ::1', '[::1', '[::1]', '::1 ', '1.2.3.4%eth0', ':1', '1:', ':', '::ffff:1.2.3.4.5', '1.2.3.4::1',
  ];
  for (const text of junk) {
    it(JSON.stringify(text), () => expect(addressRange(text)).toBe('not_an_address'));
  }

  it('agrees with node:net isIP on what is an address (random texts over the address alphabet)', () => {
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom(...'0123456789abcdef:.'.split('')), maxLength: 24 }), (text) => {
        expect(addressRange(text) === 'not_an_address').toBe(isIP(text) === 0);
      }),
      { numRuns: 3000 },
    );
  });

  it('every IPv4 address Node prints is classified, and the mapped IPv6 form agrees (random addresses)', () => {
    fc.assert(
      fc.property(fc.ipV4(), (v4) => {
        expect(addressRange(v4)).not.toBe('not_an_address');
        expect(addressRange(`::ffff:${v4}`)).toBe(addressRange(v4));
      }),
      { numRuns: 3000 },
    );
  });

  it('every IPv6 address fast-check writes is an address', () => {
    fc.assert(
      fc.property(fc.ipV6(), (v6) => {
        expect(addressRange(v6)).not.toBe('not_an_address');
      }),
      { numRuns: 3000 },
    );
  });
});
