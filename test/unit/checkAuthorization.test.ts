/**
 * `checkAuthorization` input checks and how it reads a node's answers. The node here is a
 * scripted JSON-RPC answerer; the real chain is in test/interop/checkAuthorization.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { decodeFunctionData, parseAbi } from 'viem';
import { chainChecker, checkAuthorization, ReconcileUnavailableError, type AuthorizationRef, type ChainReader } from '../../src/index.js';
import { BASE_SEPOLIA_USDC, testAccount } from '../support/challenges.js';
import { rejectionOf } from '../support/secrets.js';

const NONCE = `0x${'5a'.repeat(32)}` as const;
const REF: AuthorizationRef = { network: 'eip155:84532', token: BASE_SEPOLIA_USDC, from: testAccount.address, nonce: NONCE, validBefore: 1_750_000_060n };
const WORD = (n: 0 | 1) => `0x${'0'.repeat(63)}${n}`;

/** A node on chain 84532 whose block at any tag is `block`, and whose `eth_call` answers `state`; records every call. */
function node(answers: { chainId?: unknown; block?: unknown; state?: unknown } = {}) {
  const calls: { method: string; params: unknown }[] = [];
  const reader: ChainReader = {
    request: async ({ method, params }) => {
      calls.push({ method, params });
      if (method === 'eth_chainId') return 'chainId' in answers ? answers.chainId : '0x14a34';
      if (method === 'eth_getBlockByNumber') return 'block' in answers ? answers.block : { number: '0x10', timestamp: '0x684ee1a0' };
      if (method === 'eth_call') return 'state' in answers ? answers.state : WORD(0);
      throw new Error(`unexpected ${method}`);
    },
  };
  return { reader, calls };
}

