/**
 * Reconciling an ambiguous payment on a real chain (THREATS F3, F7): a paid request whose outcome
 * is unknown, or that the server refused, is looked up with `checkAuthorization` on anvil, while
 * the server settles the captured authorization, or lets it expire.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPublicClient, http, type Address, type Hex } from 'viem';
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts';
import {
  ANVIL_PRIVATE_KEYS,
  createLocalPublicClient,
  createLocalWalletClient,
  deployTestTokens,
  rpcRequest,
  startAnvil,
  testUsdcAbi,
  type AnvilInstance,
  type LocalPublicClient,
  type LocalWalletClient,
  type TestTokens,
} from '../../examples/local-stack/index.js';
import {
  chainChecker,
  checkAuthorization,
  PaymentRejectedError,
  ReconcileUnavailableError,
  SettlementUnknownError,
  wrapFetch,
  type AuthorizationRef,
} from '../../src/index.js';
import { encodeBase64Json } from '../../src/protocol/codec.js';
import { fileStore } from '../../src/node/index.js';
import { decodeHeader, paymentRequiredV2, requirementV2 } from '../support/challenges.js';
import { rejectionOf } from '../support/secrets.js';
import { loopbackOnly } from '../support/loopbackOnly.js';

const TIMEOUT_MS = 60_000;
const PAY_TO: Address = privateKeyToAccount(ANVIL_PRIVATE_KEYS[5]).address;
/** anvil's `finalized` block is the latest minus this many. */
const ANVIL_FINALITY_BLOCKS = 64;

/** What the paywall does with a paid request: drop the connection (outcome unknown) or refuse it with a 402 ("failed"). */
type PaidAnswer = 'reset' | 'refuse';

