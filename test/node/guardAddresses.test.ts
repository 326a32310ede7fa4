/**
 * `guardAddresses(fetch)` against real HTTP servers on loopback. `*.test` names connect to
 * 127.0.0.1 (installTestDns); the guard's own `lookup` says which of them count as public, so
 * a "public" API can redirect to loopback literals, link-local metadata or names that resolve
 * into private ranges, and the canary origin C proves that a blocked hop is never sent.
 */
import dns from 'node:dns';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { guardAddresses, isX402Error, RequestBlockedError, type GuardAddressesOptions } from '../../src/node/index.js';
import { installTestDns, startHostileServer, type HostileServer } from '../hostile/hostileServer.js';

const PUBLIC = '93.184.216.34';
/** What the guard's lookup answers: the API and the second public host are public; the rest as listed. */
const ADDRESSES: Record<string, string[]> = {
  'api.guard.test': [PUBLIC],
  'other.guard.test': ['2606:4700:4700::1111'],
  'intranet.guard.test': ['10.0.0.5'],
  'mixed.guard.test': [PUBLIC, '192.168.1.20'],
  'mapped.guard.test': ['::ffff:169.254.169.254'],
};
const lookups: string[] = [];
const lookup = async (host: string) => {
  lookups.push(host);
  const found = ADDRESSES[host];
  if (!found) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: 'ENOTFOUND' });
  return found;
};

let server: HostileServer;
let canary: HostileServer;
const bodies: string[] = [];

beforeAll(async () => {
  installTestDns();
  server = await startHostileServer();
  canary = await startHostileServer();
});
afterAll(async () => {
  await server.close();
  await canary.close();
});
beforeEach(() => {
  server.reset();
  canary.reset();
  lookups.length = 0;
  bodies.length = 0;
  canary.route('*', '/collect', (_q, res) => void res.writeHead(200).end('canary'));
});

const url = (host: string, path: string) => server.url(host, path);
const redirect = (status: number, location: string) => (_q: unknown, res: import('node:http').ServerResponse) =>
  void res.writeHead(status, { location }).end('moved');
const ok = (text: string) => (_q: unknown, res: import('node:http').ServerResponse, ctx: { body: string }) => {
  bodies.push(ctx.body);
  res.writeHead(200, { 'content-type': 'text/plain' }).end(text);
};
const guarded = (options: GuardAddressesOptions = {}) => guardAddresses(fetch, { lookup, ...options });

