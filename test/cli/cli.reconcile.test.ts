/**
 * The built `x402-autopay reconcile` against a local chain: a file ledger holding three payments
 * of unknown outcome (one settled on chain since, one expired unused, one still valid) is
 * reconciled in another process; only the expired one is given back to the budget.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keccak256, toHex, type Address, type Hex } from 'viem';
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
  type TestTokens,
} from '../../examples/local-stack/index.js';
import { fileStore } from '../../src/node/index.js';
import type { ReserveRequest } from '../../src/index.js';
import { TRANSFER_WITH_AUTHORIZATION } from '../../src/schemes/exactEvm.js';
import { removeDirs, runCli, tempDir } from './cliRunner.js';

const TIMEOUT = 60_000;
const dirs: string[] = [];
let anvil: AnvilInstance;
let tokens: TestTokens;
const payer = privateKeyToAccount(generatePrivateKey());
const payee: Address = privateKeyToAccount(ANVIL_PRIVATE_KEYS[6]).address;

beforeAll(async () => {
  anvil = await startAnvil();
  tokens = await deployTestTokens(anvil.chain);
  await tokens.mint(payer.address, 1_000_000n);
  // anvil's finalized block is the latest minus 64: make it one where the token exists.
  await rpcRequest(anvil.rpcUrl, 'anvil_mine', ['0x40']);
}, TIMEOUT);
afterAll(async () => {
  await anvil?.stop();
  await removeDirs(dirs);
});

const DAILY = { key: 'global|USD|rolling:86400', window: { kind: 'rolling', seconds: 86400 } as const, amount: 10_000n, limit: 1_000_000n };
const reserve = (id: string): ReserveRequest => ({
  id,
  checks: [DAILY],
  record: { host: 'api.example.com', payee, amount: '10000', asset: tokens.usdc, network: 'eip155:84532' },
});

/** Signs a real EIP-3009 transfer of 0.01 from the payer (what a paid request would have carried). */
async function signTransfer(validBefore: bigint) {
  const message = { from: payer.address, to: payee, value: 10_000n, validAfter: 0n, validBefore, nonce: keccak256(toHex(generatePrivateKey())) as Hex };
  const signature = await payer.signTypedData({
    domain: { name: 'USDC', version: '2', chainId: anvil.chain.id, verifyingContract: tokens.usdc },
    types: { TransferWithAuthorization: TRANSFER_WITH_AUTHORIZATION },
    primaryType: 'TransferWithAuthorization',
    message,
  });
  return { message, signature };
}