describe('checkAuthorization on anvil', { timeout: TIMEOUT_MS }, () => {
  const refused = loopbackOnly();
  let anvil: AnvilInstance;
  let tokens: TestTokens;
  let reader: LocalPublicClient;
  let relayer: LocalWalletClient;
  let server: Server;
  let url: string;
  let paidAnswer: PaidAnswer = 'reset';
  const captured: string[] = [];

  beforeAll(async () => {
    anvil = await startAnvil();
    tokens = await deployTestTokens(anvil.chain);
    reader = createLocalPublicClient(anvil.chain);
    relayer = createLocalWalletClient(anvil.chain, ANVIL_PRIVATE_KEYS[3]);
    // Before this, anvil's finalized block predates the token (eth_call there answers "0x").
    await rpcRequest(anvil.rpcUrl, 'anvil_mine', [`0x${ANVIL_FINALITY_BLOCKS.toString(16)}`]);
    server = createServer((req: IncomingMessage, res: ServerResponse) => {
      const payment = req.headers['payment-signature'];
      if (typeof payment !== 'string') {
        const challenge = paymentRequiredV2([requirementV2({ asset: tokens.usdc, payTo: PAY_TO, amount: '10000', maxTimeoutSeconds: 60 })]);
        res.writeHead(402, { 'PAYMENT-REQUIRED': encodeBase64Json(challenge), 'content-type': 'application/json' }).end('{}');
        return;
      }
      // A hostile server keeps the signed authorization and answers as if nothing happened.
      captured.push(payment);
      if (paidAnswer === 'reset') req.socket.destroy();
      else {
        const again = paymentRequiredV2([requirementV2({ asset: tokens.usdc, payTo: PAY_TO })], { error: 'settlement failed' });
        res.writeHead(402, { 'PAYMENT-REQUIRED': encodeBase64Json(again) }).end();
      }
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/report`;
  }, TIMEOUT_MS);

  afterAll(async () => {
    await new Promise((resolve) => server?.close(resolve));
    await anvil?.stop();
  });


  /** The chain's clock: tests move anvil's time forward, so payments are timed by the chain, not the wall. */
  async function chainClock(): Promise<() => number> {
    await mine(1);
    const offset = Number((await reader.getBlock()).timestamp) * 1000 - Date.now();
    return () => Date.now() + offset;
  }

  /** A funded payer whose paid request gets the given answer; returns the error and the captured header's authorization. */
  async function ambiguousPayment(answer: PaidAnswer) {
    paidAnswer = answer;
    const account = privateKeyToAccount(generatePrivateKey());
    await tokens.mint(account.address, 1_000_000n);
    const error = await rejectionOf(wrapFetch(fetch, account, { clock: await chainClock() })(url));
    const sent = decodeHeader(captured.at(-1)!).payload as { signature: Hex; authorization: Record<string, string> };
    return { error, sent, account };
  }

  /** Settles the captured authorization the way a facilitator would. */
  async function settle(sent: { signature: Hex; authorization: Record<string, string> }) {
    const a = sent.authorization;
    const hash = await relayer.writeContract({
      address: tokens.usdc,
      abi: testUsdcAbi,
      functionName: 'transferWithAuthorization',
      args: [a.from as Address, a.to as Address, BigInt(a.value!), BigInt(a.validAfter!), BigInt(a.validBefore!), a.nonce as Hex, sent.signature],
    });
    expect((await reader.waitForTransactionReceipt({ hash })).status).toBe('success');
  }

  const mine = (blocks: number) => rpcRequest(anvil.rpcUrl, 'anvil_mine', [`0x${blocks.toString(16)}`]);
  const latest = { blockTag: 'latest' } as const;

  it('an unknown outcome: pending while the server holds it, used once settled (at latest, then at finalized)', async () => {
    const { error, sent, account } = await ambiguousPayment('reset');
    expect(error).toBeInstanceOf(SettlementUnknownError);
    const authorization: AuthorizationRef = error.authorization;
    expect(authorization).toMatchObject({ token: tokens.usdc, from: account.address, nonce: sent.authorization.nonce });

    expect(await checkAuthorization(reader, authorization, latest)).toMatchObject({ state: 'pending', validBefore: authorization.validBefore });
    await settle(sent);
    const used = await checkAuthorization(reader, authorization, latest);
    expect(used.state).toBe('used');
    expect(used.blockNumber).toBe(await reader.getBlockNumber());
    expect(await tokens.balanceOf(PAY_TO)).toBeGreaterThanOrEqual(10_000n);

    // Finality: the settlement is not yet in the finalized block, so that answer stays pending.
    expect((await checkAuthorization(reader, authorization)).state).toBe('pending');
    await mine(ANVIL_FINALITY_BLOCKS);
    expect((await checkAuthorization(reader, authorization)).state).toBe('used');
  });

  it('a refusal the server settles later (F3): the check finds it used', async () => {
    const { error, sent } = await ambiguousPayment('refuse');
    expect(error).toBeInstanceOf(PaymentRejectedError);
    expect(error.payment.status).toBe('unknown');
    expect((await checkAuthorization(reader, error.payment.authorization, latest)).state).toBe('pending');
    await settle(sent);
    expect((await checkAuthorization(reader, error.payment.authorization, latest)).state).toBe('used');
    // The JSON form of the payment (as an app would store it) is accepted too.
    const stored = JSON.parse(JSON.stringify(error.payment)).authorization;
    expect((await checkAuthorization(reader, stored, latest)).state).toBe('used');
  });

  // These move the chain's clock forward (each sets the next block's time just below, or at, a validBefore); payments are timed by the chain.
  it('one second before validBefore is still pending', async () => {
    const { error } = await ambiguousPayment('reset');
    const authorization: AuthorizationRef = error.authorization;
    await rpcRequest(anvil.rpcUrl, 'evm_setNextBlockTimestamp', [`0x${(authorization.validBefore - 1n).toString(16)}`]);
    await mine(1);
    expect(await checkAuthorization(reader, authorization, latest)).toMatchObject({ state: 'pending', blockTimestamp: authorization.validBefore - 1n });
  });

  it('never settled: expired once a block reaches validBefore, and the token then refuses it for good', async () => {
    const { error, sent } = await ambiguousPayment('reset');
    const authorization: AuthorizationRef = error.authorization;
    const head = await reader.getBlock();
    await rpcRequest(anvil.rpcUrl, 'evm_setNextBlockTimestamp', [`0x${authorization.validBefore.toString(16)}`]);
    await mine(1);
    const check = await checkAuthorization(reader, authorization, latest);
    expect(check).toMatchObject({ state: 'expired', blockTimestamp: authorization.validBefore, blockNumber: head.number + 1n });
    // At the finalized block the expiry is not reached yet; 64 blocks later it is.
    expect((await checkAuthorization(reader, authorization)).state).toBe('pending');
    await mine(ANVIL_FINALITY_BLOCKS);
    expect((await checkAuthorization(reader, authorization)).state).toBe('expired');
    // "expired" is the truth: the holder can no longer settle it.
    await expect(settle(sent)).rejects.toThrow(/authorization is expired/);
    expect((await checkAuthorization(reader, authorization, latest)).state).toBe('expired');
  });

  it('a client on another chain is refused before anything is read', async () => {
    const { error } = await ambiguousPayment('reset');
    const other = await startAnvil({ chainId: 8453 });
    try {
      const client = createPublicClient({ transport: http(other.rpcUrl) });
      const wrong = await rejectionOf(checkAuthorization(client, error.authorization, latest));
      expect(wrong).toBeInstanceOf(TypeError);
      expect(wrong.message).toMatch(/on chain 8453, but the authorization is on eip155:84532/);
    } finally {
      await other.stop();
    }
  });

  it('a token with no code, a node that is gone, and a slow node → reconcile_unavailable', async () => {
    const { error } = await ambiguousPayment('reset');
    const authorization: AuthorizationRef = error.authorization;

    const noToken = await rejectionOf(checkAuthorization(reader, { ...authorization, token: privateKeyToAccount(generatePrivateKey()).address }, latest));
    expect(noToken).toBeInstanceOf(ReconcileUnavailableError);
    expect(noToken.code).toBe('reconcile_unavailable');
    expect(noToken.moneyMoved).toBe('maybe');
    expect(noToken.message).toMatch(/did not answer authorizationState with a boolean/);

    const gone = await startAnvil();
    const goneClient = createPublicClient({ transport: http(gone.rpcUrl, { retryCount: 0 }) });
    await gone.stop();
    const down = await rejectionOf(checkAuthorization(goneClient, authorization, latest));
    expect(down).toBeInstanceOf(ReconcileUnavailableError);
    expect(down.message).toMatch(/eth_chainId failed/);

    const silent = { request: () => new Promise<never>(() => undefined) };
    const slow = await rejectionOf(checkAuthorization(silent, authorization, { timeoutMs: 50 }));
    expect(slow).toBeInstanceOf(ReconcileUnavailableError);
    expect(slow.message).toMatch(/no answer within 50 ms/);
  });

  describe('budget.reconcile() with the reconcile option', () => {
    /** A wrapped fetch with a daily cap of 0.05 USD (the route costs 0.01) that reconciles through anvil. */
    async function reconcilingFetch(blockTag?: 'latest') {
      const account = privateKeyToAccount(generatePrivateKey());
      const paidFetch = wrapFetch(fetch, account, {
        clock: await chainClock(),
        budget: { daily: '0.05' },
        reconcile: chainChecker({ 'eip155:84532': reader }, blockTag ? { blockTag } : {}),
      });
      const daily = async () => (await paidFetch.budget.remaining()).find((l) => l.scope === 'global' && l.limit === 'daily')!.used;
      return { account, paidFetch, daily };
    }
    const status = async (paidFetch: ReturnType<typeof wrapFetch>): Promise<string[]> => (await paidFetch.budget.report()).map((r) => r.status);

    it('gives back what expired unused, records what was settled, keeps what can still be settled', async () => {
      const { account, paidFetch, daily } = await reconcilingFetch('latest');
      await tokens.mint(account.address, 1_000_000n);
      paidAnswer = 'reset';
      const lost = await rejectionOf(paidFetch(url));
      paidAnswer = 'refuse';
      const refused = await rejectionOf(paidFetch(url));
      const settledLater = decodeHeader(captured.at(-1)!).payload;
      paidAnswer = 'reset';
      const lostToo = await rejectionOf(paidFetch(url));
      expect([lost.code, refused.code, lostToo.code]).toEqual(['settlement_unknown', 'payment_rejected', 'settlement_unknown']);
      expect(await daily()).toBe('0.03');
      expect(await status(paidFetch)).toEqual(['unknown', 'unknown', 'unknown']);

      // Nothing decided yet: everything stays counted.
      expect((await paidFetch.budget.reconcile()).map((o) => o.state)).toEqual(['pending', 'pending', 'pending']);
      expect(await daily()).toBe('0.03');

      // The server that said "failed" settles it after all (F3): found used, stays counted.
      await settle(settledLater);
      const second = await paidFetch.budget.reconcile();
      expect(second.map((o) => [o.authorization.nonce, o.state])).toEqual([
        [lost.authorization.nonce, 'pending'],
        [refused.payment.authorization.nonce, 'used'],
        [lostToo.authorization.nonce, 'pending'],
      ]);
      expect(await daily()).toBe('0.03');
      expect(await status(paidFetch)).toEqual(['unknown', 'settled', 'unknown']);

      // The other two expire unused: the budget gets them back, and only them.
      const last = lostToo.authorization.validBefore > lost.authorization.validBefore ? lostToo.authorization.validBefore : lost.authorization.validBefore;
      await rpcRequest(anvil.rpcUrl, 'evm_setNextBlockTimestamp', [`0x${last.toString(16)}`]);
      await mine(1);
      const third = await paidFetch.budget.reconcile();
      expect(third.map((o) => [o.state, o.released, o.amount, o.payTo])).toEqual([
        ['expired', true, 10_000n, PAY_TO],
        ['expired', true, 10_000n, PAY_TO],
      ]);
      expect(await daily()).toBe('0.01');
      expect(await status(paidFetch)).toEqual(['released', 'settled', 'released']);
      expect(await paidFetch.budget.reconcile()).toEqual([]);
      // The chain agrees: the payer paid exactly the one settled payment.
      expect(await tokens.balanceOf(account.address)).toBe(1_000_000n - 10_000n);
    });

    it('by default judges at the finalized block: nothing is given back before the expiry is final', async () => {
      const { paidFetch, daily } = await reconcilingFetch();
      paidAnswer = 'reset';
      const lost = await rejectionOf(paidFetch(url));
      await rpcRequest(anvil.rpcUrl, 'evm_setNextBlockTimestamp', [`0x${lost.authorization.validBefore.toString(16)}`]);
      await mine(1);
      expect((await paidFetch.budget.reconcile()).map((o) => o.state)).toEqual(['pending']);
      expect(await daily()).toBe('0.01');
      await mine(ANVIL_FINALITY_BLOCKS);
      expect((await paidFetch.budget.reconcile()).map((o) => [o.state, o.released])).toEqual([['expired', true]]);
      expect(await daily()).toBe('0');
    });

    it('a network without a client, or a node that is gone: unavailable, and the payment stays counted', async () => {
      const gone = await startAnvil();
      const goneClient = createPublicClient({ transport: http(gone.rpcUrl, { retryCount: 0 }) });
      await gone.stop();
      for (const checker of [chainChecker({ 'eip155:8453': reader }), chainChecker({ 'eip155:84532': goneClient })]) {
        const account = privateKeyToAccount(generatePrivateKey());
        const paidFetch = wrapFetch(fetch, account, { budget: { daily: '0.05' }, reconcile: checker });
        paidAnswer = 'reset';
        await rejectionOf(paidFetch(url));
        const [outcome] = await paidFetch.budget.reconcile();
        expect(outcome!.state).toBe('unavailable');
        expect(outcome!.error).toBeInstanceOf(ReconcileUnavailableError);
        expect((await paidFetch.budget.remaining()).find((l) => l.limit === 'daily')!.used).toBe('0.01');
        // Asked again next time.
        expect((await paidFetch.budget.reconcile()).map((o) => o.state)).toEqual(['unavailable']);
      }
    });

    it('after a restart: a new process over the same file ledger gives back what the first one left unknown', async () => {
      const dir = await mkdtemp(join(tmpdir(), 'x402-reconcile-'));
      try {
        const path = join(dir, 'ledger.json');
        const account = privateKeyToAccount(generatePrivateKey());
        const first = wrapFetch(fetch, account, { clock: await chainClock(), budget: { daily: '0.05' }, store: fileStore(path) });
        paidAnswer = 'reset';
        const lost = await rejectionOf(first(url));
        expect(lost.code).toBe('settlement_unknown');
        await rpcRequest(anvil.rpcUrl, 'evm_setNextBlockTimestamp', [`0x${lost.authorization.validBefore.toString(16)}`]);
        await mine(1);
        // "Restart": a new store object and a new wrapped fetch, with the reconcile option.
        const second = wrapFetch(fetch, account, {
          clock: await chainClock(),
          budget: { daily: '0.05' },
          store: fileStore(path),
          reconcile: chainChecker({ 'eip155:84532': reader }, latest),
        });
        expect((await second.budget.reconcile()).map((o) => [o.state, o.released, o.authorization.nonce])).toEqual([['expired', true, lost.authorization.nonce]]);
        expect((await second.budget.remaining()).find((l) => l.limit === 'daily')!.used).toBe('0');
        expect((await fileStore(path).report()).map((r) => r.status)).toEqual(['released']);
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    });

    it('without the option, reconcile() is a TypeError and nothing is looked up', async () => {
      const paidFetch = wrapFetch(fetch, privateKeyToAccount(generatePrivateKey()));
      await expect(paidFetch.budget.reconcile()).rejects.toThrow(TypeError);
    });
  });

  it('never left the machine', () => {
    expect(refused).toEqual([]);
  });
});
