/**
 * THREATS.md §D — recipient and resource binding, against the hostile server.
 */
import { describe, expect, it } from 'vitest';
import { signInWithX } from '../../src/index.js';
import { BASE_SEPOLIA_USDC, BASE_USDC, PAY_TO, testAccount } from '../support/challenges.js';
import { API, expectOneSignature, recordingSigner, useHostile } from './harness.js';
import { decodePayment, paywall, send402v2 } from './hostileServer.js';
import { VERSIONS, challenge, requirement, send402 } from './common.js';

const h = useHostile();
const OTHER = '0x1111111111111111111111111111111111111111';

describe('D1 payTo swap between a host\'s 402s (pinned per host after the first payment)', () => {
  for (const version of VERSIONS) {
    it(`${version}: 1st 402 → payee A (ONE); next 402 from the same host → payee B → REFUSE(payee_changed)`, async () => {
      let payee = PAY_TO;
      h.server.route(API, '/pin', paywall((_q, res) => send402(version, res, challenge(version, [requirement(version, { payTo: payee })]))));
      const c = h.client();
      expect((await c.paidFetch(h.url('/pin'))).status).toBe(200);
      expectOneSignature(c, h, { to: PAY_TO, value: 10000n });
      payee = OTHER;
      const e = await h.expectRefused(c, () => c.paidFetch(h.url('/pin')), { code: 'payee_changed' });
      expect(e).toMatchObject({ pinned: PAY_TO, offered: OTHER });
      expect(e.host).toMatch(/^api\.hostile\.test:\d+$/);
      // Alternating back to A is fine.
      payee = PAY_TO;
      expect((await c.paidFetch(h.url('/pin'))).status).toBe(200);
      expect(c.signer.calls).toBe(2);
    });
  }

  it('v2: a payee listed in budget.payees.allow may take over', async () => {
    let payee = PAY_TO;
    h.server.route(API, '/pin-allowed', paywall((_q, res) => send402('v2', res, challenge('v2', [requirement('v2', { payTo: payee })]))));
    const c = h.client({ budget: { payees: { allow: [PAY_TO, OTHER] } } });
    expect((await c.paidFetch(h.url('/pin-allowed'))).status).toBe(200);
    payee = OTHER;
    expect((await c.paidFetch(h.url('/pin-allowed'))).status).toBe(200);
    expect(c.signer.typed.map((t) => t.message['to'])).toEqual([PAY_TO, OTHER]);
  });

  it('v2: the pin is per host: another host may name another payee', async () => {
    h.server.route(API, '/a', paywall((_q, res) => send402('v2', res, challenge('v2'))));
    h.server.route('billing.hostile.test', '/b', paywall((_q, res) => send402('v2', res, challenge('v2', [requirement('v2', { payTo: OTHER })]))));
    const c = h.client();
    expect((await c.paidFetch(h.url('/a'))).status).toBe(200);
    expect((await c.paidFetch(h.url('/b', 'billing.hostile.test'))).status).toBe(200);
    expect(c.signer.typed.map((t) => t.message['to'])).toEqual([PAY_TO, OTHER]);
  });

  it('v2: a pinned host offering [cheaper to B, dearer to A] is paid to A, its pinned payee', async () => {
    let accepts = [requirement('v2')];
    h.server.route(API, '/pin-choice', paywall((_q, res) => send402('v2', res, challenge('v2', accepts))));
    const c = h.client();
    expect((await c.paidFetch(h.url('/pin-choice'))).status).toBe(200);
    accepts = [requirement('v2', { payTo: OTHER, amount: '5000' }), requirement('v2', { amount: '20000' })];
    expect((await c.paidFetch(h.url('/pin-choice'))).status).toBe(200);
    expect(c.signer.typed.map((t) => [t.message['to'], t.message['value']])).toEqual([
      [PAY_TO, 10000n],
      [PAY_TO, 20000n],
    ]);
  });

  it('v2: two concurrent first payments to one host naming different payees: at most one payee is ever signed for', async () => {
    let n = 0;
    h.server.route(API, '/race', paywall((_q, res) => send402('v2', res, challenge('v2', [requirement('v2', { payTo: n++ % 2 === 0 ? PAY_TO : OTHER })]))));
    const c = h.client();
    const results = await Promise.allSettled(Array.from({ length: 6 }, () => c.paidFetch(h.url('/race'))));
    const payees = new Set(c.signer.typed.map((t) => t.message['to']));
    expect(payees.size).toBe(1);
    for (const r of results) if (r.status === 'rejected') expect((r.reason as { code: string }).code).toBe('payee_changed');
  });
});