/** Rejects with a RequestBlockedError; returns it. */
async function blocked(run: Promise<unknown>): Promise<RequestBlockedError> {
  const error = await run.then(
    (value) => {
      throw new Error(`expected a RequestBlockedError, got ${value instanceof Response ? value.status : String(value)}`);
    },
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(RequestBlockedError);
  const e = error as RequestBlockedError;
  expect(isX402Error(e)).toBe(true);
  expect(e.code).toBe('request_blocked');
  expect(e.moneyMoved).toBe('no');
  return e;
}

describe('redirects to non-public addresses are never sent', () => {
  const cases: Array<[string, () => string, string, string]> = [
    ['127.0.0.1 (the canary)', () => canary.url('127.0.0.1', '/collect'), '127.0.0.1', 'loopback'],
    ['[::1]', () => canary.url('[::1]', '/collect'), '::1', 'loopback'],
    ['169.254.169.254 (cloud metadata)', () => 'http://169.254.169.254/latest/meta-data/', '169.254.169.254', 'link_local'],
    ['a decimal IPv4 literal (2130706433 = 127.0.0.1)', () => `http://2130706433:${canary.port}/collect`, '127.0.0.1', 'loopback'],
    ['an IPv4-mapped IPv6 literal [::ffff:127.0.0.1]', () => `http://[::ffff:127.0.0.1]:${canary.port}/collect`, '::ffff:7f00:1', 'loopback'],
    ['a name that resolves into 10/8', () => url('intranet.guard.test', '/collect'), '10.0.0.5', 'private'],
    ['a name with one public and one private address', () => url('mixed.guard.test', '/collect'), '192.168.1.20', 'private'],
    ['a name that resolves to an IPv4-mapped metadata address', () => url('mapped.guard.test', '/collect'), '::ffff:169.254.169.254', 'link_local'],
  ];
  for (const [name, target, address, range] of cases) {
    it(`a public API's 302 to ${name} → request_blocked (private_address), C hit 0 times`, async () => {
      server.route('api.guard.test', '/start', redirect(302, target()));
      server.route('*', '/collect', ok('private data'));
      const e = await blocked(guarded()(url('api.guard.test', '/start')));
      expect(e.reason).toBe('private_address');
      expect(e.hop).toBe(1);
      expect(e.address).toBe(`${address} (${range})`);
      expect(e.shortMessage).toBe(`Blocked redirect 1: ${e.host} is a non-public address (${address} (${range})).`);
      expect(e.details).toEqual({ reason: 'private_address', host: e.host, hop: '1', address: `${address} (${range})` });
      expect(e.hint).toBe('If this host is yours and meant to be reached, list it in the allow option; otherwise the server tried to reach your network (SSRF): do not retry.');
      expect(e.message).toContain('Money moved: no');
      expect(canary.seen).toHaveLength(0);
      expect(server.seen.map((s) => s.path)).toEqual(['/start']);
    });
  }

  it('the check is on every hop: public → public → private is refused at hop 2', async () => {
    server.route('api.guard.test', '/a', redirect(301, url('other.guard.test', '/b')));
    server.route('other.guard.test', '/b', redirect(307, canary.url('127.0.0.1', '/collect')));
    const e = await blocked(guarded()(url('api.guard.test', '/a')));
    expect(e.hop).toBe(2);
    expect(server.seen.map((s) => `${s.host}${s.path}`)).toEqual(['api.guard.test/a', 'other.guard.test/b']);
    expect(canary.seen).toHaveLength(0);
    expect(lookups).toEqual(['other.guard.test']);
  });

  it('a redirect back to the same public name is resolved again (DNS rebinding between hops)', async () => {
    let answers = 0;
    const rebinding = async (host: string) => (host === 'api.guard.test' && answers++ > 0 ? ['127.0.0.1'] : lookup(host));
    server.route('api.guard.test', '/a', redirect(302, url('api.guard.test', '/b')));
    server.route('api.guard.test', '/b', ok('internal'));
    const first = guardAddresses(fetch, { lookup: rebinding, scope: 'all' });
    const e = await blocked(first(url('api.guard.test', '/a')));
    expect(e.hop).toBe(1);
    expect(server.seen.map((s) => s.path)).toEqual(['/a']);
  });

  it('a name that does not resolve fails like fetch (TypeError, ENOTFOUND in the cause) and is not sent', async () => {
    server.route('api.guard.test', '/a', redirect(302, url('nowhere.guard.test', '/collect')));
    const error = await guarded()(url('api.guard.test', '/a')).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TypeError);
    expect(((error as TypeError).cause as { code?: string }).code).toBe('ENOTFOUND');
    expect(server.seen.map((s) => s.path)).toEqual(['/a']);
  });

  it('the default lookup is the system resolver (a *.test name connects to 127.0.0.1, so it is loopback)', async () => {
    server.route('api.guard.test', '/a', redirect(302, url('second.guard.test', '/collect')));
    const e = await blocked(guardAddresses(fetch)(url('api.guard.test', '/a')));
    expect(e.address).toBe('127.0.0.1 (loopback)');
    expect(e.host).toBe(`second.guard.test:${server.port}`);
  });
});