describe('x402-autopay reconcile (built CLI) on anvil', { timeout: TIMEOUT }, () => {
  it('gives back only what expired unused, records what was used, keeps what is still valid', async () => {
    const ledger = join(await tempDir(dirs), 'ledger.json');
    const chainNow = (await createLocalPublicClient(anvil.chain).getBlock()).timestamp;
    const used = await signTransfer(chainNow + 3600n);
    const expired = await signTransfer(chainNow + 30n);
    const valid = await signTransfer(chainNow + 3600n);
    const store = fileStore(ledger);
    for (const [id, { message }] of [['pay_used', used], ['pay_expired', expired], ['pay_valid', valid]] as const) {
      await store.reserve(reserve(id));
      await store.settle(id, 'unknown', undefined, { from: message.from, nonce: message.nonce, validBefore: message.validBefore.toString() });
    }
    // A server settles one of them; the chain's time then passes the second one's expiry.
    const relayer = createLocalWalletClient(anvil.chain, ANVIL_PRIVATE_KEYS[3]);
    const m = used.message;
    const hash = await relayer.writeContract({
      address: tokens.usdc,
      abi: testUsdcAbi,
      functionName: 'transferWithAuthorization',
      args: [m.from, m.to, m.value, m.validAfter, m.validBefore, m.nonce, used.signature],
    });
    await relayer.waitForTransactionReceipt({ hash });
    await rpcRequest(anvil.rpcUrl, 'evm_setNextBlockTimestamp', [`0x${(chainNow + 60n).toString(16)}`]);
    await rpcRequest(anvil.rpcUrl, 'anvil_mine', ['0x1']);

    const run = await runCli(['reconcile', '--rpc', anvil.rpcUrl, '--latest', '--ledger', ledger], {});
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^used +still counted +0\.01 USD +api\.example\.com +eip155:84532 /m);
    expect(run.stdout).toMatch(/^expired +given back +0\.01 USD /m);
    expect(run.stdout).toMatch(/^pending +still counted +0\.01 USD /m);
    expect((await fileStore(ledger).report()).map((r) => [r.id, r.status])).toEqual([
      ['pay_used', 'settled'],
      ['pay_expired', 'released'],
      ['pay_valid', 'unknown'],
    ]);
    expect(await fileStore(ledger).usage([DAILY])).toEqual([20_000n]);

    // Again, as JSON: only the pending one is left to ask about.
    const again = await runCli(['reconcile', '--rpc', anvil.rpcUrl, '--latest', '--json', '--ledger', ledger], {});
    expect(again.code).toBe(0);
    const parsed = JSON.parse(again.stdout);
    expect(parsed.networks).toEqual(['eip155:84532']);
    expect(parsed.outcomes.map((o: { state: string; amount: string; usd: string }) => [o.state, o.amount, o.usd])).toEqual([['pending', '10000', '0.01']]);
  });

  it('--receipts: a settled receipt the chain confirms, and one it does not show (false or early), both still counted', async () => {
    const ledger = join(await tempDir(dirs), 'ledger.json');
    const chainNow = (await createLocalPublicClient(anvil.chain).getBlock()).timestamp;
    const honest = await signTransfer(chainNow + 3600n);
    const forged = await signTransfer(chainNow + 3600n);
    const store = fileStore(ledger);
    for (const [id, { message }] of [['pay_honest', honest], ['pay_forged', forged]] as const) {
      await store.reserve(reserve(id));
      await store.settle(id, 'settled', `0x${'cd'.repeat(32)}`, { from: message.from, nonce: message.nonce, validBefore: message.validBefore.toString() });
    }
    const relayer = createLocalWalletClient(anvil.chain, ANVIL_PRIVATE_KEYS[3]);
    const m = honest.message;
    await relayer.waitForTransactionReceipt({
      hash: await relayer.writeContract({ address: tokens.usdc, abi: testUsdcAbi, functionName: 'transferWithAuthorization', args: [m.from, m.to, m.value, m.validAfter, m.validBefore, m.nonce, honest.signature] }),
    });

    const plain = await runCli(['reconcile', '--rpc', anvil.rpcUrl, '--latest', '--ledger', ledger], {});
    expect(plain.stdout).toContain('Nothing to reconcile'); // receipts are taken as given by default
    const run = await runCli(['reconcile', '--rpc', anvil.rpcUrl, '--latest', '--receipts', '--ledger', ledger], {});
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^used \(receipt confirmed\) +still counted +0\.01 USD /m);
    expect(run.stdout).toMatch(/^pending \(receipt NOT on chain\) +still counted +0\.01 USD /m);
    expect(run.stdout).toContain("1 receipt(s) said settled, but the chain does not show the authorization used");
    expect((await fileStore(ledger).report()).map((r) => r.status)).toEqual(['settled', 'settled']);
  });

  it('at the finalized block (the default), nothing is given back before the expiry is final', async () => {
    const ledger = join(await tempDir(dirs), 'ledger.json');
    const chainNow = (await createLocalPublicClient(anvil.chain).getBlock()).timestamp;
    const expired = await signTransfer(chainNow + 30n);
    const store = fileStore(ledger);
    await store.reserve(reserve('pay_x'));
    await store.settle('pay_x', 'failed', undefined, { from: payer.address, nonce: expired.message.nonce, validBefore: expired.message.validBefore.toString() });
    await rpcRequest(anvil.rpcUrl, 'evm_setNextBlockTimestamp', [`0x${(chainNow + 60n).toString(16)}`]);
    await rpcRequest(anvil.rpcUrl, 'anvil_mine', ['0x1']);
    expect((await runCli(['reconcile', '--rpc', anvil.rpcUrl, '--ledger', ledger], {})).stdout).toMatch(/^pending +still counted/m);
    await rpcRequest(anvil.rpcUrl, 'anvil_mine', ['0x40']);
    expect((await runCli(['reconcile', '--rpc', anvil.rpcUrl, '--ledger', ledger], {})).stdout).toMatch(/^expired +given back/m);
  });

  it('a node on another chain: unavailable, exit 1, the payment stays counted', async () => {
    const ledger = join(await tempDir(dirs), 'ledger.json');
    const other = await startAnvil({ chainId: 8453 });
    try {
      const store = fileStore(ledger);
      await store.reserve(reserve('pay_y'));
      await store.settle('pay_y', 'unknown', undefined, { from: payer.address, nonce: `0x${'11'.repeat(32)}`, validBefore: '1' });
      const run = await runCli(['reconcile', '--rpc', other.rpcUrl, '--ledger', ledger], {});
      expect(run.code).toBe(1);
      expect(run.stdout).toMatch(/^unavailable +still counted/m);
      expect(run.stdout).toMatch(/no client is configured for this network/);
      expect((await fileStore(ledger).report()).map((r) => r.status)).toEqual(['unknown']);
    } finally {
      await other.stop();
    }
  });

  it('bad input is exit 2; an unreachable node is exit 1 with nothing changed; no ledger is nothing to do', async () => {
    const home = await tempDir(dirs);
    const missing = await runCli(['reconcile'], { HOME: home });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/--rpc <url> is required/);
    const bad = await runCli(['reconcile', '--rpc', 'ftp://example.com'], { HOME: home });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--rpc must be an http\(s\) URL/);
    const nothing = await runCli(['reconcile', '--rpc', anvil.rpcUrl], { HOME: home });
    expect(nothing.code).toBe(0);
    expect(nothing.stdout).toMatch(/^No payments recorded in /);

    const ledger = join(home, 'ledger.json');
    const store = fileStore(ledger);
    await store.reserve(reserve('pay_z'));
    await store.settle('pay_z', 'unknown', undefined, { from: payer.address, nonce: `0x${'22'.repeat(32)}`, validBefore: '1' });
    const gone = await startAnvil();
    await gone.stop();
    const down = await runCli(['reconcile', '--rpc', gone.rpcUrl, '--ledger', ledger], { HOME: home });
    expect(down.code).toBe(1);
    expect(down.stderr).toMatch(/did not say which chain it serves/);
    expect((await fileStore(ledger).report()).map((r) => r.status)).toEqual(['unknown']);
    expect((await runCli(['reconcile', '--help'], {})).stdout).toMatch(/^Usage: x402-autopay reconcile --rpc <url>/);
  });
});
