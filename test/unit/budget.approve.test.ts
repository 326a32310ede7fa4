import { describe, expect, it } from 'vitest';
import { ApprovalDeniedError, getPayment, type Quote } from '../../src/index.js';
import { useMswServer } from '../support/msw.js';
import { BASE_SEPOLIA_USDC, PAY_TO, requirementV2, testAccount } from '../support/challenges.js';
import { BASE_SEPOLIA_USDC_DOMAIN, verifyWirePayload } from '../support/signers.js';
import { failure, line, outcome, payer, sentPayment, serve, usdc } from '../support/paying.js';

const server = useMswServer();
const URL_ = 'https://api.example.com/data';
const ATTACKER = '0x000000000000000000000000000000000000dEaD';

/** Ledger state that must not move when a payment is refused. */
async function snapshot(p: ReturnType<typeof payer>) {
  return { remaining: await p.paidFetch.budget.remaining(), counted: (await p.store.report()).filter((r) => r.status !== 'released') };
}

describe('the approval hook', () => {
  it('approve → paid, the hook asked once with the quote', async () => {
    const wall = serve(server, URL_, [usdc(10_000)]);
    const seen: Quote[] = [];
    const p = payer({ budget: { approve: (q) => (seen.push(q), true) } });
    const response = await p.paidFetch(URL_);
    expect(response.status).toBe(200);
    expect(seen).toHaveLength(1);
    expect(p.signer.calls).toBe(1);
    expect(wall.paid()).toHaveLength(1);
    expect(getPayment(response)!.quote).toBe(seen[0]);
    expect(await line(p.paidFetch, 'global', 'daily')).toMatchObject({ used: '0.01' });
  });

  it('an async approval works the same', async () => {
    serve(server, URL_, [usdc(10_000)]);
    const p = payer({ budget: { approve: async () => new Promise<boolean>((r) => setTimeout(() => r(true), 5)) } });
    expect(await outcome(p.paidFetch, URL_)).toBe('HTTP 200');
  });

  it('deny → ApprovalDeniedError (denied), nothing signed or sent, ledger unchanged', async () => {
    const wall = serve(server, URL_, [usdc(10_000)]);
    const p = payer({ budget: { approve: () => false } });
    const before = await snapshot(p);
    const error = await failure(p.paidFetch, URL_);
    expect(error).toBeInstanceOf(ApprovalDeniedError);
    expect(error).toMatchObject({ code: 'approval_denied', reason: 'denied', moneyMoved: 'no' });
    expect(error.shortMessage).toBe(`Approval of 0.01 USD for ${URL_} was denied.`);
    expect(p.signer.calls).toBe(0);
    expect(wall.paid()).toHaveLength(0);
    expect(await snapshot(p)).toEqual(before);
    // The reservation made before asking was released, and shows so.
    expect((await p.store.report()).map((r) => r.status)).toEqual(['released']);
  });

  it('only a literal true approves: truthy values are a denial', async () => {
    serve(server, URL_, [usdc(10_000)]);
    for (const answer of ['true', 1, {}, 'yes', undefined, null]) {
      const p = payer({ budget: { approve: (() => answer) as unknown as () => boolean } });
      const error = await failure(p.paidFetch, URL_);
      expect(error, String(answer)).toMatchObject({ code: 'approval_denied', reason: 'denied' });
      expect(p.signer.calls).toBe(0);
    }
  });

  it('throw or reject → ApprovalDeniedError (error), the cause kept, nothing signed', async () => {
    serve(server, URL_, [usdc(10_000)]);
    const boom = new Error('ui crashed');
    for (const approve of [
      () => {
        throw boom;
      },
      async () => {
        throw boom;
      },
    ]) {
      const p = payer({ budget: { approve } });
      const before = await snapshot(p);
      const error = await failure(p.paidFetch, URL_);
      expect(error).toMatchObject({ code: 'approval_denied', reason: 'error' });
      expect(error.cause).toBe(boom);
      expect(error.shortMessage).toBe(`Approval of 0.01 USD for ${URL_} failed.`);
      expect(p.signer.calls).toBe(0);
      expect(await snapshot(p)).toEqual(before);
    }
  });

  it('never answers → ApprovalDeniedError (timeout) after approveTimeoutMs, nothing signed', async () => {
    const wall = serve(server, URL_, [usdc(10_000)]);
    const p = payer({ budget: { approve: () => new Promise<boolean>(() => undefined), approveTimeoutMs: 50 } });
    const before = await snapshot(p);
    const started = performance.now();
    const error = await failure(p.paidFetch, URL_);
    const elapsed = performance.now() - started;
    expect(error).toMatchObject({ code: 'approval_denied', reason: 'timeout' });
    expect(error.shortMessage).toBe(`Approval of 0.01 USD for ${URL_} got no answer in time.`);
    expect(elapsed).toBeGreaterThanOrEqual(45);
    expect(elapsed).toBeLessThan(5_000);
    expect(p.signer.calls).toBe(0);
    expect(wall.paid()).toHaveLength(0);
    expect(await snapshot(p)).toEqual(before);
  });

  it('a late "yes" after the timeout pays nothing', async () => {
    const wall = serve(server, URL_, [usdc(10_000)]);
    let approveLate!: (v: boolean) => void;
    const p = payer({ budget: { approve: () => new Promise<boolean>((r) => (approveLate = r)), approveTimeoutMs: 20 } });
    expect(await outcome(p.paidFetch, URL_)).toBe('approval_denied');
    approveLate(true);
    await new Promise((r) => setTimeout(r, 20));
    expect(p.signer.calls).toBe(0);
    expect(wall.paid()).toHaveLength(0);
  });

  it('while the hook decides, the amount is held: a concurrent call cannot spend it', async () => {
    serve(server, URL_, [usdc(10_000)]);
    let answer: ((v: boolean) => void) | undefined;
    let calls = 0;
    const p = payer({
      budget: {
        daily: '0.01',
        approve: () => (++calls === 1 ? new Promise<boolean>((r) => (answer = r)) : true),
      },
    });
    const first = outcome(p.paidFetch, URL_);
    while (!answer) await new Promise((r) => setTimeout(r, 1));
    expect(await outcome(p.paidFetch, URL_)).toBe('budget_exceeded');
    answer!(true);
    expect(await first).toBe('HTTP 200');
    expect(p.signer.calls).toBe(1);
  });
});