describe('what stays allowed', () => {
  it('public hops are followed: the final answer, its URL, redirected = true', async () => {
    server.route('api.guard.test', '/a', redirect(301, url('other.guard.test', '/b')));
    server.route('other.guard.test', '/b', redirect(308, '/c'));
    server.route('other.guard.test', '/c', ok('done'));
    const res = await guarded()(url('api.guard.test', '/a'));
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('done');
    expect(res.url).toBe(url('other.guard.test', '/c'));
    expect(res.redirected).toBe(true);
  });

  it('a call without a redirect is passed through untouched and resolves nothing (scope redirects)', async () => {
    server.route('api.guard.test', '/plain', ok('plain'));
    const res = await guarded()(url('api.guard.test', '/plain'));
    expect(await res.text()).toBe('plain');
    expect(res.redirected).toBe(false);
    expect(lookups).toEqual([]);
  });

  it('the URL asked for may be loopback (scope redirects), and so may its redirects to itself', async () => {
    server.route('127.0.0.1', '/login', redirect(303, '/home'));
    server.route('127.0.0.1', '/home', ok('home'));
    const res = await guarded()(server.url('127.0.0.1', '/login'), { method: 'POST', body: 'x' });
    expect(await res.text()).toBe('home');
    expect(lookups).toEqual([]);
  });

  it('…but a loopback origin may not redirect to another loopback origin', async () => {
    server.route('127.0.0.1', '/away', redirect(302, canary.url('127.0.0.1', '/collect')));
    const e = await blocked(guarded()(server.url('127.0.0.1', '/away')));
    expect(e.hop).toBe(1);
    expect(canary.seen).toHaveLength(0);
  });

  it('hosts in allow are reached whatever their address (names and IP literals, as URLs write them)', async () => {
    server.route('api.guard.test', '/a', redirect(302, canary.url('127.0.0.1', '/collect')));
    const res = await guarded({ allow: ['127.0.0.1'] })(url('api.guard.test', '/a'));
    expect(await res.text()).toBe('canary');
    server.route('api.guard.test', '/b', redirect(302, url('intranet.guard.test', '/collect')));
    server.route('intranet.guard.test', '/collect', ok('intranet'));
    const res2 = await guarded({ allow: ['INTRANET.guard.test.'] })(url('api.guard.test', '/b'));
    expect(await res2.text()).toBe('intranet');
    // The canary listens on 127.0.0.1 only: an allowed [::1] is let through, and refused by the OS.
    server.route('api.guard.test', '/c', redirect(302, canary.url('[::1]', '/collect')));
    const through = await guarded({ allow: ['::1'] })(url('api.guard.test', '/c')).catch((e: unknown) => e);
    expect(through).toBeInstanceOf(TypeError);
    expect(((through as TypeError).cause as { code?: string; address?: string })).toMatchObject({ code: 'ECONNREFUSED', address: '::1' });
  });
});

describe("scope: 'all' holds the URL asked for to public addresses too", () => {
  it('a loopback URL is refused at hop 0, before fetch is called', async () => {
    let calls = 0;
    const counting: typeof fetch = (input, init) => {
      calls++;
      return fetch(input, init);
    };
    const e = await blocked(guardAddresses(counting, { lookup, scope: 'all' })(canary.url('127.0.0.1', '/collect')));
    expect(e.hop).toBe(0);
    expect(e.shortMessage).toBe(`Blocked the URL requested: 127.0.0.1:${canary.port} is a non-public address (127.0.0.1 (loopback)).`);
    expect(calls).toBe(0);
    expect(canary.seen).toHaveLength(0);
  });

  it("also with redirect: 'manual' (the paid request's mode)", async () => {
    const e = await blocked(guarded({ scope: 'all' })(url('intranet.guard.test', '/x'), { redirect: 'manual' }));
    expect(e.hop).toBe(0);
    expect(server.seen).toHaveLength(0);
  });

  it('a public URL passes; an allowed local one passes', async () => {
    server.route('api.guard.test', '/p', ok('public'));
    expect(await (await guarded({ scope: 'all' })(url('api.guard.test', '/p'))).text()).toBe('public');
    expect(await (await guarded({ scope: 'all', allow: ['127.0.0.1'] })(canary.url('127.0.0.1', '/collect'))).text()).toBe('canary');
  });
});

