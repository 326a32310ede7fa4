/**
 * `sendPaid` on its own: which failures prove that nothing left (so the reservation may be given
 * back), and which leave the outcome unknown (so it stays counted); the resend rules and the
 * caller's abort. The engine-level behaviour is in `engine.ledger.test.ts` and
 * `engine.resend.test.ts`.
 */
import { describe, expect, it } from 'vitest';
import { sendPaid, type SendPaidArgs } from '../../src/internal/sendPaid.js';

/** Arguments whose `send` runs the given steps in turn (a step throws its error, or answers). */
function args(steps: (() => Response | Promise<Response>)[], extra: Partial<SendPaidArgs> = {}) {
  const calls = { sends: 0, resends: [] as string[] };
  const all: SendPaidArgs = {
    send: async () => {
      const step = steps[Math.min(calls.sends++, steps.length - 1)]!;
      return step();
    },
    callerSignal: undefined,
    timeoutMs: 1_000,
    resend: false,
    stillValid: () => true,
    unanswered: (response) => response.status >= 500,
    onResend: (sends, reason) => calls.resends.push(`${sends}:${reason}`),
    ...extra,
  };
  return { all, calls };
}

/** An error as undici throws it: `fetch failed`, with the system error `depth` causes down. */
function failure(code: unknown, depth = 1): Error {
  let error: Error = Object.assign(new Error(`connect ${String(code)}`), { code });
  for (let i = 1; i < depth; i++) error = new Error('wrapped', { cause: error });
  return new TypeError('fetch failed', { cause: error });
}

describe('sendPaid: what proves that nothing was sent', () => {
  it.each(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'ERR_INVALID_URL', 'request_blocked'])(
    '%s on the first send: not_sent (the reservation can be given back)',
    async (code) => {
      const { all } = args([() => Promise.reject(failure(code))]);
      expect(await sendPaid(all)).toMatchObject({ kind: 'not_sent' });
    },
  );

  it('the code is found up to three causes down, not deeper; on the error itself too', async () => {
    for (const depth of [1, 2, 3]) expect((await sendPaid(args([() => Promise.reject(failure('ECONNREFUSED', depth))]).all)).kind, `depth ${depth}`).toBe('not_sent');
    expect((await sendPaid(args([() => Promise.reject(failure('ECONNREFUSED', 4))]).all)).kind).toBe('unknown');
    const direct = Object.assign(new Error('blocked'), { code: 'request_blocked' });
    expect((await sendPaid(args([() => Promise.reject(direct)]).all)).kind).toBe('not_sent');
  });

  it.each([
    ['a reset after sending', 'ECONNRESET'],
    ['a socket closed by the other side', 'UND_ERR_SOCKET'],
    ['a code that is not a string', 111],
    ['no code', undefined],
  ])('%s: unknown (it may have arrived), counted', async (_name, code) => {
    const { all } = args([() => Promise.reject(failure(code))]);
    expect(await sendPaid(all)).toMatchObject({ kind: 'unknown', reason: 'network', sends: 1 });
  });

  it('a cause chain that ends in null: unknown (the chain is read safely)', async () => {
    const { all } = args([() => Promise.reject(new TypeError('fetch failed', { cause: null }))]);
    expect(await sendPaid(all)).toMatchObject({ kind: 'unknown', reason: 'network' });
  });

  it('a thrown value that is not an object: unknown', async () => {
    const { all } = args([() => Promise.reject('ECONNREFUSED')]);
    expect(await sendPaid(all)).toMatchObject({ kind: 'unknown', reason: 'network' });
  });

  it('a connection refused on a resend is still unknown: the first send may have arrived', async () => {
    const { all, calls } = args([() => Promise.reject(failure('ECONNRESET')), () => Promise.reject(failure('ECONNREFUSED'))], { resend: { times: 1, delayMs: 1 } });
    expect(await sendPaid(all)).toMatchObject({ kind: 'unknown', reason: 'network', sends: 2 });
    expect(calls.resends).toEqual(['1:network']);
  });
});

describe('sendPaid: resends and the caller', () => {
  it('a 5xx without a settled receipt is sent again, then answered', async () => {
    const { all, calls } = args([() => new Response('busy', { status: 503 }), () => new Response('ok')], { resend: { times: 1, delayMs: 1 } });
    const result = await sendPaid(all);
    expect(result).toMatchObject({ kind: 'answered', sends: 2 });
    expect(calls.resends).toEqual(['1:server_error']);
  });

  it('no resend once the authorization is too close to expiry', async () => {
    const { all, calls } = args([() => new Response('busy', { status: 503 })], { resend: { times: 3, delayMs: 1 }, stillValid: () => false });
    expect(await sendPaid(all)).toMatchObject({ kind: 'unknown', reason: 'server_error', sends: 1 });
    expect(calls.sends).toBe(1);
  });

  it('a caller that aborts during the pause before a resend: unknown (aborted) with its reason, not sent again', async () => {
    const controller = new AbortController();
    const { all, calls } = args([() => Promise.reject(failure('ECONNRESET'))], { resend: { times: 1, delayMs: 5_000 }, callerSignal: controller.signal });
    const started = Date.now();
    setTimeout(() => controller.abort(new Error('caller gave up')), 20);
    const result = await sendPaid(all);
    expect(result).toMatchObject({ kind: 'unknown', reason: 'aborted', sends: 1 });
    expect((result as { cause?: Error }).cause?.message).toBe('caller gave up');
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(calls.sends).toBe(1);
  });

  it('a caller signal already aborted when the pause would start: no resend, no wait', async () => {
    const controller = new AbortController();
    const { all, calls } = args(
      [
        () => {
          controller.abort(new Error('gone'));
          return new Response('busy', { status: 503 });
        },
      ],
      { resend: { times: 1, delayMs: 5_000 }, callerSignal: controller.signal },
    );
    const started = Date.now();
    // The send answered (503) although the caller aborted meanwhile: the answer says unknown, and nothing is sent again.
    const result = await sendPaid(all);
    expect(result).toMatchObject({ kind: 'unknown', sends: 1 });
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(calls.sends).toBe(1);
  });

  it('an answered send stops its clock: the signal the answer was fetched with never aborts afterwards (its body may still be read)', async () => {
    let signal: AbortSignal | undefined;
    const { all } = args([() => new Response('ok')], { timeoutMs: 30 });
    const result = await sendPaid({ ...all, send: async (s) => ((signal = s), new Response('ok')) });
    expect(result).toMatchObject({ kind: 'answered', sends: 1 });
    await new Promise((resolve) => setTimeout(resolve, 80));
    expect(signal!.aborted).toBe(false);
  });

  it('each send has its own deadline: a send that takes too long is a timeout, never not_sent', async () => {
    const { all } = args([() => new Promise<Response>(() => undefined)], { timeoutMs: 30 });
    const hang = { ...all, send: (signal: AbortSignal) => new Promise<Response>((_, reject) => signal.addEventListener('abort', () => reject(signal.reason))) };
    expect(await sendPaid(hang)).toMatchObject({ kind: 'unknown', reason: 'timeout', sends: 1 });
  });
});
