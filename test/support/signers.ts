import { verifyTypedData, type Address, type Hex } from 'viem';
import { privateKeyToAccount, type PrivateKeyAccount } from 'viem/accounts';
import { TRANSFER_WITH_AUTHORIZATION } from '../../src/schemes/exactEvm.js';
import { testAccount } from './challenges.js';

/**
 * A canary private key: it is only ever handed to viem, so if it shows up in an error message,
 * a JSON dump or an inspected error, the library leaked it.
 */
export const CANARY_KEY = '0x5ec7e75ec7e75ec7e75ec7e75ec7e75ec7e75ec7e75ec7e75ec7e75ec7e75ec7' as const;
export const canaryAccount = privateKeyToAccount(CANARY_KEY);

/** A `{ address, signTypedData }` signer over a viem local account that counts signing calls. */
export interface CountingSigner {
  readonly address: Address;
  calls: number;
  signTypedData(args: Parameters<PrivateKeyAccount['signTypedData']>[0]): Promise<Hex>;
}

/** Wraps a viem local account in a {@link CountingSigner}. */
export function countingSigner(account: PrivateKeyAccount = testAccount): CountingSigner {
  const signer: CountingSigner = {
    address: account.address,
    calls: 0,
    signTypedData: (args) => {
      signer.calls++;
      return account.signTypedData(args);
    },
  };
  return signer;
}

/** The EIP-3009 domain of a known asset. */
export interface Eip3009Domain {
  readonly name: string;
  readonly version: string;
  readonly chainId: number;
  readonly verifyingContract: Address;
}

/** The EIP-3009 payload as it travels (numbers as decimal strings). */
export interface WirePayload {
  signature: Hex;
  authorization: { from: Address; to: Address; value: string; validAfter: string; validBefore: string; nonce: Hex };
}

/** Verifies a wire EIP-3009 payload against a domain and an expected signer, with viem. */
export function verifyWirePayload(payload: WirePayload, domain: Eip3009Domain, address: Address): Promise<boolean> {
  const a = payload.authorization;
  return verifyTypedData({
    address,
    domain,
    types: { TransferWithAuthorization: TRANSFER_WITH_AUTHORIZATION },
    primaryType: 'TransferWithAuthorization',
    message: {
      from: a.from,
      to: a.to,
      value: BigInt(a.value),
      validAfter: BigInt(a.validAfter),
      validBefore: BigInt(a.validBefore),
      nonce: a.nonce,
    },
    signature: payload.signature,
  });
}

/** Base Sepolia USDC's EIP-3009 domain. */
export const BASE_SEPOLIA_USDC_DOMAIN: Eip3009Domain = {
  name: 'USDC',
  version: '2',
  chainId: 84532,
  verifyingContract: '0x036CbD53842c5426634e7929541eC2318f3dCF7e',
};

/** Base mainnet USDC's EIP-3009 domain. */
export const BASE_USDC_DOMAIN: Eip3009Domain = {
  name: 'USD Coin',
  version: '2',
  chainId: 8453,
  verifyingContract: '0x833589fCD6eDb6E08f4c7C32D4f71b54bdA02913',
};

/**
 * A real EIP-1193 provider emulation backed by a viem local account: `eth_accounts`,
 * `eth_requestAccounts`, `eth_chainId`, `eth_signTypedData_v4` (parses the JSON typed data
 * and signs it, as a browser wallet does) and `personal_sign` (hex data, then the address).
 * Records every call.
 */
export function fakeProvider(account: PrivateKeyAccount = testAccount, options: { chainId?: number; accounts?: readonly string[] } = {}) {
  const calls: { method: string; params: unknown }[] = [];
  const provider = {
    calls,
    async request({ method, params }: { method: string; params?: unknown }): Promise<unknown> {
      calls.push({ method, params });
      switch (method) {
        case 'eth_accounts':
        case 'eth_requestAccounts':
          return options.accounts ?? [account.address.toLowerCase()];
        case 'eth_chainId':
          return `0x${(options.chainId ?? 84532).toString(16)}`;
        case 'eth_signTypedData_v4': {
          const [from, json] = params as [string, string];
          if (from.toLowerCase() !== account.address.toLowerCase()) {
            throw Object.assign(new Error('unknown account'), { code: 4100 });
          }
          const typed = JSON.parse(json) as {
            domain: Record<string, unknown>;
            types: Record<string, { name: string; type: string }[]>;
            primaryType: string;
            message: Record<string, unknown>;
          };
          return account.signTypedData(typed as never);
        }
        case 'personal_sign': {
          const [data, from] = params as [`0x${string}`, string];
          if (from.toLowerCase() !== account.address.toLowerCase()) {
            throw Object.assign(new Error('unknown account'), { code: 4100 });
          }
          return account.signMessage({ message: { raw: data } });
        }
        default:
          throw Object.assign(new Error(`method ${method} not supported`), { code: 4200 });
      }
    },
  };
  return provider;
}