describe('checkAuthorization', () => {
  it('reads the block at the tag, then authorizationState(from, nonce) at that very block', async () => {
    const { reader, calls } = node({ block: { number: '0x10', timestamp: '0x684ee1a0' } });
    const check = await checkAuthorization(reader, REF);
    expect(check).toEqual({ state: 'pending', blockNumber: 16n, blockTimestamp: 0x684ee1a0n, validBefore: REF.validBefore });
    expect(Object.isFrozen(check)).toBe(true);
    expect(calls.map((c) => c.method)).toEqual(['eth_chainId', 'eth_getBlockByNumber', 'eth_call']);
    expect(calls[1]!.params).toEqual(['finalized', false]);
    const [call, at] = calls[2]!.params as [{ to: string; data: `0x${string}` }, string];
    expect(at).toBe('0x10');
    expect(call.to).toBe(BASE_SEPOLIA_USDC);
    const abi = parseAbi(['function authorizationState(address authorizer, bytes32 nonce) view returns (bool)']);
    expect(decodeFunctionData({ abi, data: call.data }).args).toEqual([testAccount.address, NONCE]);
  });

  it('used, pending and expired, with the boundary at validBefore itself', async () => {
    const at = (timestamp: bigint, state: 0 | 1) => node({ block: { number: '0x1', timestamp: `0x${timestamp.toString(16)}` }, state: WORD(state) }).reader;
    expect((await checkAuthorization(at(REF.validBefore - 1n, 0), REF)).state).toBe('pending');
    expect((await checkAuthorization(at(REF.validBefore, 0), REF)).state).toBe('expired');
    expect((await checkAuthorization(at(REF.validBefore + 1000n, 0), REF)).state).toBe('expired');
    expect((await checkAuthorization(at(REF.validBefore - 1n, 1), REF)).state).toBe('used');
    expect((await checkAuthorization(at(REF.validBefore + 1000n, 1), REF)).state).toBe('used');
  });

  it('takes the JSON form of a payment authorization (validBefore as a decimal string)', async () => {
    const json = JSON.parse(JSON.stringify({ ...REF, validBefore: REF.validBefore.toString() }));
    expect((await checkAuthorization(node().reader, json)).validBefore).toBe(REF.validBefore);
  });

  it("passes blockTag 'latest' and 'safe' through", async () => {
    for (const blockTag of ['latest', 'safe'] as const) {
      const { reader, calls } = node();
      await checkAuthorization(reader, REF, { blockTag });
      expect(calls[1]!.params).toEqual([blockTag, false]);
    }
  });

  const bad: [string, unknown, RegExp][] = [
    ['no object', null, /authorization must be/],
    ['a non-EVM network', { ...REF, network: 'solana:mainnet' }, /authorization\.network must be a CAIP-2 EVM network/],
    ['a chain-id trick', { ...REF, network: 'eip155:84532abc' }, /authorization\.network/],
    ['a short token', { ...REF, token: '0x1234' }, /authorization\.token must be a 0x-prefixed 20-byte address/],
    ['no payer', { ...REF, from: undefined }, /authorization\.from/],
    ['a 31-byte nonce', { ...REF, nonce: `0x${'5a'.repeat(31)}` }, /authorization\.nonce must be 32 bytes/],
    ['a negative expiry', { ...REF, validBefore: -1n }, /authorization\.validBefore/],
    ['an expiry as a float string', { ...REF, validBefore: '1.5e9' }, /authorization\.validBefore/],
    ['an expiry as a number', { ...REF, validBefore: 1_750_000_060 }, /authorization\.validBefore/],
  ];
  for (const [name, input, message] of bad) {
    it(`refuses ${name} with a TypeError before asking the node anything`, async () => {
      const { reader, calls } = node();
      const error = await rejectionOf(checkAuthorization(reader, input as AuthorizationRef));
      expect(error).toBeInstanceOf(TypeError);
      expect(error.message).toMatch(message);
      expect(calls).toEqual([]);
    });
  }

  it('refuses a bad client, block tag or timeout with a TypeError', async () => {
    expect(await rejectionOf(checkAuthorization({} as ChainReader, REF))).toBeInstanceOf(TypeError);
    const { reader, calls } = node();
    expect((await rejectionOf(checkAuthorization(reader, REF, { blockTag: 'pending' as 'latest' }))).message).toMatch(/blockTag must be/);
    expect((await rejectionOf(checkAuthorization(reader, REF, { timeoutMs: 0 }))).message).toMatch(/timeoutMs must be a positive integer/);
    expect(calls).toEqual([]);
  });

  it('a node on another chain is a TypeError, and nothing more is read', async () => {
    const { reader, calls } = node({ chainId: '0x2105' });
    const error = await rejectionOf(checkAuthorization(reader, REF));
    expect(error).toBeInstanceOf(TypeError);
    expect(error.message).toMatch(/on chain 8453, but the authorization is on eip155:84532/);
    expect(calls.map((c) => c.method)).toEqual(['eth_chainId']);
  });

  const garbled: [string, Parameters<typeof node>[0], RegExp][] = [
    ['no chain id', { chainId: 84532 }, /eth_chainId gave no chain id/],
    ['no finalized block', { block: null }, /the node has no finalized block/],
    ['a block without a timestamp', { block: { number: '0x1' } }, /no finalized block/],
    ['a block number that is not hex', { block: { number: '16', timestamp: '0x1' } }, /no finalized block/],
    ['an empty answer (no contract there)', { state: '0x' }, /did not answer authorizationState with a boolean \(got "0x"\)/],
    ['a word that is not a boolean', { state: WORD(1).replace(/1$/, '2') }, /with a boolean/],
    ['two words', { state: WORD(1) + '0'.repeat(64) }, /with a boolean/],
    ['a number', { state: 1 }, /with a boolean \(got 1\)/],
  ];
  for (const [name, answers, message] of garbled) {
    it(`${name} → ReconcileUnavailableError (money may have moved)`, async () => {
      const error = await rejectionOf(checkAuthorization(node(answers).reader, REF));
      expect(error).toBeInstanceOf(ReconcileUnavailableError);
      expect(error.code).toBe('reconcile_unavailable');
      expect(error.moneyMoved).toBe('maybe');
      expect(error.message).toMatch(message);
      expect(error.authorization).toMatchObject({ nonce: NONCE, from: testAccount.address });
    });
  }

  it('a failing node → ReconcileUnavailableError naming the call, with the cause', async () => {
    const cause = new Error('connect ECONNREFUSED 127.0.0.1:8545\nstack noise');
    const error = await rejectionOf(checkAuthorization({ request: () => Promise.reject(cause) }, REF));
    expect(error).toBeInstanceOf(ReconcileUnavailableError);
    expect(error.shortMessage).toBe('Could not read the state of the authorization on eip155:84532: eth_chainId failed (connect ECONNREFUSED 127.0.0.1:8545); whether it was settled is still unknown.');
    expect(error.cause).toBe(cause);
  });
});