describe('redirects are followed the way fetch follows them', () => {
  const seenAt = (path: string) => server.seen.find((s) => s.path === path)!;

  for (const status of [301, 302, 303]) {
    it(`${status} to a POST: the next hop is a GET without the body or its headers`, async () => {
      server.route('api.guard.test', '/form', redirect(status, '/after'));
      server.route('api.guard.test', '/after', ok('after'));
      const res = await guarded()(url('api.guard.test', '/form'), { method: 'POST', body: 'secret=1', headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-keep': 'yes' } });
      expect(await res.text()).toBe('after');
      expect(seenAt('/after').method).toBe('GET');
      expect(seenAt('/after').headers['content-type']).toBeUndefined();
      expect(seenAt('/after').headers['x-keep']).toBe('yes');
      expect(bodies).toEqual(['']);
    });
  }

  it('303 to a PUT becomes a GET; 301 to a PUT stays a PUT with its body', async () => {
    server.route('api.guard.test', '/put303', redirect(303, '/got'));
    server.route('api.guard.test', '/put301', redirect(301, '/put'));
    server.route('api.guard.test', '/got', ok('got'));
    server.route('api.guard.test', '/put', ok('put'));
    await (await guarded()(url('api.guard.test', '/put303'), { method: 'PUT', body: 'a' })).text();
    await (await guarded()(url('api.guard.test', '/put301'), { method: 'PUT', body: 'b' })).text();
    expect(seenAt('/got').method).toBe('GET');
    expect(seenAt('/put').method).toBe('PUT');
    expect(bodies).toEqual(['', 'b']);
  });

  for (const status of [307, 308]) {
    it(`${status} keeps the method and sends the body again (string, bytes, and a Request's body)`, async () => {
      server.route('api.guard.test', '/keep', redirect(status, '/kept'));
      server.route('api.guard.test', '/kept', ok('kept'));
      await (await guarded()(url('api.guard.test', '/keep'), { method: 'POST', body: 'one' })).text();
      await (await guarded()(url('api.guard.test', '/keep'), { method: 'POST', body: new TextEncoder().encode('two') })).text();
      await (await guarded()(new Request(url('api.guard.test', '/keep'), { method: 'POST', body: 'three' }))).text();
      // `body: null` in init leaves the Request's body in place (Fetch standard), here too.
      await (await guarded()(new Request(url('api.guard.test', '/keep'), { method: 'POST', body: 'four' }), { body: null })).text();
      expect(server.seen.filter((s) => s.path === '/kept').map((s) => s.method)).toEqual(['POST', 'POST', 'POST', 'POST']);
      expect(bodies).toEqual(['one', 'two', 'three', 'four']);
    });
  }

  it('a 307 after a streamed body fails like fetch (TypeError) and sends nothing more', async () => {
    server.route('api.guard.test', '/stream', redirect(307, '/next'));
    server.route('api.guard.test', '/next', ok('next'));
    const body = new ReadableStream<Uint8Array>({
      start(c) {
        c.enqueue(new TextEncoder().encode('streamed'));
        c.close();
      },
    });
    const error = await guarded()(url('api.guard.test', '/stream'), { method: 'POST', body, duplex: 'half' } as RequestInit).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TypeError);
    expect((error as TypeError).message).toBe('fetch failed');
    expect(String((error as TypeError).cause)).toBe('Error: a 307/308 redirect needs the request body again, but it was a stream and has been sent');
    expect(server.seen.map((s) => s.path)).toEqual(['/stream']);
  });

  it('credentials and payment headers stay with their origin; same-origin hops keep them', async () => {
    const headers = { authorization: 'Bearer t', cookie: 'c=1', 'PAYMENT-SIGNATURE': 'sig', 'X-PAYMENT': 'pay', 'x-trace': 't1' };
    server.route('api.guard.test', '/same', redirect(302, '/same2'));
    server.route('api.guard.test', '/same2', redirect(302, url('other.guard.test', '/cross')));
    server.route('other.guard.test', '/cross', ok('cross'));
    await (await guarded()(url('api.guard.test', '/same'), { headers })).text();
    const same = seenAt('/same2').headers;
    expect([same.authorization, same.cookie, same['payment-signature'], same['x-payment']]).toEqual(['Bearer t', 'c=1', 'sig', 'pay']);
    const cross = seenAt('/cross').headers;
    expect([cross.authorization, cross.cookie, cross['payment-signature'], cross['x-payment'], cross['x-trace']]).toEqual([undefined, undefined, undefined, undefined, 't1']);
  });

  it('more than maxRedirects → too_many_redirects, the extra hop not sent; exactly maxRedirects is fine', async () => {
    for (let i = 0; i < 6; i++) server.route('api.guard.test', `/r${i}`, redirect(302, `/r${i + 1}`));
    server.route('api.guard.test', '/r6', ok('end'));
    const e = await blocked(guarded()(url('api.guard.test', '/r0')));
    expect(e.reason).toBe('too_many_redirects');
    expect(e.hop).toBe(6);
    expect(e.address).toBeUndefined();
    expect(e.shortMessage).toBe(`Blocked redirect 6 to api.guard.test:${server.port}: more than 5 redirects.`);
    expect(e.hint).toBe('Call the final URL directly, or raise guardAddresses({ maxRedirects }) if the chain is expected.');
    expect(server.seen.map((s) => s.path)).toEqual(['/r0', '/r1', '/r2', '/r3', '/r4', '/r5']);
    server.reset();
    for (let i = 0; i < 6; i++) server.route('api.guard.test', `/r${i}`, redirect(302, `/r${i + 1}`));
    server.route('api.guard.test', '/r6', ok('end'));
    expect(await (await guarded({ maxRedirects: 6 })(url('api.guard.test', '/r0'))).text()).toBe('end');
    const none = await blocked(guarded({ maxRedirects: 0 })(url('api.guard.test', '/r5')));
    expect(none.hop).toBe(1);
  });

  it('a redirect to another scheme → unsupported_scheme', async () => {
    server.route('api.guard.test', '/file', redirect(302, 'file:///etc/passwd'));
    const e = await blocked(guarded()(url('api.guard.test', '/file')));
    expect(e.reason).toBe('unsupported_scheme');
    expect(e.host).toBe('file:');
    expect(e.shortMessage).toBe('Blocked redirect 1: it leads to the scheme file:, not http: or https:.');
    expect(e.hint).toBe('Do not follow it; ask the API for an http(s) URL.');
  });

  it("redirect: 'manual' returns the 3xx untouched; 'error' is fetch's (TypeError); a 3xx without Location is the answer", async () => {
    server.route('api.guard.test', '/m', redirect(302, canary.url('127.0.0.1', '/collect')));
    const manual = await guarded()(url('api.guard.test', '/m'), { redirect: 'manual' });
    expect(manual.status).toBe(302);
    await expect(guarded()(url('api.guard.test', '/m'), { redirect: 'error' })).rejects.toBeInstanceOf(TypeError);
    server.route('api.guard.test', '/nolocation', (_q, res) => void res.writeHead(302).end('no location'));
    const res = await guarded()(url('api.guard.test', '/nolocation'));
    expect(res.status).toBe(302);
    expect(await res.text()).toBe('no location');
    expect(canary.seen).toHaveLength(0);
  });

  it('an abort between hops stops the chain', async () => {
    const controller = new AbortController();
    server.route('api.guard.test', '/slow', (_q, res) => {
      controller.abort(new Error('stop'));
      res.writeHead(302, { location: '/never' }).end();
    });
    await expect(guarded()(url('api.guard.test', '/slow'), { signal: controller.signal })).rejects.toThrow();
    expect(server.seen.map((s) => s.path)).toEqual(['/slow']);
  });
});

describe('options are checked once, with a TypeError naming the option', () => {
  const bad: Array<[string, unknown]> = [
    ['scope', { scope: 'some' }],
    ['maxRedirects', { maxRedirects: -1 }],
    ['maxRedirects', { maxRedirects: 21 }],
    ['maxRedirects', { maxRedirects: 1.5 }],
    ['lookup', { lookup: 'dns' }],
    ['allow', { allow: 'localhost' }],
    ['allow', { allow: ['*.internal'] }],
    ['allow', { allow: ['10.0.0.7:80'] }],
    ['allow', { allow: ['[::1]:8080'] }],
    ['allow', { allow: ['http://localhost'] }],
    ['allow', { allow: [''] }],
    ['allow', { allow: [7] }],
  ];
  for (const [option, options] of bad) {
    it(`${JSON.stringify(options)} → TypeError about options.${option}`, () => {
      expect(() => guardAddresses(fetch, options as GuardAddressesOptions)).toThrow(new RegExp(`options\\.${option}`));
    });
  }
  it('null options → TypeError', () => {
    expect(() => guardAddresses(fetch, null as unknown as GuardAddressesOptions)).toThrow(new TypeError('guardAddresses: options must be an object'));
    expect(() => guardAddresses(fetch, 5 as unknown as GuardAddressesOptions)).toThrow(new TypeError('guardAddresses: options must be an object'));
  });

  it('the message quotes a bad allow entry; the limits of maxRedirects are accepted', () => {
    expect(() => guardAddresses(fetch, { allow: ['*.internal'] })).toThrow(
      new TypeError('guardAddresses: options.allow holds "*.internal"; expected a host name or IP address, without port, path or wildcard'),
    );
    const long = `${'a'.repeat(200)}/path`;
    expect(() => guardAddresses(fetch, { allow: [long] })).toThrow(`options.allow holds ${JSON.stringify(long).slice(0, 80)};`);
    expect(() => guardAddresses(fetch, { maxRedirects: 20 })).not.toThrow();
    expect(() => guardAddresses(fetch, { maxRedirects: 0 })).not.toThrow();
    expect(() => guardAddresses(fetch, { allow: ['localhost', '[::1]', '::1', '10.0.0.7', 'Intranet.Example.'] })).not.toThrow();
  });
});

describe('edges of following', () => {
  const seenAt = (path: string) => server.seen.find((s) => s.path === path)!;

  it('a public name that redirects to itself is resolved again (scope redirects): rebinding to loopback is refused', async () => {
    // The guard does not resolve the URL asked for (scope redirects); by the redirect, the name points home.
    const rebound = async (host: string) => (host === 'api.guard.test' ? ['127.0.0.1'] : lookup(host));
    server.route('api.guard.test', '/a', redirect(302, '/b'));
    server.route('api.guard.test', '/b', ok('internal'));
    const e = await blocked(guardAddresses(fetch, { lookup: rebound })(url('api.guard.test', '/a')));
    expect(e.hop).toBe(1);
    expect(server.seen.map((s) => s.path)).toEqual(['/a']);
  });

  it('303 to a HEAD stays a HEAD (no body to cancel); 303 to a GET keeps its content-type', async () => {
    server.route('api.guard.test', '/h', redirect(303, '/h2'));
    server.route('api.guard.test', '/h2', ok('h2'));
    server.route('api.guard.test', '/g', redirect(303, '/g2'));
    server.route('api.guard.test', '/g2', ok('g2'));
    expect((await guarded()(url('api.guard.test', '/h'), { method: 'HEAD' })).status).toBe(200);
    expect(seenAt('/h2').method).toBe('HEAD');
    await (await guarded()(url('api.guard.test', '/g'), { headers: { 'content-type': 'text/plain' } })).text();
    expect(seenAt('/g2').method).toBe('GET');
    expect(seenAt('/g2').headers['content-type']).toBe('text/plain');
  });

  it("a Request's signal is kept on every hop: aborted between hops, the next one is not sent", async () => {
    const controller = new AbortController();
    server.route('api.guard.test', '/r1', redirect(302, url('other.guard.test', '/r2')));
    server.route('other.guard.test', '/r2', ok('r2'));
    // Aborted while the second hop is being checked: after the first answer, before the second send.
    const aborting = async (host: string) => {
      controller.abort(new Error('stop'));
      return lookup(host);
    };
    const call = guardAddresses(fetch, { lookup: aborting })(new Request(url('api.guard.test', '/r1'), { signal: controller.signal }));
    await expect(call).rejects.toThrow('stop');
    expect(server.seen.map((s) => s.path)).toEqual(['/r1']);
  });

  it('the default lookup: a name the system cannot resolve stops the hop (its error is the cause)', async () => {
    const original = dns.lookup;
    (dns as { lookup: unknown }).lookup = (hostname: string, options: unknown, callback: (...args: unknown[]) => void) => {
      if (hostname === 'gone.example') return void process.nextTick(callback, Object.assign(new Error('getaddrinfo ENOTFOUND gone.example'), { code: 'ENOTFOUND' }));
      return (original as (...args: unknown[]) => unknown)(hostname, options, callback);
    };
    try {
      server.route('api.guard.test', '/gone', redirect(302, 'http://gone.example/'));
      const error = await guardAddresses(fetch)(url('api.guard.test', '/gone')).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(TypeError);
      expect(((error as TypeError).cause as { code?: string; message?: string })).toMatchObject({ code: 'ENOTFOUND', message: 'getaddrinfo ENOTFOUND gone.example' });
    } finally {
      (dns as { lookup: unknown }).lookup = original;
    }
  });

  it('an async-iterable body cannot be sent again either (307 → TypeError)', async () => {
    server.route('api.guard.test', '/it', redirect(307, '/it2'));
    async function* chunks() {
      yield new TextEncoder().encode('chunk');
    }
    const error = await guarded()(url('api.guard.test', '/it'), { method: 'POST', body: chunks(), duplex: 'half' } as unknown as RequestInit).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TypeError);
    expect(String((error as TypeError).cause)).toContain('it was a stream');
    expect(server.seen.map((s) => s.path)).toEqual(['/it']);
  });

  it('a Location that is not a URL fails like fetch (TypeError); an https: target is let through to fetch', async () => {
    server.route('api.guard.test', '/bad', redirect(302, 'http://[not-an-address/'));
    const error = await guarded()(url('api.guard.test', '/bad')).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TypeError);
    expect((error as TypeError).message).toBe('fetch failed');
    expect((error as TypeError).cause).toBeInstanceOf(TypeError); // the URL parser's
    // The server speaks plain HTTP, so the TLS handshake fails: fetch's error, not the guard's.
    server.route('api.guard.test', '/tls', redirect(302, url('other.guard.test', '/x').replace('http:', 'https:')));
    const tls = await guarded()(url('api.guard.test', '/tls')).catch((e: unknown) => e);
    expect(tls).toBeInstanceOf(TypeError);
    expect(tls).not.toBeInstanceOf(RequestBlockedError);
    expect(lookups).toEqual(['other.guard.test']);
  });

  it('a lookup that fails or finds nothing stops the hop; its error is the cause', async () => {
    server.route('api.guard.test', '/a', redirect(302, url('other.guard.test', '/b')));
    const failure = Object.assign(new Error('resolver down'), { code: 'EAI_AGAIN' });
    const failing = await guardAddresses(fetch, { lookup: () => Promise.reject(failure) })(url('api.guard.test', '/a')).catch((e: unknown) => e);
    expect(failing).toBeInstanceOf(TypeError);
    expect((failing as TypeError).message).toBe('fetch failed');
    expect((failing as TypeError).cause).toBe(failure);
    const empty = await guardAddresses(fetch, { lookup: async () => [] })(url('api.guard.test', '/a')).catch((e: unknown) => e);
    expect(empty).toBeInstanceOf(TypeError);
    expect((empty as TypeError).message).toBe('fetch failed');
    expect(((empty as TypeError).cause as { code?: string; message?: string })).toMatchObject({ code: 'ENOTFOUND', message: `other.guard.test has no address` });
    expect(server.seen.map((s) => s.path)).toEqual(['/a', '/a']);
  });
});

