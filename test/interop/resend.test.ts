/**
 * Resending the same payment against the OFFICIAL x402 servers on anvil (THREATS F2: "distinct
 * settled nonces per purchase = 1"). A front on 127.0.0.1 forwards to the v2 or v1 server and,
 * on the first paid request of a run, loses something: the request before it reaches the server
 * (`lose-request`), or the server's answer after the server settled on chain (`lose-answer`), by
 * cutting the connection. The client sends the same header again, within the call (`resend`) or
 * when the caller calls again with the same `Idempotency-Key`; the chain shows one transfer.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { privateKeyToAccount } from 'viem/accounts';
import { chainChecker, getPayment, SettlementUnknownError, wrapFetch, type ResendEvent } from '../../src/index.js';
import { PRICES } from '../../examples/local-stack/index.js';
import { forward } from '../support/httpProxy.js';
import { useLocalStack } from '../support/localStack.js';

const TIMEOUT = 90_000;

/** What the front does to the first paid request it sees. */
type Fault = 'lose-request' | 'lose-answer';

interface LossyFront {
  readonly url: string;
  /** The payment header of every paid request that reached the front, in order. */
  readonly paidHeaders: string[];
  /** How many paid requests the front passed on to the server. */
  forwarded: number;
  fault: Fault;
  close(): Promise<void>;
}

async function startLossyFront(target: string): Promise<LossyFront> {
  const front: LossyFront = {
    url: '',
    paidHeaders: [],
    forwarded: 0,
    fault: 'lose-request',
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
  const server: Server = createServer((request, response) => {
    void (async () => {
      const header = request.headers['payment-signature'] ?? request.headers['x-payment'];
      const first = typeof header === 'string' && front.paidHeaders.push(header) === 1;
      if (first && front.fault === 'lose-request') return void request.socket.destroy();
      if (typeof header === 'string') front.forwarded++;
      const answer = await forward(request, target, request.url ?? '/');
      if (first && front.fault === 'lose-answer') return void request.socket.destroy();
      response.writeHead(answer.status, { ...answer.headers, 'content-length': String(answer.body.byteLength) });
      response.end(answer.body);
    })().catch(() => request.socket.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  (front as { url: string }).url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return front;
}

const stack = useLocalStack(TIMEOUT);

for (const version of ['v2', 'v1'] as const) {
  describe(`x402 ${version}: a lost request or answer, then the same payment again`, { timeout: TIMEOUT }, () => {
    let front: LossyFront;
    beforeAll(async () => {
      front = await startLossyFront(stack()[version].url);
    });
    afterAll(() => front?.close());

    async function run(fault: Fault, options: { resend?: false; headers?: Record<string, string> } = {}) {
      front.fault = fault;
      front.paidHeaders.length = 0;
      front.forwarded = 0;
      const payer = await stack().newPayer(1_000_000n);
      const payTo = stack()[version].payTo;
      const before = { payer: await stack().balanceOf(payer.address), payee: await stack().balanceOf(payTo) };
      const resends: ResendEvent[] = [];
      const paidFetch = wrapFetch(fetch, privateKeyToAccount(payer.privateKey), {
        resend: options.resend ?? { delayMs: 50 },
        on: { resend: (e) => resends.push(e) },
        // 'latest': anvil's finalized block trails by 64, and nothing here depends on finality.
        reconcile: chainChecker({ 'eip155:84532': stack().publicClient }, { blockTag: 'latest' }),
      });
      const call = () => paidFetch(`${front.url}/weather`, { headers: options.headers ?? {} }).catch((error: unknown) => error);
      const outcome = await call();
      const moved = async () => ({ payer: before.payer - (await stack().balanceOf(payer.address)), payee: (await stack().balanceOf(payTo)) - before.payee });
      return { outcome, moved: await moved(), resends, paidFetch, call, movedNow: moved };
    }

    /** One payment, sent twice as the same header after a network loss (`forwarded` of them reached the server), and moved on chain once. */
    function expectOnePaymentSentTwice(seen: { forwarded: number; resends: ResendEvent[]; moved: { payer: bigint; payee: bigint } }) {
      expect(front.paidHeaders).toHaveLength(2);
      expect(front.paidHeaders[1]).toBe(front.paidHeaders[0]);
      expect(front.forwarded).toBe(seen.forwarded);
      expect(seen.resends.map((e) => e.reason)).toEqual(['network']);
      expect(seen.moved).toEqual({ payer: PRICES.weather, payee: PRICES.weather });
    }

    it('the paid request is lost on the way: the resend is settled, once', async () => {
      const { outcome, moved, resends, paidFetch } = await run('lose-request');
      expect(outcome).toBeInstanceOf(Response);
      const response = outcome as Response;
      expect(response.status).toBe(200);
      expect(getPayment(response)).toMatchObject({ status: 'settled', amount: PRICES.weather });
      expectOnePaymentSentTwice({ forwarded: 1, resends, moved });
      expect((await paidFetch.budget.report()).map((r) => r.status)).toEqual(['settled']);
    });

    it('the answer is lost after the server settled: the same nonce again is refused, the outcome stays unknown, and the chain shows it paid once', async () => {
      const { outcome, moved, resends, paidFetch } = await run('lose-answer');
      expect(outcome).toBeInstanceOf(SettlementUnknownError);
      const error = outcome as SettlementUnknownError;
      expect(error).toMatchObject({ reason: 'refused_after_resend', sends: 2, moneyMoved: 'maybe' });
      expect(error.response?.status).toBe(402);
      expectOnePaymentSentTwice({ forwarded: 2, resends, moved });
      // The chain settles the question: the nonce is used, and reconciling records the payment settled.
      expect((await paidFetch.budget.report()).map((r) => r.status)).toEqual(['unknown']);
      const reconciled = await paidFetch.budget.reconcile();
      expect(reconciled.map((r) => [r.authorization.nonce, r.state])).toEqual([[error.authorization.nonce, 'used']]);
      expect((await paidFetch.budget.report()).map((r) => r.status)).toEqual(['settled']);
    });

    it('with an Idempotency-Key, the caller calling again after a lost request sends the same payment: settled once', async () => {
      const { outcome, call, movedNow } = await run('lose-request', { resend: false, headers: { 'Idempotency-Key': `interop-${version}-1` } });
      expect(outcome).toBeInstanceOf(SettlementUnknownError);
      const again = await call();
      expect(again).toBeInstanceOf(Response);
      expect(getPayment(again as Response)).toMatchObject({ status: 'settled', amount: PRICES.weather });
      expect(front.paidHeaders).toHaveLength(2);
      expect(front.paidHeaders[1]).toBe(front.paidHeaders[0]);
      expect(await movedNow()).toEqual({ payer: PRICES.weather, payee: PRICES.weather });
    });

    it('with an Idempotency-Key, calling again after a lost answer is refused as used, and the chain shows one transfer', async () => {
      const { call, movedNow, paidFetch } = await run('lose-answer', { resend: false, headers: { 'Idempotency-Key': `interop-${version}-2` } });
      expect(await call()).toMatchObject({ code: 'settlement_unknown', reason: 'refused_after_resend' });
      expect(front.paidHeaders).toHaveLength(2);
      expect(front.paidHeaders[1]).toBe(front.paidHeaders[0]);
      expect(await movedNow()).toEqual({ payer: PRICES.weather, payee: PRICES.weather });
      expect((await paidFetch.budget.reconcile()).map((r) => r.state)).toEqual(['used']);
    });
  });
}