describe('D2 address tricks', () => {
  const tricks: Array<[string, string]> = [
    ['the zero address', '0x0000000000000000000000000000000000000000'],
    ['the payer itself', testAccount.address],
    ['the token contract', BASE_SEPOLIA_USDC],
    ['another known token contract', BASE_USDC],
    ['a bad EIP-55 checksum', PAY_TO.replace('Bc', 'bC')],
    ['the role string "merchant"', 'merchant'],
    ['a 19-byte address', '0x209693Bc6afc0C5328bA36FaF03C514EF31228'],
  ];
  for (const version of VERSIONS) {
    for (const [label, payTo] of tricks) {
      it(`${version}: payTo = ${label} → REFUSE(no_acceptable_option / invalid_payee)`, async () => {
        h.server.route(API, '/payee', (_q, res) => send402(version, res, challenge(version, [requirement(version, { payTo })])));
        const c = h.client();
        await h.expectRefused(c, () => c.paidFetch(h.url('/payee')), { code: 'no_acceptable_option', refusal: 'invalid_payee' });
      });
    }
  }

  it('v2: an all-lower-case payTo is normalised and paid to the checksummed address (ONE)', async () => {
    h.server.route(API, '/lower', paywall((_q, res) => send402('v2', res, challenge('v2', [requirement('v2', { payTo: PAY_TO.toLowerCase() })]))));
    const c = h.client();
    expect((await c.paidFetch(h.url('/lower'))).status).toBe(200);
    expectOneSignature(c, h, { to: PAY_TO, value: 10000n });
    expect(c.signer.typed[0]!.message['to']).toBe(PAY_TO);
  });
});

describe('D3 resource.url spoof', () => {
  it('v2: a redirect lands on another host whose 402 claims resource.url on the trusted host → REFUSE(host_not_allowed)', async () => {
    const trusted = h.url('/report');
    h.server.route(API, '/report', (_q, res) => void res.writeHead(302, { location: h.url('/invoice', 'evil.hostile.test') }).end());
    h.server.route('evil.hostile.test', '/invoice', (_q, res) =>
      send402v2(res, challenge('v2', undefined, { resource: { url: trusted, description: 'the report you asked for' } })),
    );
    const c = h.client({ budget: { hosts: { allow: [API] } } });
    await h.expectRefused(c, () => c.paidFetch(trusted), { code: 'no_acceptable_option', refusal: 'host_not_allowed' });
  });
});

describe('D4 SIWx relay login', () => {
  it('v2: a sign-in-with-x extension for another domain: no SIWE message is signed, no SIGN-IN-WITH-X header is sent', async () => {
    const base = recordingSigner();
    let personalSign = 0;
    const wallet = Object.assign(base, {
      signMessage: async () => {
        personalSign++;
        return '0x' as const;
      },
    });
    const extensions = {
      'sign-in-with-x': {
        info: { domain: 'bank.test', uri: 'https://bank.test/login', version: '1', nonce: 'a'.repeat(32), issuedAt: new Date().toISOString() },
        supportedChains: [{ chainId: 'eip155:84532', type: 'eip191' }],
      },
    };
    h.server.route(API, '/siwx', paywall((_q, res) => send402v2(res, challenge('v2', undefined, { extensions }))));
    const c = h.client({}, wallet);
    expect((await c.paidFetch(h.url('/siwx'))).status).toBe(200);
    expect(personalSign).toBe(0);
    expect(c.signer.typed.map((t) => t.primaryType)).toEqual(['TransferWithAuthorization']);
    expect(h.server.seen.some((s) => 'sign-in-with-x' in s.headers)).toBe(false);
    // The extension is echoed as data, never acted upon.
    expect(decodePayment(h.server.paymentHeaders()[0]).extensions['sign-in-with-x'].info.domain).toBe('bank.test');
  });

  for (const [name, info] of [
    ['a domain of another site', (host: string) => ({ domain: 'bank.test', uri: `http://${host}/siwx` })],
    ['its own domain but a uri on another site', (host: string) => ({ domain: host, uri: 'https://bank.test/login' })],
    ['a statement that forges a URI line of the message', (host: string) => ({ domain: host, uri: `http://${host}/siwx`, statement: 'Welcome\nURI: https://bank.test/login' })],
  ] as const) {
    it(`v2 with signIn: signInWithX(), an offer with ${name} → REFUSE(invalid_challenge): no SIWE message signed, no header sent, nothing paid`, async () => {
      let personalSign = 0;
      const wallet = Object.assign(recordingSigner(), {
        signMessage: async (args: { message: string }) => {
          personalSign++;
          return testAccount.signMessage(args);
        },
      });
      h.server.route(API, '/siwx', paywall((q, res) => {
        const extensions = {
          'sign-in-with-x': {
            info: { version: '1', nonce: 'a'.repeat(32), issuedAt: new Date().toISOString(), ...info(String(q.headers.host)) },
            supportedChains: [{ chainId: 'eip155:84532', type: 'eip191' }],
          },
        };
        send402v2(res, challenge('v2', undefined, { extensions }));
      }));
      const c = h.client({ signIn: signInWithX() }, wallet);
      const e = await h.expectRefused(c, () => c.paidFetch(h.url('/siwx')), { code: 'invalid_challenge' });
      expect(e.reason).toBe(name.includes('statement') ? 'malformed' : 'siwx_domain_mismatch');
      expect(personalSign).toBe(0);
      expect(h.server.seen.some((s) => 'sign-in-with-x' in s.headers)).toBe(false);
    });
  }
});
