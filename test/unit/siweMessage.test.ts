import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { formatSIWEMessage, parseSIWxHeader, verifySIWxSignature } from '@x402/extensions/sign-in-with-x';
import { formatSiweMessage, siweFieldProblem, type SiweFields } from '../../src/wallets/siweMessage.js';
import { readSignInOffer, encodeSignInHeader } from '../../src/protocol/signInOffer.js';
import { toWallet } from '../../src/wallets/toWallet.js';
import { KNOWN_ASSETS } from '../../src/protocol/assets.js';
import type { Challenge } from '../../src/protocol/challenge.js';
import { testAccount } from '../support/challenges.js';

const BASE: SiweFields = {
  domain: 'api.example.com',
  address: testAccount.address,
  uri: 'https://api.example.com/report',
  version: '1',
  chainId: 8453,
  nonce: '0f1e2d3c4b5a69788796a5b4c3d2e1f0',
  issuedAt: '2026-11-21T10:00:00.000Z',
};

/** The official package's message for the same fields (it builds it with the `siwe` library). */
function official(fields: SiweFields): string {
  return formatSIWEMessage({ ...fields, chainId: `eip155:${fields.chainId}`, type: 'eip191', resources: fields.resources ? [...fields.resources] : undefined }, fields.address);
}

describe('formatSiweMessage writes EIP-4361 byte for byte as the verifiers rebuild it', () => {
  it.each<[string, Partial<SiweFields>]>([
    ['the required fields only', {}],
    ['a statement', { statement: "Sign in to read the reports you've bought" }],
    ['every optional field', {
      statement: 'Sign in: access/paid?ok=1',
      expirationTime: '2026-11-21T10:05:00.000Z',
      notBefore: '2026-11-21T09:59:00Z',
      requestId: 'req-42:a@b',
      resources: ['https://api.example.com/report', 'ipfs://bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi'],
    }],
    ['a port and a time offset', { domain: '127.0.0.1:4021', uri: 'http://127.0.0.1:4021/x', issuedAt: '2026-11-21T12:00:00+02:00' }],
  ])('%s', (_name, extra) => {
    const fields = { ...BASE, ...extra };
    expect(formatSiweMessage(fields)).toBe(official(fields));
  });

  it('the same as the official package for any valid fields (property)', () => {
    const word = fc.stringMatching(/^[A-Za-z0-9]{8,40}$/);
    const statement = fc.option(fc.stringMatching(/^[A-Za-z0-9 .,:;!?'()@&=+$/#~_-]{1,80}$/).filter((s) => s.trim() === s && s !== ''), { nil: undefined });
    const date = fc.date({ min: new Date('2000-01-01'), max: new Date('2099-01-01'), noInvalidDate: true }).map((d) => d.toISOString());
    fc.assert(
      fc.property(word, statement, date, fc.option(date, { nil: undefined }), fc.option(date, { nil: undefined }), fc.integer({ min: 1, max: 2 ** 40 }), (nonce, st, issuedAt, expirationTime, notBefore, chainId) => {
        const fields: SiweFields = { ...BASE, nonce, statement: st, issuedAt, expirationTime, notBefore, chainId };
        expect(formatSiweMessage(fields)).toBe(official(fields));
      }),
      { numRuns: 300 },
    );
  });

  it.each<[string, Partial<SiweFields>, RegExp]>([
    ['a line break in the statement (it would forge a line)', { statement: 'hello\nURI: https://bank.example/' }, /statement/],
    ['a carriage return in the statement', { statement: 'hello\rthere' }, /statement/],
    ['non-ASCII text in the statement', { statement: 'payé' }, /statement/],
    ['an empty statement', { statement: '' }, /statement/],
    ['a domain with a path', { domain: 'api.example.com/evil' }, /domain/],
    ['a domain with a space', { domain: 'api.example.com wants' }, /domain/],
    ['a relative URI', { uri: '/report' }, /uri/],
    ['a URI with a space', { uri: 'https://api.example.com/a b' }, /uri/],
    ['version 2', { version: '2' }, /version/],
    ['a short nonce', { nonce: 'abc123' }, /nonce/],
    ['a nonce with a dash', { nonce: 'abcd-1234-efgh' }, /nonce/],
    ['a date without a zone', { issuedAt: '2026-11-21T10:00:00' }, /issuedAt/],
    ['a date that is not one', { expirationTime: '2026-13-45T99:00:00Z' }, /expirationTime/],
    ['a request id with a space', { requestId: 'a b' }, /requestId/],
    ['a resource that is not a URI', { resources: ['not a uri'] }, /resources/],
    ['chain id 0', { chainId: 0 }, /chainId/],
  ])('refuses %s', (_name, extra, field) => {
    const fields = { ...BASE, ...extra };
    expect(siweFieldProblem(fields)).toMatch(field);
    expect(() => formatSiweMessage(fields)).toThrow(TypeError);
  });
});

describe('a sign-in offer, read and signed, verifies with the official verifier', () => {
  const challenge = (info: Record<string, unknown>, chains: unknown[] = [{ chainId: 'eip155:84532', type: 'eip191' }]): Challenge => ({
    version: 2,
    source: 'header',
    error: undefined,
    resource: undefined,
    options: [],
    extensions: { 'sign-in-with-x': { info, supportedChains: chains } },
  });
  const url = 'https://api.example.com/report';
  const now = Date.parse('2026-11-21T10:00:30.000Z');
  const info = { domain: 'api.example.com', uri: url, version: '1', nonce: BASE.nonce, issuedAt: '2026-11-21T10:00:00.000Z', statement: 'Sign in', resources: [url] };

  it('the header parses and verifies as the server reads it, for the wallet address', async () => {
    const offer = readSignInOffer(challenge(info), url, { nowMs: now, maxSeconds: 300, networkAllowed: () => true });
    if (offer.kind !== 'offer') throw new Error(`expected an offer, got ${offer.kind}`);
    const wallet = toWallet(testAccount, KNOWN_ASSETS);
    const signature = await wallet.signMessage!(formatSiweMessage({ ...offer.fields, address: testAccount.address }));
    const payload = parseSIWxHeader(encodeSignInHeader(offer, testAccount.address, signature));
    expect(payload).toMatchObject({ domain: 'api.example.com', address: testAccount.address, chainId: 'eip155:84532', type: 'eip191', nonce: BASE.nonce });
    // No expiry from the server: the client's own, maxSeconds from now.
    expect(payload.expirationTime).toBe(new Date(now + 300_000).toISOString());
    expect(await verifySIWxSignature(payload)).toEqual({ isValid: true, payer: testAccount.address });
  });

  it('a wallet without message signing cannot sign in at all', () => {
    expect(toWallet({ address: testAccount.address, signTypedData: (a: never) => testAccount.signTypedData(a) }, KNOWN_ASSETS).signMessage).toBeUndefined();
  });

  it.each<[string, Record<string, unknown>, string]>([
    ['another domain', { domain: 'bank.example' }, 'siwx_domain_mismatch'],
    ['the same host on another port', { domain: 'api.example.com:8443' }, 'siwx_domain_mismatch'],
    ['a uri on another origin', { uri: 'https://bank.example/login' }, 'siwx_domain_mismatch'],
    ['a uri on http instead of https', { uri: 'http://api.example.com/report' }, 'siwx_domain_mismatch'],
    ['a statement that forges a line', { statement: 'ok\nURI: https://bank.example/' }, 'malformed'],
    ['a short nonce', { nonce: 'abc' }, 'malformed'],
    ['a nonce that is not a string', { nonce: 42 }, 'malformed'],
  ])('an offer with %s is refused whole (%s)', (_name, change, reason) => {
    const offer = readSignInOffer(challenge({ ...info, ...change }), url, { nowMs: now, maxSeconds: 300, networkAllowed: () => true });
    expect(offer).toMatchObject({ kind: 'refused', reason });
  });

  it.each<[string, Record<string, unknown>, unknown[] | undefined, (n: string) => boolean, RegExp]>([
    ['only Solana', {}, [{ chainId: 'solana:5eykt4UsFv8P8NJdTREpY1vzqKqZKvdp', type: 'ed25519' }], () => true, /EVM chain/],
    ['a chain budget.networks refuses', {}, undefined, (n) => n !== 'eip155:84532', /EVM chain/],
    ['an expiry already past', { expirationTime: '2026-11-21T10:00:10.000Z' }, undefined, () => true, /expired/],
    ['a notBefore two minutes ahead', { notBefore: '2026-11-21T10:02:30.000Z' }, undefined, () => true, /not valid yet/],
  ])('an offer with %s is not signed, and the call pays as usual', (_name, change, chains, networkAllowed, why) => {
    const offer = readSignInOffer(challenge({ ...info, ...change }, chains), url, { nowMs: now, maxSeconds: 300, networkAllowed });
    expect(offer.kind).toBe('unusable');
    expect(offer.kind === 'unusable' && offer.why).toMatch(why);
  });

  it("keeps the server's expiry when it comes first, and cuts a later one to maxSeconds", () => {
    const soon = readSignInOffer(challenge({ ...info, expirationTime: '2026-11-21T10:01:00.000Z' }), url, { nowMs: now, maxSeconds: 300, networkAllowed: () => true });
    expect(soon.kind === 'offer' && soon.fields.expirationTime).toBe('2026-11-21T10:01:00.000Z');
    const late = readSignInOffer(challenge({ ...info, expirationTime: '2027-11-21T10:00:00.000Z' }), url, { nowMs: now, maxSeconds: 60, networkAllowed: () => true });
    expect(late.kind === 'offer' && late.fields.expirationTime).toBe(new Date(now + 60_000).toISOString());
  });
});
