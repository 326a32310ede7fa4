import { getAddress, isHex, type Address, type Hex } from 'viem';
import type { Wallet, WalletClientLike } from './types.js';

/**
 * Adapts a viem `WalletClient` to the internal {@link Wallet}. Works with a local account on
 * the client and with a JSON-RPC account (a browser wallet through `custom(window.ethereum)`),
 * where viem sends `eth_signTypedData_v4` to the wallet (and `personal_sign` for a sign-in).
 */
export function walletClientWallet(client: WalletClientLike): Wallet {
  let cached: Address | undefined;
  const resolveAddress = async (): Promise<Address> => {
    if (cached) return cached;
    const fromAccount = client.account?.address;
    const address = fromAccount ?? (await client.getAddresses())[0];
    if (!address) throw new Error('the WalletClient has no account and its wallet exposes no address');
    cached = getAddress(address);
    return cached;
  };
  return {
    kind: 'walletClient',
    getAddress: resolveAddress,
    signTypedData: async (data) => {
      const account = client.account ?? (await resolveAddress());
      const sign = client.signTypedData as unknown as (args: unknown) => Promise<Hex>;
      return sign({ account, domain: data.domain, types: data.types, primaryType: data.primaryType, message: data.message });
    },
    signMessage:
      typeof client.signMessage === 'function'
        ? async (message) => {
            const account = client.account ?? (await resolveAddress());
            const signature: unknown = await (client.signMessage as unknown as (args: unknown) => Promise<unknown>)({ account, message });
            if (typeof signature !== 'string' || !isHex(signature)) throw new TypeError('the wallet returned no hex signature');
            return signature;
          }
        : undefined,
  };
}
