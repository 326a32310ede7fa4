import { describe, expect, it } from 'vitest';
import { http, HttpResponse } from 'msw';
import { createWalletClient, custom } from 'viem';
import { parseSIWxHeader } from '@x402/extensions/sign-in-with-x';
import {
  getPayment,
  InvalidChallengeError,
  memoryStore,
  NoAcceptableOptionError,
  signInWithX,
  WalletError,
  wrapFetch,
  type SignInEvent,
  type WalletInput,
  type WrapFetchOptions,
} from '../../src/index.js';
import { foreignRealmFetch, useMswServer } from '../support/msw.js';
import { testAccount } from '../support/challenges.js';
import { signInServer } from '../support/signInMsw.js';
import { countingSigner, fakeProvider } from '../support/signers.js';
import { rejectionOf } from '../support/secrets.js';

const server = useMswServer();
const ORIGIN = 'https://api.example.com';
const URL_ = `${ORIGIN}/report`;

function client(options: WrapFetchOptions = {}, wallet: WalletInput = testAccount) {
  const events: SignInEvent[] = [];
  const store = memoryStore();
  const paidFetch = wrapFetch(fetch, wallet, { store, ...options, on: { signIn: (e) => events.push(e), ...options.on } });
  return { paidFetch, events, store };
}