describe('local origins and the fetch underneath (a recording fetch: no network)', () => {
  /** A fetch that answers from a table and records what it was asked. */
  function tableFetch(answers: Record<string, () => Response>) {
    const calls: string[] = [];
    const impl = (async (input: RequestInfo | URL) => {
      const href = input instanceof Request ? input.url : String(input);
      calls.push(href);
      const answer = answers[href];
      if (!answer) throw new TypeError(`no answer for ${href}`);
      return answer();
    }) as typeof fetch;
    return { impl, calls };
  }
  const to = (location: string) => () => new Response(null, { status: 302, headers: { location } });
  const done = () => new Response('done');

  for (const origin of ['http://localhost:3000', 'http://app.localhost:3000', 'http://10.0.0.5', 'http://[fd00::5]:8080']) {
    it(`${origin} may redirect the caller around itself without a lookup, but not elsewhere`, async () => {
      const { impl, calls } = tableFetch({ [`${origin}/a`]: to('/b'), [`${origin}/b`]: done, [`${origin}/c`]: to('http://intranet.guard.test/') });
      const res = await guardAddresses(impl, { lookup })(`${origin}/a`);
      expect(await res.text()).toBe('done');
      expect(calls).toEqual([`${origin}/a`, `${origin}/b`]);
      expect(lookups).toEqual([]);
      const e = await blocked(guardAddresses(impl, { lookup })(`${origin}/c`));
      expect(e.address).toBe('10.0.0.5 (private)');
    });
  }

  it('an IP literal origin redirecting to itself needs no lookup (the same address); a name redirecting to itself is looked up', async () => {
    const { impl, calls } = tableFetch({
      'http://93.184.216.34/a': to('/b'),
      'http://93.184.216.34/b': done,
      'http://api.guard.test/a': to('/b'),
      'http://api.guard.test/b': done,
    });
    expect(await (await guardAddresses(impl, { lookup })('http://93.184.216.34/a')).text()).toBe('done');
    expect(lookups).toEqual([]);
    expect(await (await guardAddresses(impl, { lookup })('http://api.guard.test/a')).text()).toBe('done');
    expect(lookups).toEqual(['api.guard.test']);
    expect(calls).toHaveLength(4);
  });

  it('a URL that does not parse is handed to fetch as it is (fetch gives its own error)', async () => {
    const { impl, calls } = tableFetch({});
    await expect(guardAddresses(impl, { lookup })('/relative/path')).rejects.toThrow('no answer for /relative/path');
    expect(calls).toEqual(['/relative/path']);
  });

  it('a fetch that hides redirects (opaqueredirect, as in browsers) cannot be guarded: TypeError, nothing followed', async () => {
    const opaque = () => Object.defineProperty(new Response(null, { status: 200 }), 'type', { value: 'opaqueredirect' }) as Response;
    const { impl, calls } = tableFetch({ 'http://api.guard.test/a': opaque });
    const error = await guardAddresses(impl, { lookup })('http://api.guard.test/a').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TypeError);
    expect((error as TypeError).message).toBe('fetch failed');
    expect(String((error as TypeError).cause)).toBe('Error: the fetch given to guardAddresses hides redirects (opaqueredirect), so they cannot be checked');
    expect(calls).toHaveLength(1);
  });
});
