/**
 * Property test of keyed calls (THREATS F1/F2, G4): random schedules of calls with a few
 * `Idempotency-Key`s against a server whose every paid answer is drawn at random (settled, a
 * 502, a connection reset before or after settling, a refusal), with the clock moving between
 * calls. The server is a plain fetch function that settles a nonce at most once, like a token.
 *
 * - Without `reconcile`: one key never has more than one nonce, however the calls go.
 * - With `reconcile` (a checker that answers from the server's settlements and the clock): a key
 *   may pay anew only after its earlier authorization expired unused, so no key is ever settled
 *   twice.
 * - Always: every nonce sent is counted once in the ledger, and nothing sent is counted twice.
 *
 * The server may also settle, late, any authorization it was shown that is still valid (a
 * server that holds payments, THREATS F3), between calls and at the end of every schedule.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DuplicateRequestError, isX402Error, memoryStore, wrapFetch, type AuthorizationChecker } from '../../src/index.js';
import { decodeBase64Json, encodeBase64Json } from '../../src/protocol/codec.js';
import { paymentRequiredV2, requirementV2, testAccount } from '../support/challenges.js';
import { countingSigner } from '../support/signers.js';

const URL_ = 'https://api.example.com/report';
const KEYS = ['job-a', 'job-b'] as const;
type Answer = 'settle' | 'bad_gateway' | 'reset_before' | 'reset_after' | 'refuse';
type Op = { kind: 'call'; key: number; answers: Answer[] } | { kind: 'advance'; seconds: number } | { kind: 'lateSettle' };

const answerArb = fc.constantFrom<Answer>('settle', 'bad_gateway', 'reset_before', 'reset_after', 'refuse');
const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('call' as const), key: fc.integer({ min: 0, max: KEYS.length - 1 }), answers: fc.array(answerArb, { minLength: 1, maxLength: 3 }) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('advance' as const), seconds: fc.integer({ min: 0, max: 90 }) }) },
  // Near an authorization's end (signed for 60 s): too late to send again, not yet expired.
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('advance' as const), seconds: fc.integer({ min: 50, max: 59 }) }) },
  // The server settles, late, every authorization it was shown and still can (THREATS F3).
  { weight: 1, arbitrary: fc.constant({ kind: 'lateSettle' as const }) },
);

/** A server that settles each nonce at most once; paid answers are taken from `script` in turn. */
function server(clock: { now: number }, withId: boolean) {
  const settled = new Set<string>();
  const sent: { key: string; nonce: string }[] = [];
  /** Every authorization shown, by nonce, with its validBefore (what the server could still settle). */
  const held = new Map<string, bigint>();
  let script: Answer[] = [];
  const challenge = () =>
    new Response('{}', {
      status: 402,
      headers: { 'PAYMENT-REQUIRED': encodeBase64Json(paymentRequiredV2([requirementV2()], withId ? { extensions: { 'payment-identifier': { info: { required: false }, schema: {} } } } : {})) },
    });
  const fetchImpl = (async (input: RequestInfo | URL, init?: RequestInit) => {
    const headers = new Headers(init?.headers ?? (input instanceof Request ? input.headers : undefined));
    const header = headers.get('payment-signature');
    if (header === null) return challenge();
    const decoded = decodeBase64Json(header, 65536);
    const auth = (decoded.ok ? (decoded.value as { payload: { authorization: { nonce: string; validBefore: string } } }).payload.authorization : undefined)!;
    sent.push({ key: headers.get('idempotency-key') ?? '', nonce: auth.nonce });
    held.set(auth.nonce, BigInt(auth.validBefore));
    const answer = script.shift() ?? 'settle';
    const fresh = !settled.has(auth.nonce) && BigInt(auth.validBefore) > BigInt(Math.floor(clock.now / 1000));
    if (answer === 'reset_before') throw new TypeError('fetch failed: reset before the server read it');
    if (!fresh) return new Response('{}', { status: 402, headers: { 'PAYMENT-REQUIRED': encodeBase64Json(paymentRequiredV2([requirementV2()], { error: 'nonce used or expired' })) } });
    if (answer === 'refuse') return new Response('{}', { status: 402, headers: { 'PAYMENT-REQUIRED': encodeBase64Json(paymentRequiredV2([requirementV2()], { error: 'facilitator busy' })) } });
    settled.add(auth.nonce);
    if (answer === 'reset_after') throw new TypeError('fetch failed: reset after settling');
    if (answer === 'bad_gateway') return new Response('bad gateway', { status: 502 });
    const receipt = encodeBase64Json({ success: true, transaction: `0x${auth.nonce.slice(2)}`, network: 'eip155:84532', payer: testAccount.address });
    return new Response('{"ok":true}', { headers: { 'content-type': 'application/json', 'PAYMENT-RESPONSE': receipt } });
  }) as typeof fetch;
  return {
    fetchImpl,
    settled,
    sent,
    setScript: (answers: Answer[]) => void (script = [...answers]),
    lateSettle: () => {
      for (const [nonce, validBefore] of held) if (validBefore > BigInt(Math.floor(clock.now / 1000))) settled.add(nonce);
    },
  };
}

