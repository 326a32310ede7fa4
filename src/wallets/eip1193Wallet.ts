import { getAddress, isHex, stringToHex, type Address, type Hex } from 'viem';
import type { Eip1193Provider, Wallet } from './types.js';

/**
 * Adapts a raw EIP-1193 provider (`window.ethereum`, WalletConnect, an embedded wallet) to the
 * internal {@link Wallet}: the address from `eth_accounts` (asking with `eth_requestAccounts`
 * when none is connected), signatures from `eth_signTypedData_v4`, and a sign-in's from
 * `personal_sign` (the message as UTF-8 hex, then the address).
 */
export function eip1193Wallet(provider: Eip1193Provider): Wallet {
  let cached: Address | undefined;
  const resolveAddress = async (): Promise<Address> => {
    if (cached) return cached;
    let accounts = (await provider.request({ method: 'eth_accounts' })) as unknown;
    if (!Array.isArray(accounts) || accounts.length === 0) {
      accounts = (await provider.request({ method: 'eth_requestAccounts' })) as unknown;
    }
    const first = Array.isArray(accounts) ? accounts[0] : undefined;
    if (typeof first !== 'string') throw new Error('the provider exposes no account');
    cached = getAddress(first);
    return cached;
  };
  return {
    kind: 'eip1193',
    getAddress: resolveAddress,
    signTypedData: async (data) => {
      const from = await resolveAddress();
      const typedData = {
        domain: data.domain,
        types: {
          EIP712Domain: [
            { name: 'name', type: 'string' },
            { name: 'version', type: 'string' },
            { name: 'chainId', type: 'uint256' },
            { name: 'verifyingContract', type: 'address' },
          ],
          ...data.types,
        },
        primaryType: data.primaryType,
        message: {
          ...data.message,
          value: data.message.value.toString(),
          validAfter: data.message.validAfter.toString(),
          validBefore: data.message.validBefore.toString(),
        },
      };
      const signature = await provider.request({ method: 'eth_signTypedData_v4', params: [from, JSON.stringify(typedData)] });
      if (typeof signature !== 'string' || !isHex(signature)) throw new Error('the provider returned no hex signature');
      return signature as Hex;
    },
    signMessage: async (message) => {
      const from = await resolveAddress();
      const signature = await provider.request({ method: 'personal_sign', params: [stringToHex(message), from] });
      if (typeof signature !== 'string' || !isHex(signature)) throw new Error('the provider returned no hex signature');
      return signature;
    },
  };
}
