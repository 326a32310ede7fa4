import { getAddress, type Address, type Hex } from 'viem';
import type { TypedDataSigner, Wallet } from './types.js';

/**
 * Adapts a viem `LocalAccount` or any `{ address, signTypedData }` signer (CDP, Privy,
 * a KMS-backed signer) to the internal {@link Wallet}.
 */
export function accountWallet(signer: TypedDataSigner): Wallet {
  const address: Address = getAddress(signer.address);
  return {
    kind: 'account',
    getAddress: async () => address,
    signTypedData: async (data) =>
      (await signer.signTypedData({
        domain: data.domain,
        types: data.types,
        primaryType: data.primaryType,
        message: data.message,
      })) as Hex,
  };
}
