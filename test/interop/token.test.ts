/**
 * Contract-level checks of contracts/TestUSDC.sol on a local anvil: EIP-712 domain at both
 * addresses, EIP-3009 (both signature forms, receive, cancel, time window, malleability),
 * EIP-2612 permit.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  domainSeparator,
  keccak256,
  parseSignature,
  serializeSignature,
  toHex,
  type Address,
  type Hex,
  type TypedDataDomain,
} from 'viem';
import { generatePrivateKey, privateKeyToAccount, type PrivateKeyAccount } from 'viem/accounts';
import {
  ANVIL_PRIVATE_KEYS,
  createLocalPublicClient,
  createLocalWalletClient,
  deployTestTokens,
  startAnvil,
  testUsdcAbi,
  type AnvilInstance,
  type LocalPublicClient,
  type LocalWalletClient,
  type TestTokens,
} from '../../examples/local-stack/index.js';

const INTEROP_TIMEOUT_MS = 60_000;
const SECP256K1_N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;

const transferTypes = {
  TransferWithAuthorization: [
    { name: 'from', type: 'address' },
    { name: 'to', type: 'address' },
    { name: 'value', type: 'uint256' },
    { name: 'validAfter', type: 'uint256' },
    { name: 'validBefore', type: 'uint256' },
    { name: 'nonce', type: 'bytes32' },
  ],
} as const;
const receiveTypes = { ReceiveWithAuthorization: transferTypes.TransferWithAuthorization } as const;
const cancelTypes = {
  CancelAuthorization: [
    { name: 'authorizer', type: 'address' },
    { name: 'nonce', type: 'bytes32' },
  ],
} as const;
const permitTypes = {
  Permit: [
    { name: 'owner', type: 'address' },
    { name: 'spender', type: 'address' },
    { name: 'value', type: 'uint256' },
    { name: 'nonce', type: 'uint256' },
    { name: 'deadline', type: 'uint256' },
  ],
} as const;

interface Authorization {
  from: Address;
  to: Address;
  value: bigint;
  validAfter: bigint;
  validBefore: bigint;
  nonce: Hex;
}

describe('TestUSDC contract', { timeout: INTEROP_TIMEOUT_MS }, () => {
  let anvil: AnvilInstance;
  let tokens: TestTokens;
  let reader: LocalPublicClient;
  let relayer: LocalWalletClient;
  let payeeWallet: LocalWalletClient;

  beforeAll(async () => {
    anvil = await startAnvil();
    tokens = await deployTestTokens(anvil.chain);
    reader = createLocalPublicClient(anvil.chain);
    relayer = createLocalWalletClient(anvil.chain, ANVIL_PRIVATE_KEYS[3]);
    payeeWallet = createLocalWalletClient(anvil.chain, ANVIL_PRIVATE_KEYS[4]);
  }, INTEROP_TIMEOUT_MS);

  afterAll(async () => {
    await anvil?.stop();
  });

  const domainOf = (token: Address): TypedDataDomain => ({
    name: 'USDC',
    version: '2',
    chainId: anvil.chain.id,
    verifyingContract: token,
  });
  const randomNonce = (): Hex => keccak256(toHex(generatePrivateKey()));

  async function fundedPayer(amount = 1_000_000n): Promise<PrivateKeyAccount> {
    const account = privateKeyToAccount(generatePrivateKey());
    await tokens.mint(account.address, amount);
    return account;
  }

  async function authorization(payer: PrivateKeyAccount, overrides: Partial<Authorization> = {}): Promise<Authorization> {
    const now = BigInt(Math.floor(Date.now() / 1000));
    return {
      from: payer.address,
      to: payeeWallet.account.address,
      value: 10_000n,
      validAfter: now - 600n,
      validBefore: now + 300n,
      nonce: randomNonce(),
      ...overrides,
    };
  }

  const signTransfer = (payer: PrivateKeyAccount, auth: Authorization, token = tokens.usdc) =>
    payer.signTypedData({ domain: domainOf(token), types: transferTypes, primaryType: 'TransferWithAuthorization', message: auth });

  const transferArgsVrs = (auth: Authorization, signature: Hex) => {
    const { r, s, v } = parseSignature(signature);
    return [auth.from, auth.to, auth.value, auth.validAfter, auth.validBefore, auth.nonce, Number(v), r, s] as const;
  };

  it('computes the EIP-712 domain separator from the chain id and its own address', async () => {
    for (const token of [tokens.usdc, tokens.customToken]) {
      const onChain = await reader.readContract({ address: token, abi: testUsdcAbi, functionName: 'DOMAIN_SEPARATOR' });
      expect(onChain).toBe(domainSeparator({ domain: domainOf(token) }));
    }
  });

  it('keeps separate balances at the canonical and the custom address', async () => {
    const account = privateKeyToAccount(generatePrivateKey());
    await tokens.mint(account.address, 123n, tokens.customToken);
    expect(await tokens.balanceOf(account.address, tokens.customToken)).toBe(123n);
    expect(await tokens.balanceOf(account.address, tokens.usdc)).toBe(0n);
  });

  it('executes transferWithAuthorization with (v, r, s) and refuses a replay', async () => {
    const payer = await fundedPayer();
    const auth = await authorization(payer);
    const signature = await signTransfer(payer, auth);
    const hash = await relayer.writeContract({
      address: tokens.usdc,
      abi: testUsdcAbi,
      functionName: 'transferWithAuthorization',
      args: transferArgsVrs(auth, signature),
    });
    const receipt = await reader.waitForTransactionReceipt({ hash });
    expect(receipt.status).toBe('success');
    expect(await tokens.balanceOf(payer.address)).toBe(1_000_000n - auth.value);
    expect(await tokens.authorizationState(payer.address, auth.nonce)).toBe(true);

    await expect(
      reader.simulateContract({
        account: relayer.account,
        address: tokens.usdc,
        abi: testUsdcAbi,
        functionName: 'transferWithAuthorization',
        args: transferArgsVrs(auth, signature),
      }),
    ).rejects.toThrow(/authorization is used or canceled/);
  });

  it('executes transferWithAuthorization with a bytes signature', async () => {
    const payer = await fundedPayer();
    const auth = await authorization(payer);
    const signature = await signTransfer(payer, auth);
    const hash = await relayer.writeContract({
      address: tokens.usdc,
      abi: testUsdcAbi,
      functionName: 'transferWithAuthorization',
      args: [auth.from, auth.to, auth.value, auth.validAfter, auth.validBefore, auth.nonce, signature],
    });
    expect((await reader.waitForTransactionReceipt({ hash })).status).toBe('success');
    expect(await tokens.balanceOf(auth.to)).toBeGreaterThanOrEqual(auth.value);
  });

  it('enforces the validAfter / validBefore window', async () => {
    const payer = await fundedPayer();
    const now = BigInt(Math.floor(Date.now() / 1000));
    const early = await authorization(payer, { validAfter: now + 3600n, validBefore: now + 7200n });
    const late = await authorization(payer, { validAfter: 0n, validBefore: now - 3600n });
    for (const [auth, message] of [
      [early, /authorization is not yet valid/],
      [late, /authorization is expired/],
    ] as const) {
      const signature = await signTransfer(payer, auth);
      await expect(
        reader.simulateContract({
          account: relayer.account,
          address: tokens.usdc,
          abi: testUsdcAbi,
          functionName: 'transferWithAuthorization',
          args: transferArgsVrs(auth, signature),
        }),
      ).rejects.toThrow(message);
    }
  });

  it('rejects malleable (high-s), non-27/28 v, wrong-signer and wrong-domain signatures', async () => {
    const payer = await fundedPayer();
    const auth = await authorization(payer);
    const signature = await signTransfer(payer, auth);
    const { r, s, yParity } = parseSignature(signature);
    const highS = serializeSignature({ r, s: toHex(SECP256K1_N - BigInt(s), { size: 32 }), yParity: yParity === 0 ? 1 : 0 });
    const zeroV = `${signature.slice(0, 130)}${yParity === 0 ? '00' : '01'}` as Hex;
    const stranger = privateKeyToAccount(generatePrivateKey());
    const wrongSigner = await signTransfer(stranger, auth);
    const wrongDomain = await signTransfer(payer, auth, tokens.customToken);
    for (const bad of [highS, zeroV, wrongSigner, wrongDomain, '0x1234' as Hex]) {
      await expect(
        reader.simulateContract({
          account: relayer.account,
          address: tokens.usdc,
          abi: testUsdcAbi,
          functionName: 'transferWithAuthorization',
          args: [auth.from, auth.to, auth.value, auth.validAfter, auth.validBefore, auth.nonce, bad],
        }),
      ).rejects.toThrow(/invalid signature/);
    }
  });

  it('lets only the payee call receiveWithAuthorization', async () => {
    const payer = await fundedPayer();
    const auth = await authorization(payer);
    const signature = await payer.signTypedData({
      domain: domainOf(tokens.usdc),
      types: receiveTypes,
      primaryType: 'ReceiveWithAuthorization',
      message: auth,
    });
    const args = [auth.from, auth.to, auth.value, auth.validAfter, auth.validBefore, auth.nonce, signature] as const;
    await expect(
      reader.simulateContract({
        account: relayer.account,
        address: tokens.usdc,
        abi: testUsdcAbi,
        functionName: 'receiveWithAuthorization',
        args,
      }),
    ).rejects.toThrow(/caller must be the payee/);
    const hash = await payeeWallet.writeContract({
      address: tokens.usdc,
      abi: testUsdcAbi,
      functionName: 'receiveWithAuthorization',
      args,
    });
    expect((await reader.waitForTransactionReceipt({ hash })).status).toBe('success');
    expect(await tokens.balanceOf(payer.address)).toBe(1_000_000n - auth.value);
  });

  it('cancels an unused authorization', async () => {
    const payer = await fundedPayer();
    const auth = await authorization(payer);
    const cancel = await payer.signTypedData({
      domain: domainOf(tokens.usdc),
      types: cancelTypes,
      primaryType: 'CancelAuthorization',
      message: { authorizer: payer.address, nonce: auth.nonce },
    });
    const { r, s, v } = parseSignature(cancel);
    const hash = await relayer.writeContract({
      address: tokens.usdc,
      abi: testUsdcAbi,
      functionName: 'cancelAuthorization',
      args: [payer.address, auth.nonce, Number(v), r, s],
    });
    expect((await reader.waitForTransactionReceipt({ hash })).status).toBe('success');
    expect(await tokens.authorizationState(payer.address, auth.nonce)).toBe(true);
    await expect(
      reader.simulateContract({
        account: relayer.account,
        address: tokens.usdc,
        abi: testUsdcAbi,
        functionName: 'transferWithAuthorization',
        args: transferArgsVrs(auth, await signTransfer(payer, auth)),
      }),
    ).rejects.toThrow(/authorization is used or canceled/);
  });

  it('supports EIP-2612 permit and nonces', async () => {
    const owner = await fundedPayer();
    const spender = relayer.account.address;
    const deadline = BigInt(Math.floor(Date.now() / 1000) + 600);
    const nonce = await reader.readContract({ address: tokens.usdc, abi: testUsdcAbi, functionName: 'nonces', args: [owner.address] });
    expect(nonce).toBe(0n);
    const signature = await owner.signTypedData({
      domain: domainOf(tokens.usdc),
      types: permitTypes,
      primaryType: 'Permit',
      message: { owner: owner.address, spender, value: 5_000n, nonce, deadline },
    });
    const hash = await relayer.writeContract({
      address: tokens.usdc,
      abi: testUsdcAbi,
      functionName: 'permit',
      args: [owner.address, spender, 5_000n, deadline, signature],
    });
    expect((await reader.waitForTransactionReceipt({ hash })).status).toBe('success');
    expect(
      await reader.readContract({ address: tokens.usdc, abi: testUsdcAbi, functionName: 'allowance', args: [owner.address, spender] }),
    ).toBe(5_000n);
    expect(
      await reader.readContract({ address: tokens.usdc, abi: testUsdcAbi, functionName: 'nonces', args: [owner.address] }),
    ).toBe(1n);
    // The same signature is now stale (nonce moved on).
    await expect(
      reader.simulateContract({
        account: relayer.account,
        address: tokens.usdc,
        abi: testUsdcAbi,
        functionName: 'permit',
        args: [owner.address, spender, 5_000n, deadline, signature],
      }),
    ).rejects.toThrow(/invalid signature/);
  });
});