describe('signIn: sign in instead of paying again (x402 sign-in-with-x)', () => {
  it('off by default: every call pays, no sign-in is made', async () => {
    const s = signInServer();
    server.use(s.handler);
    const c = client();
    expect((await c.paidFetch(URL_)).status).toBe(200);
    expect((await c.paidFetch(URL_)).status).toBe(200);
    expect(s.payments()).toHaveLength(2);
    expect(s.seen.filter((r) => 'sign-in-with-x' in r.headers)).toHaveLength(0);
    expect(c.events).toEqual([]);
  });

  it('pays once, then signs in: the second call costs nothing and is let in', async () => {
    const s = signInServer();
    server.use(s.handler);
    const c = client({ signIn: signInWithX() });
    const first = await c.paidFetch(URL_);
    expect(first.status).toBe(200);
    expect(getPayment(first)?.status).toBe('settled');
    const second = await c.paidFetch(URL_);
    expect(await second.json()).toEqual({ signedInAs: testAccount.address });
    expect(getPayment(second)).toBeUndefined();
    expect(s.payments()).toHaveLength(1);
    // Both sign-ins verified; the first was not enough (nothing paid yet), the second was.
    expect(s.signIns.map((a) => a.valid)).toEqual([true, true]);
    expect(c.events.map((e) => [e.granted, e.status])).toEqual([
      [false, 402],
      [true, 200],
    ]);
    expect(c.events[1]).toMatchObject({ type: 'sign_in', url: URL_, host: 'api.example.com', address: testAccount.address, network: 'eip155:84532' });
    expect((await c.paidFetch.budget.report()).length).toBe(1);
    // The sign-in goes like a payment: no redirect is followed with it.
    expect(s.seen.filter((r) => 'sign-in-with-x' in r.headers).every((r) => r.redirect === 'manual')).toBe(true);
  });

  it('with a fetch answering another realm\'s Response (the undici package\'s): the signed-in answer is returned as it is', async () => {
    const s = signInServer();
    server.use(s.handler);
    const paidFetch = wrapFetch(foreignRealmFetch, testAccount, { store: memoryStore(), signIn: signInWithX() });
    expect((await paidFetch(URL_)).status).toBe(200);
    const second = await paidFetch(URL_);
    expect(await second.json()).toEqual({ signedInAs: testAccount.address });
    expect(getPayment(second)).toBeUndefined();
    expect(s.payments()).toHaveLength(1);
  });

  it('an auth-only route (nothing to pay) lets a signed-in wallet in; without signIn it is no_acceptable_option', async () => {
    const s = signInServer({ authOnly: true });
    server.use(s.handler);
    const signer = countingSigner();
    const off = await rejectionOf(client({}, signer).paidFetch(URL_));
    expect(off).toBeInstanceOf(NoAcceptableOptionError);
    expect((off as Error).message).toMatch(/only takes a sign-in/);
    expect(signer.calls).toBe(0);
    const on = await client({ signIn: signInWithX() }).paidFetch(URL_);
    expect(await on.json()).toEqual({ signedInAs: testAccount.address });
    expect(s.payments()).toHaveLength(0);
  });

  it('the sign-in expires within maxAuthSeconds, even when the server sets no expiry', async () => {
    const s = signInServer();
    server.use(s.handler);
    const before = Date.now();
    await client({ signIn: signInWithX(), maxAuthSeconds: 60 }).paidFetch(URL_);
    const expiry = Date.parse(s.signIns[0]!.payload!.expirationTime!);
    expect(expiry).toBeGreaterThan(before);
    expect(expiry).toBeLessThanOrEqual(Date.now() + 60_000);
  });

  it.each<[string, Record<string, unknown>]>([
    ['another domain (a relayed login)', { domain: 'bank.example' }],
    ['a uri on another origin', { uri: 'https://bank.example/login' }],
  ])('an offer naming %s refuses the whole 402: nothing signed, nothing sent, nothing counted', async (_name, info) => {
    const s = signInServer({ info });
    server.use(s.handler);
    const provider = fakeProvider();
    const c = client({ signIn: signInWithX() }, provider);
    const error = await rejectionOf(c.paidFetch(URL_));
    expect(error).toBeInstanceOf(InvalidChallengeError);
    expect(error).toMatchObject({ code: 'invalid_challenge', reason: 'siwx_domain_mismatch', moneyMoved: 'no' });
    expect((error as Error).message).toMatch(/another site/);
    expect(provider.calls.filter((call) => call.method === 'personal_sign' || call.method === 'eth_signTypedData_v4')).toEqual([]);
    expect(s.seen).toHaveLength(1);
    expect(await c.paidFetch.budget.report()).toEqual([]);
  });

  it('an offer whose statement would forge a line of the message is refused (malformed)', async () => {
    server.use(signInServer({ info: { statement: 'Welcome\nURI: https://bank.example/' } }).handler);
    const signer = countingSigner();
    const error = await rejectionOf(client({ signIn: signInWithX() }, Object.assign(signer, { signMessage: testAccount.signMessage })).paidFetch(URL_));
    expect(error).toMatchObject({ code: 'invalid_challenge', reason: 'malformed' });
    expect((error as InvalidChallengeError).issues[0]?.path).toBe('extensions.sign-in-with-x.info.statement');
    expect(signer.calls).toBe(0);
  });

  it.each<[string, () => { options?: WrapFetchOptions; wallet?: WalletInput; server?: Parameters<typeof signInServer>[0]; init?: RequestInit }]>([
    ['a wallet that cannot sign messages', () => ({ wallet: { address: testAccount.address, signTypedData: (a: never) => testAccount.signTypedData(a) } })],
    ['a chain budget.networks does not admit', () => ({ options: { budget: { networks: { allow: ['eip155:84532'] } } }, server: { chains: [{ chainId: 'eip155:1', type: 'eip191' }] } })],
    ['an expired offer', () => ({ server: { info: { expirationTime: new Date(Date.now() - 1000).toISOString() } } })],
    ['a request the caller already signed in', () => ({ init: { headers: { 'SIGN-IN-WITH-X': 'callers-own' } } })],
  ])('with %s no sign-in is made, and the call pays as usual', async (_name, setup) => {
    const { options = {}, wallet = testAccount, server: serverArgs, init } = setup();
    const s = signInServer(serverArgs);
    server.use(s.handler);
    const c = client({ signIn: signInWithX(), ...options }, wallet);
    expect((await c.paidFetch(URL_, init)).status).toBe(200);
    expect(s.payments()).toHaveLength(1);
    expect(s.seen.filter((r) => r.headers['sign-in-with-x'] !== undefined && r.headers['sign-in-with-x'] !== 'callers-own')).toHaveLength(0);
    expect(c.events).toEqual([]);
  });

  it('a host budget.hosts admits (exactly, or by a glob) gets the sign-in', async () => {
    for (const allow of ['api.example.com', '*.example.com']) {
      const s = signInServer({ paidBy: [testAccount.address] });
      server.use(s.handler);
      const c = client({ signIn: signInWithX(), budget: { hosts: { allow: [allow] } } });
      expect(await (await c.paidFetch(URL_)).json(), allow).toEqual({ signedInAs: testAccount.address });
      expect(s.payments()).toHaveLength(0);
      expect(c.events.map((e) => e.granted)).toEqual([true]);
    }
  });

  it('a host budget.hosts does not admit gets no sign-in (the payment is refused as ever)', async () => {
    const s = signInServer();
    server.use(s.handler);
    const provider = fakeProvider();
    const error = await rejectionOf(client({ signIn: signInWithX(), budget: { hosts: { allow: ['other.example.com'] } } }, provider).paidFetch(URL_));
    expect(error).toBeInstanceOf(NoAcceptableOptionError);
    expect((error as NoAcceptableOptionError).refusals.map((r) => r.code)).toEqual(['host_not_allowed']);
    expect(provider.calls.map((call) => call.method)).not.toContain('personal_sign');
    expect(s.seen).toHaveLength(1);
  });

  it('a wallet that refuses to sign in: wallet_error (sign_in), nothing paid, nothing counted', async () => {
    const s = signInServer();
    server.use(s.handler);
    const signer = countingSigner();
    const wallet = Object.assign(signer, { signMessage: async () => Promise.reject(new Error('User rejected the request.')) });
    const c = client({ signIn: signInWithX() }, wallet);
    const error = await rejectionOf(c.paidFetch(URL_));
    expect(error).toBeInstanceOf(WalletError);
    expect((error as Error).message).toMatch(/could not sign in/);
    expect(signer.calls).toBe(0);
    expect(s.seen).toHaveLength(1);
    expect(await c.paidFetch.budget.report()).toEqual([]);
  });

  it('a signed-in request that fails in transit: the first 402 is paid as usual', async () => {
    const s = signInServer();
    let dropped = 0;
    server.use(
      http.all(URL_, ({ request }) => {
        if (request.headers.has('sign-in-with-x') && dropped++ === 0) return HttpResponse.error();
        return undefined;
      }),
      s.handler,
    );
    const c = client({ signIn: signInWithX() });
    expect((await c.paidFetch(URL_)).status).toBe(200);
    expect(s.payments()).toHaveLength(1);
    expect(c.events).toEqual([expect.objectContaining({ granted: false })]);
    expect(c.events[0]).not.toHaveProperty('status');
  });

  it('an EIP-1193 provider signs in with personal_sign (hex message, then the address)', async () => {
    const s = signInServer();
    server.use(s.handler);
    const provider = fakeProvider();
    const c = client({ signIn: signInWithX() }, provider);
    await c.paidFetch(URL_);
    expect((await c.paidFetch(URL_)).status).toBe(200);
    expect(s.payments()).toHaveLength(1);
    const personal = provider.calls.filter((call) => call.method === 'personal_sign');
    expect(personal).toHaveLength(2);
    const [data, from] = personal[0]!.params as [string, string];
    expect(data).toMatch(/^0x[0-9a-f]+$/);
    expect(Buffer.from(data.slice(2), 'hex').toString('utf8')).toMatch(/^api\.example\.com wants you to sign in with your Ethereum account:\n0x/);
    expect(from.toLowerCase()).toBe(testAccount.address.toLowerCase());
    expect(s.signIns.every((a) => a.valid)).toBe(true);
  });

  it('a viem WalletClient signs in through its signMessage', async () => {
    const s = signInServer();
    server.use(s.handler);
    const walletClient = createWalletClient({ account: testAccount, transport: custom(fakeProvider()) });
    const c = client({ signIn: signInWithX() }, walletClient);
    await c.paidFetch(URL_);
    expect(await (await c.paidFetch(URL_)).json()).toEqual({ signedInAs: testAccount.address });
    expect(s.payments()).toHaveLength(1);
  });

  it('with prepay, a place that takes sign-ins is not prepaid: the next call signs in for free', async () => {
    const s = signInServer();
    server.use(s.handler);
    const c = client({ signIn: signInWithX(), prepay: true });
    await c.paidFetch(URL_);
    const second = await c.paidFetch(URL_);
    expect(await second.json()).toEqual({ signedInAs: testAccount.address });
    expect(s.payments()).toHaveLength(1);
  });

  it('neither the sign-in header nor its signature appears in events or errors', async () => {
    const s = signInServer({ info: { domain: 'bank.example' } });
    const ok = signInServer({ url: `${ORIGIN}/ok` });
    server.use(s.handler, ok.handler);
    const seenEvents: unknown[] = [];
    const c = client({ signIn: signInWithX(), on: { signIn: (e) => seenEvents.push(e), payment: (e) => seenEvents.push(e), denied: (e) => seenEvents.push(e) } });
    const error = await rejectionOf(c.paidFetch(URL_));
    await c.paidFetch(`${ORIGIN}/ok`);
    await c.paidFetch(`${ORIGIN}/ok`);
    const sent = ok.seen.map((r) => r.headers['sign-in-with-x']).filter((h): h is string => h !== undefined);
    expect(sent.length).toBe(2);
    const signatures = sent.map((h) => parseSIWxHeader(h).signature);
    const text = JSON.stringify(seenEvents, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v)) + String(error) + JSON.stringify(error);
    for (const secret of [...sent, ...signatures]) expect(text).not.toContain(secret.slice(8, 40));
  });
});
