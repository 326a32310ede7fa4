/**
 * `publicAddressLookup()`: the address check made where the socket gets its address, so DNS
 * rebinding cannot pass between a check and the connection. Exercised directly (both callback
 * forms of `dns.lookup`), under an undici `Agent` with Node's own fetch against a real loopback
 * server (`*.test` names resolve to 127.0.0.1 through installTestDns), and under `wrapFetch`,
 * where a paid send it stops counts as never sent.
 */
import type { LookupAddress } from 'node:dns';
import type { LookupFunction } from 'node:net';
import { Agent } from 'undici';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { getPayment, memoryStore, wrapFetch } from '../../src/index.js';
import { guardAddresses, publicAddressLookup, RequestBlockedError } from '../../src/node/index.js';
import { challenge, send402 } from '../hostile/common.js';
import { recordingSigner } from '../hostile/harness.js';
import { installTestDns, paywall, startHostileServer, type HostileServer } from '../hostile/hostileServer.js';

let server: HostileServer;
beforeAll(async () => {
  installTestDns();
  server = await startHostileServer();
});
afterAll(() => server.close());
beforeEach(() => server.reset());

/** Calls a lookup function and returns what its callback got. */
function ask(lookup: LookupFunction, hostname: string, all: boolean): Promise<{ error: NodeJS.ErrnoException | null; address: unknown; family: unknown }> {
  return new Promise((resolve) => lookup(hostname, { all }, (error, address, family) => resolve({ error, address, family })));
}

