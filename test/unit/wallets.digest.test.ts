/**
 * The fast signing path of local accounts: `transferAuthorizationDigest` is exactly viem's
 * `hashTypedData` for every EIP-3009 typed data this SDK builds, a viem local account signs that
 * digest (same bytes as its `signTypedData`), and every other signer still gets `signTypedData`.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { getAddress, hashTypedData, type Address, type Hex } from 'viem';
import { generatePrivateKey, mnemonicToAccount, privateKeyToAccount, toAccount } from 'viem/accounts';
import { TRANSFER_WITH_AUTHORIZATION } from '../../src/schemes/exactEvm.js';
import { transferAuthorizationDigest } from '../../src/wallets/transferAuthorizationDigest.js';
import { toWallet } from '../../src/wallets/toWallet.js';
import { KNOWN_ASSETS } from '../../src/protocol/assets.js';
import type { TransferAuthorizationTypedData } from '../../src/wallets/types.js';

const hex = (bytes: number) => fc.uint8Array({ minLength: bytes, maxLength: bytes }).map((b) => `0x${Buffer.from(b).toString('hex')}` as Hex);
const address = hex(20).map((a) => getAddress(a));
const uint256 = fc.bigInt({ min: 0n, max: (1n << 256n) - 1n });

const typedArb: fc.Arbitrary<TransferAuthorizationTypedData> = fc.record({
  domain: fc.record({
    name: fc.oneof(fc.string({ maxLength: 40 }), fc.string({ maxLength: 20, unit: 'binary' })),
    version: fc.string({ maxLength: 8 }),
    chainId: fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }),
    verifyingContract: fc.oneof(address, address.map((a) => a.toLowerCase() as Address)),
  }),
  types: fc.constant({ TransferWithAuthorization: TRANSFER_WITH_AUTHORIZATION }),
  primaryType: fc.constant('TransferWithAuthorization' as const),
  message: fc.record({ from: address, to: address, value: uint256, validAfter: uint256, validBefore: uint256, nonce: hex(32) }),
});

const example = (): TransferAuthorizationTypedData => ({
  domain: { name: 'USDC', version: '2', chainId: 84532, verifyingContract: '0x036CbD53842c5426634e7929541eC2318f3dCF7e' },
  types: { TransferWithAuthorization: TRANSFER_WITH_AUTHORIZATION },
  primaryType: 'TransferWithAuthorization',
  message: {
    from: '0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266',
    to: '0x209693Bc6afc0C5328bA36FaF03C514EF312287C',
    value: 10_000n,
    validAfter: 1_740_672_089n,
    validBefore: 1_740_672_154n,
    nonce: '0xf3746613c2d920b5fdabc0856f2aeb2d4f88ee6037b8cc5d04a71a4462f13480',
  },
});

describe('transferAuthorizationDigest', () => {
  it('is viem hashTypedData, byte for byte, for any EIP-3009 typed data (domain separators cached)', () => {
    fc.assert(
      fc.property(typedArb, (typed) => {
        const digest = transferAuthorizationDigest(typed);
        if (typed.domain.version === '') expect(digest).toBeUndefined();
        else expect(digest).toBe(hashTypedData(typed));
        // A second time, from the cached domain separator.
        expect(transferAuthorizationDigest(typed)).toBe(digest);
      }),
      { numRuns: 300 },
    );
  });

  it('leaves to viem what viem would refuse or hash otherwise', () => {
    const base = example();
    const wrongChecksum = '0x036cbD53842c5426634e7929541eC2318f3dCF7e' as Address;
    expect(transferAuthorizationDigest({ ...base, domain: { ...base.domain, verifyingContract: wrongChecksum } })).toBeUndefined();
    expect(transferAuthorizationDigest({ ...base, message: { ...base.message, to: wrongChecksum } })).toBeUndefined();
    expect(transferAuthorizationDigest({ ...base, message: { ...base.message, value: -1n } })).toBeUndefined();
    expect(transferAuthorizationDigest({ ...base, message: { ...base.message, value: 1n << 256n } })).toBeUndefined();
    expect(transferAuthorizationDigest({ ...base, message: { ...base.message, nonce: '0x1234' } })).toBeUndefined();
    expect(transferAuthorizationDigest({ ...base, domain: { ...base.domain, salt: '0x00' } as never })).toBeUndefined();
    expect(transferAuthorizationDigest({ ...base, types: { TransferWithAuthorization: TRANSFER_WITH_AUTHORIZATION.slice(0, 5) } })).toBeUndefined();
    expect(transferAuthorizationDigest({ ...base, primaryType: 'Permit' as never })).toBeUndefined();
    // viem drops an empty version from the domain type.
    expect(transferAuthorizationDigest({ ...base, domain: { ...base.domain, version: '' } })).toBeUndefined();
  });
});

describe('local accounts sign the digest; other signers get signTypedData', () => {
  it('privateKeyToAccount and mnemonicToAccount: the same signature as their own signTypedData, without calling it', async () => {
    for (const account of [privateKeyToAccount(generatePrivateKey()), mnemonicToAccount('test test test test test test test test test test test junk')]) {
      let typedCalls = 0;
      const spied = { ...account, signTypedData: (async (args: never) => (typedCalls++, account.signTypedData(args))) as typeof account.signTypedData };
      const typed = { ...example(), message: { ...example().message, from: account.address } };
      const signature = await toWallet(spied, KNOWN_ASSETS).signTypedData(typed);
      expect(signature).toBe(await account.signTypedData(typed));
      expect(typedCalls).toBe(0);
    }
  });

  it('typed data viem would refuse still goes to signTypedData, which refuses it', async () => {
    const account = privateKeyToAccount(generatePrivateKey());
    const typed = { ...example(), domain: { ...example().domain, verifyingContract: '0x036cbD53842c5426634e7929541eC2318f3dCF7e' as Address } };
    await expect(toWallet(account, KNOWN_ASSETS).signTypedData(typed)).rejects.toThrow(/Address .* is invalid/);
  });

  it('a custom viem account (toAccount: a remote or custodial signer) gets signTypedData, never sign', async () => {
    const inner = privateKeyToAccount(generatePrivateKey());
    const calls: string[] = [];
    const custom = toAccount({
      address: inner.address,
      sign: async (args) => (calls.push('sign'), inner.sign(args)),
      signMessage: (args) => inner.signMessage(args),
      signTransaction: (tx) => inner.signTransaction(tx),
      signTypedData: async (args) => (calls.push('signTypedData'), inner.signTypedData(args as never)),
    });
    const typed = { ...example(), message: { ...example().message, from: inner.address } };
    expect(await toWallet(custom, KNOWN_ASSETS).signTypedData(typed)).toBe(await inner.signTypedData(typed));
    expect(calls).toEqual(['signTypedData']);
  });
});