async function run(ops: Op[], options: { resend: boolean; withId: boolean; reconcile: boolean }) {
  const clock = { now: 1_750_000_000_000 };
  const api = server(clock, options.withId);
  const checker: AuthorizationChecker = {
    async check(authorization) {
      const state = api.settled.has(authorization.nonce) ? 'used' : BigInt(Math.floor(clock.now / 1000)) >= authorization.validBefore ? 'expired' : 'pending';
      return { state, blockNumber: 1n, blockTimestamp: BigInt(Math.floor(clock.now / 1000)), validBefore: authorization.validBefore };
    },
  };
  const store = memoryStore({ clock: () => clock.now });
  const paidFetch = wrapFetch(api.fetchImpl, countingSigner(), {
    clock: () => clock.now,
    store,
    budget: { daily: 'unlimited', perRequest: '1', maxPayments: { perMinute: 10_000, perDay: 100_000 } },
    breaker: false,
    resend: options.resend ? { delayMs: 0 } : false,
    ...(options.reconcile ? { reconcile: checker } : {}),
  });
  for (const op of ops) {
    if (op.kind === 'advance') {
      clock.now += op.seconds * 1000;
      continue;
    }
    if (op.kind === 'lateSettle') {
      api.lateSettle();
      continue;
    }
    api.setScript(op.answers);
    await paidFetch(URL_, { headers: { 'Idempotency-Key': KEYS[op.key]! } }).then(
      (response) => response.arrayBuffer(),
      (error: unknown) => {
        if (!isX402Error(error)) throw error;
        if (error instanceof DuplicateRequestError) expect(['in_flight', 'paid', 'in_doubt', 'conflict']).toContain(error.state);
      },
    );
  }
  return { api, report: await paidFetch.budget.report() };
}

describe('keyed calls under random answers and clock moves', () => {
  it('without reconcile: one nonce per key, ever; every nonce sent counted once', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(opArb, { maxLength: 30 }), fc.boolean(), fc.boolean(), async (ops, resend, withId) => {
        const { api, report } = await run(ops, { resend, withId, reconcile: false });
        for (const key of KEYS) expect(new Set(api.sent.filter((s) => s.key === key).map((s) => s.nonce)).size).toBeLessThanOrEqual(1);
        const nonces = new Set(api.sent.map((s) => s.nonce));
        expect(report).toHaveLength(nonces.size);
        expect(report.every((r) => r.status !== 'released' && r.status !== 'reserved')).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  it('with reconcile: a key pays anew only after its authorization expired unused; no key is settled twice', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(opArb, { maxLength: 30 }), fc.boolean(), async (ops, resend) => {
        const { api, report } = await run(ops, { resend, withId: false, reconcile: true });
        api.lateSettle(); // whatever it still could, the server settles in the end
        for (const key of KEYS) {
          const nonces = [...new Set(api.sent.filter((s) => s.key === key).map((s) => s.nonce))];
          expect(nonces.filter((n) => api.settled.has(n)).length).toBeLessThanOrEqual(1);
          // Every nonce but the last was given back (found expired unused), never one that settled.
          const released = new Set(report.filter((r) => r.status === 'released').map((r) => r.authorization?.nonce));
          for (const nonce of nonces.slice(0, -1)) {
            expect(api.settled.has(nonce)).toBe(false);
            expect(released.has(nonce)).toBe(true);
          }
        }
      }),
      { numRuns: 300 },
    );
  });
});