describe('chainChecker(...).balanceOf', () => {
  const BALANCE_ABI = parseAbi(['function balanceOf(address owner) view returns (uint256)']);

  it('reads balanceOf(owner) at the latest block, after checking the chain once per network', async () => {
    const { reader, calls } = node({ state: `0x${(123_456n).toString(16).padStart(64, '0')}` });
    const checker = chainChecker({ 'eip155:84532': reader });
    expect(await checker.balanceOf!('eip155:84532', BASE_SEPOLIA_USDC, testAccount.address)).toBe(123_456n);
    expect(await checker.balanceOf!('eip155:84532', BASE_SEPOLIA_USDC, testAccount.address)).toBe(123_456n);
    expect(calls.map((c) => c.method)).toEqual(['eth_chainId', 'eth_call', 'eth_call']);
    const [call, tag] = calls[1]!.params as [{ to: string; data: `0x${string}` }, string];
    expect(tag).toBe('latest');
    expect(call.to).toBe(BASE_SEPOLIA_USDC);
    expect(decodeFunctionData({ abi: BALANCE_ABI, data: call.data }).args).toEqual([testAccount.address]);
  });

  it('refuses a client on another chain, a network without a client, and an answer that is not one word', async () => {
    const other = chainChecker({ 'eip155:84532': node({ chainId: '0x2105' }).reader });
    await expect(other.balanceOf!('eip155:84532', BASE_SEPOLIA_USDC, testAccount.address)).rejects.toThrow(/the client for eip155:84532 answers for chain 0x2105/);
    await expect(other.balanceOf!('eip155:8453', BASE_SEPOLIA_USDC, testAccount.address)).rejects.toThrow(/no client is configured for eip155:8453/);
    const garbled = chainChecker({ 'eip155:84532': node({ state: '0x01' }).reader });
    await expect(garbled.balanceOf!('eip155:84532', BASE_SEPOLIA_USDC, testAccount.address)).rejects.toThrow(/did not answer with one 32-byte word/);
  });

  it('blockTime: the latest block timestamp, after the same chain check; a block without one is an error', async () => {
    const { reader, calls } = node();
    const checker = chainChecker({ 'eip155:84532': reader });
    expect(await checker.blockTime!('eip155:84532')).toBe(0x684ee1a0n);
    expect(calls.map((c) => [c.method, c.params])).toEqual([
      ['eth_chainId', undefined],
      ['eth_getBlockByNumber', ['latest', false]],
    ]);
    const broken = chainChecker({ 'eip155:84532': node({ block: { number: '0x1' } }).reader });
    await expect(broken.blockTime!('eip155:84532')).rejects.toThrow(/the latest block has no timestamp/);
  });

  it('gives up after timeoutMs', async () => {
    const slow: ChainReader = { request: ({ method }) => (method === 'eth_chainId' ? Promise.resolve('0x14a34') : new Promise(() => undefined)) };
    const checker = chainChecker({ 'eip155:84532': slow }, { timeoutMs: 50 });
    await expect(checker.balanceOf!('eip155:84532', BASE_SEPOLIA_USDC, testAccount.address)).rejects.toThrow(/no answer within 50 ms/);
  });
});