/** A resolver with fixed answers, in both callback forms. */
function fixed(answers: Record<string, string[]>): LookupFunction {
  return ((hostname: string, options: { all?: boolean }, callback: (...args: unknown[]) => void) => {
    const found = answers[hostname];
    if (!found) return process.nextTick(callback, Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' }));
    const entries: LookupAddress[] = found.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
    if (options.all) process.nextTick(callback, null, entries);
    else process.nextTick(callback, null, entries[0]!.address, entries[0]!.family);
  }) as unknown as LookupFunction;
}

describe('the lookup itself', () => {
  const resolver = fixed({ 'public.test': ['93.184.216.34', '2606:4700::1'], 'home.test': ['93.184.216.34', '10.1.2.3'], 'meta.test': ['169.254.169.254'] });

  for (const all of [true, false]) {
    it(`all: ${all} — public answers pass unchanged; a private one fails with RequestBlockedError`, async () => {
      const lookup = publicAddressLookup({ lookup: resolver });
      const ok = await ask(lookup, 'public.test', all);
      expect(ok.error).toBeNull();
      expect(ok.address).toEqual(all ? [{ address: '93.184.216.34', family: 4 }, { address: '2606:4700::1', family: 6 }] : '93.184.216.34');
      if (!all) expect(ok.family).toBe(4);
      const meta = await ask(lookup, 'meta.test', all);
      expect(meta.error).toBeInstanceOf(RequestBlockedError);
      const e = meta.error as unknown as RequestBlockedError;
      expect(e.code).toBe('request_blocked');
      expect(e.moneyMoved).toBe('no');
      expect(e.hop).toBeUndefined();
      expect(e.shortMessage).toBe('Blocked a connection: meta.test is a non-public address (169.254.169.254 (link_local)).');
      expect(e.details).toEqual({ reason: 'private_address', host: 'meta.test', address: '169.254.169.254 (link_local)' });
    });
  }

  it('every address counts: one private address among public ones fails', async () => {
    const e = (await ask(publicAddressLookup({ lookup: resolver }), 'home.test', true)).error as unknown as RequestBlockedError;
    expect(e.address).toBe('10.1.2.3 (private)');
  });

  it('allowed names pass whatever they resolve to (compared as URLs write hosts); resolver errors pass through', async () => {
    const lookup = publicAddressLookup({ lookup: resolver, allow: ['META.test.'] });
    expect((await ask(lookup, 'meta.test', true)).error).toBeNull();
    expect((await ask(lookup, 'home.test', true)).error).toBeInstanceOf(RequestBlockedError);
    const missing = await ask(lookup, 'nowhere.test', true);
    expect(missing.error?.code).toBe('ENOTFOUND');
  });

  it('the default resolver is dns.lookup, read at call time (a *.test name is loopback here)', async () => {
    const e = (await ask(publicAddressLookup(), 'api.lookup.test', true)).error as unknown as RequestBlockedError;
    expect(e.address).toBe('127.0.0.1 (loopback)');
  });

  it('bad options are a TypeError naming the option', () => {
    expect(() => publicAddressLookup(null as never)).toThrow('publicAddressLookup: options must be an object');
    expect(() => publicAddressLookup(5 as never)).toThrow('publicAddressLookup: options must be an object');
    expect(() => publicAddressLookup({ allow: ['*.test'] })).toThrow('publicAddressLookup: options.allow holds "*.test"');
    expect(() => publicAddressLookup({ allow: 'x' as never })).toThrow('publicAddressLookup: options.allow must be an array');
    expect(() => publicAddressLookup({ lookup: 'dns' as never })).toThrow('publicAddressLookup: options.lookup must be a function');
  });
});

describe("under an undici Agent, with Node's fetch", () => {
  it('a name that resolves to loopback is refused at connect: fetch rejects, its cause is RequestBlockedError, the server sees nothing', async () => {
    server.route('api.lookup.test', '/x', (_q, res) => void res.writeHead(200).end('reached'));
    const agent = new Agent({ connect: { lookup: publicAddressLookup() } });
    try {
      const error = await fetch(server.url('api.lookup.test', '/x'), { dispatcher: agent } as RequestInit).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(TypeError);
      expect((error as TypeError).cause).toBeInstanceOf(RequestBlockedError);
      expect(server.seen).toHaveLength(0);
      // Allowed, the same name connects.
      const open = new Agent({ connect: { lookup: publicAddressLookup({ allow: ['api.lookup.test'] }) } });
      expect(await (await fetch(server.url('api.lookup.test', '/x'), { dispatcher: open } as RequestInit)).text()).toBe('reached');
      await open.close();
    } finally {
      await agent.close();
    }
  });

  it('closes the rebinding gap guardAddresses leaves: its check says public, the connection is refused', async () => {
    server.route('api.lookup.test', '/a', (_q, res) => void res.writeHead(302, { location: '/b' }).end());
    server.route('api.lookup.test', '/b', (_q, res) => void res.writeHead(200).end('internal'));
    // The guard's resolver is told "public"; the socket's (the system's) answers loopback.
    const agent = new Agent({ connect: { lookup: publicAddressLookup() } });
    const viaAgent = ((input: RequestInfo | URL, init?: RequestInit) => fetch(input, { ...init, dispatcher: agent } as RequestInit)) as typeof fetch;
    try {
      const guarded = guardAddresses(viaAgent, { scope: 'all', lookup: async () => ['93.184.216.34'] });
      const error = await guarded(server.url('api.lookup.test', '/a')).catch((e: unknown) => e);
      expect((error as TypeError).cause).toBeInstanceOf(RequestBlockedError);
      expect(server.seen).toHaveLength(0);
    } finally {
      await agent.close();
    }
  });
});

describe('under wrapFetch', () => {
  it('a paid send refused at connect was never sent: signed once, no header anywhere, the reservation released', async () => {
    server.route('api.lookup.test', '/paid', paywall((_q, res) => send402('v2', res, challenge('v2'))));
    // The unpaid request connects as usual; the paid one (sent with redirect: 'manual') through the checked agent.
    const checked = new Agent({ connect: { lookup: publicAddressLookup() } });
    const split = ((input: RequestInfo | URL, init?: RequestInit) =>
      init?.redirect === 'manual' ? fetch(input, { ...init, dispatcher: checked } as RequestInit) : fetch(input, init)) as typeof fetch;
    const signer = recordingSigner();
    const paidFetch = wrapFetch(split, signer, { allowInsecureHttp: true, store: memoryStore() });
    try {
      const before = await paidFetch.budget.remaining();
      const error = await paidFetch(server.url('api.lookup.test', '/paid')).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(TypeError);
      expect((error as TypeError).cause).toBeInstanceOf(RequestBlockedError);
      expect(signer.calls).toBe(1);
      expect(server.paymentHeaders()).toHaveLength(0);
      expect(await paidFetch.budget.remaining()).toEqual(before);
      expect((await paidFetch.budget.report()).map((r) => r.status)).toEqual(['released']);
      // Control: through the default agent the same call is paid once.
      const plain = wrapFetch(fetch, recordingSigner(), { allowInsecureHttp: true, store: memoryStore() });
      const paid = await plain(server.url('api.lookup.test', '/paid'));
      expect(getPayment(paid)?.status).toBe('settled');
    } finally {
      await checked.close();
    }
  });
});