describe('the hook sees the frozen quote that is then signed', () => {
  it('same payTo, amount, asset and network as the signature; the quote is frozen', async () => {
    const wall = serve(server, URL_, [usdc(25_000)]);
    let quote: Quote | undefined;
    const p = payer({ budget: { approve: (q) => ((quote = q), true) } }, undefined, testAccount);
    expect(await outcome(p.paidFetch, URL_)).toBe('HTTP 200');
    const sent = sentPayment(wall);
    expect(quote).toBeDefined();
    expect(Object.isFrozen(quote)).toBe(true);
    expect(Object.isFrozen(quote!.option)).toBe(true);
    expect(sent.payload.authorization.to).toBe(quote!.payTo);
    expect(quote!.payTo).toBe(PAY_TO);
    expect(sent.payload.authorization.value).toBe(quote!.amount.toString());
    expect(quote!.amount).toBe(25_000n);
    expect(sent.accepted.asset).toBe(quote!.option.asset);
    expect(quote!.option.asset).toBe(BASE_SEPOLIA_USDC);
    expect(sent.accepted.network).toBe(quote!.network);
    expect(quote!.url).toBe(URL_);
    expect(quote!.host).toBe('api.example.com');
    expect(await verifyWirePayload(sent.payload, BASE_SEPOLIA_USDC_DOMAIN, testAccount.address)).toBe(true);
  });

  it('a hook that tries to change the quote cannot: the original terms are signed', async () => {
    const wall = serve(server, URL_, [usdc(10_000)]);
    const attempts: string[] = [];
    const p = payer(
      {
        budget: {
          approve: (q) => {
            for (const change of [
              () => ((q as { payTo: string }).payTo = ATTACKER),
              () => ((q as { amount: bigint }).amount = 1n),
              () => ((q.option as { payTo: string }).payTo = ATTACKER),
              () => ((q.option as { amount: bigint }).amount = 10n ** 12n),
            ]) {
              try {
                change();
                attempts.push('changed');
              } catch {
                attempts.push('refused');
              }
            }
            return true;
          },
        },
      },
      undefined,
      testAccount,
    );
    expect(await outcome(p.paidFetch, URL_)).toBe('HTTP 200');
    expect(attempts).toEqual(['refused', 'refused', 'refused', 'refused']);
    const sent = sentPayment(wall);
    expect(sent.payload.authorization.to).toBe(PAY_TO);
    expect(sent.payload.authorization.value).toBe('10000');
    expect(sent.accepted.payTo).toBe(PAY_TO);
  });
});

describe('budget.approveAbove', () => {
  it('skips the hook at or below the threshold, asks above it', async () => {
    serve(server, URL_, [usdc(50_000)]);
    serve(server, 'https://api.example.com/dear', [usdc(50_001)]);
    const asked: bigint[] = [];
    const p = payer({ budget: { approveAbove: '0.05', approve: (q) => (asked.push(q.amount), false) } });
    expect(await outcome(p.paidFetch, URL_)).toBe('HTTP 200');
    expect(asked).toEqual([]);
    expect(await outcome(p.paidFetch, 'https://api.example.com/dear')).toBe('approval_denied');
    expect(asked).toEqual([50_001n]);
    expect(p.signer.calls).toBe(1);
  });

  it('without approveAbove every payment is asked', async () => {
    serve(server, URL_, [usdc(1)]);
    let asked = 0;
    const p = payer({ budget: { approve: () => (asked++, true) } });
    expect(await outcome(p.paidFetch, URL_)).toBe('HTTP 200');
    expect(asked).toBe(1);
  });

  it('a declared non-USD token is always asked (the threshold is in USD)', async () => {
    const TOKEN = '0x1c7D4B196Cb0C7B01d743Fbc6116a902379C7238';
    serve(server, URL_, [requirementV2({ asset: TOKEN, amount: '1', extra: { name: 'T', version: '1' } })]);
    let asked = 0;
    const p = payer({
      assets: [{ network: 'eip155:84532', address: TOKEN, decimals: 6, name: 'T', version: '1', symbol: 'T', perRequest: '1' }],
      budget: { approveAbove: '100', approve: () => (asked++, true) },
    });
    expect(await outcome(p.paidFetch, URL_)).toBe('HTTP 200');
    expect(asked).toBe(1);
  });

  it('the hook is never asked for a payment the budget refuses', async () => {
    serve(server, URL_, [usdc(200_000)]);
    let asked = 0;
    const p = payer({ budget: { approve: () => (asked++, true) } });
    expect(await outcome(p.paidFetch, URL_)).toBe('budget_exceeded');
    expect(asked).toBe(0);
  });
});
