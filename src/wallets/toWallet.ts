import { isAddress } from 'viem';
import { accountWallet } from './accountWallet.js';
import { walletClientWallet } from './walletClientWallet.js';
import { eip1193Wallet } from './eip1193Wallet.js';
import { assetKey, type AssetInfo } from '../protocol/assets.js';
import type { Eip1193Provider, TypedDataSigner, Wallet, WalletClientLike, WalletInput } from './types.js';

const EXPECTED =
  'expected a viem LocalAccount (privateKeyToAccount, mnemonicToAccount), a viem WalletClient, an EIP-1193 provider, or { address, signTypedData }';

/**
 * Adapts any accepted wallet shape to the internal {@link Wallet}, or throws a `TypeError`
 * naming what is wrong with it. Called once, when `wrapFetch` is called. The wallet it returns
 * signs only EIP-3009 transfers of a token in `assets` (the built-in table and the caller's
 * declared tokens), with that token's own EIP-712 domain (THREATS C6).
 */
export function toWallet(input: WalletInput, assets: ReadonlyMap<string, AssetInfo>): Wallet {
  if (typeof input !== 'object' || input === null) {
    throw new TypeError(`wrapFetch: wallet: ${EXPECTED}; got ${input === null ? 'null' : typeof input}.`);
  }
  const candidate = input as unknown as Record<string, unknown>;
  const has = (key: string) => typeof candidate[key] === 'function';
  let wallet: Wallet;
  if (candidate['type'] === 'walletClient' || (has('request') && has('signTypedData') && has('getAddresses'))) {
    wallet = walletClientWallet(input as WalletClientLike);
  } else if ('address' in candidate) {
    if (typeof candidate['address'] !== 'string' || !isAddress(candidate['address'], { strict: false })) {
      throw new TypeError(`wrapFetch: wallet.address must be a 0x-prefixed 20-byte hex address; got ${describe(candidate['address'])}.`);
    }
    if (!has('signTypedData')) {
      const hint =
        candidate['type'] === 'json-rpc'
          ? ' A JSON-RPC account cannot sign by itself: pass the WalletClient that holds it.'
          : '';
      throw new TypeError(`wrapFetch: wallet has an address but no signTypedData function.${hint}`);
    }
    wallet = accountWallet(input as TypedDataSigner);
  } else if (has('request')) {
    wallet = eip1193Wallet(input as Eip1193Provider);
  } else {
    throw new TypeError(`wrapFetch: wallet: ${EXPECTED}; got an object with keys [${Object.keys(candidate).slice(0, 8).join(', ')}].`);
  }
  return guarded(wallet, assets);
}

/**
 * Lets only EIP-3009 transfers of known tokens through to the wallet (THREATS C6), whatever
 * calls it: the domain's chain and contract must be a token of `assets`, with its name and version.
 * Message signing passes through for the `signIn` step, which signs only EIP-4361 messages it
 * writes itself.
 */
function guarded(wallet: Wallet, assets: ReadonlyMap<string, AssetInfo>): Wallet {
  return {
    kind: wallet.kind,
    getAddress: () => wallet.getAddress(),
    signTypedData: (data) => {
      if (data.primaryType !== 'TransferWithAuthorization') {
        return Promise.reject(new Error(`refusing to sign typed data of type ${String(data.primaryType)}`));
      }
      const { chainId, verifyingContract, name, version } = data.domain;
      const asset = typeof verifyingContract === 'string' ? assets.get(assetKey(`eip155:${String(chainId)}`, verifyingContract)) : undefined;
      if (!asset || asset.name !== name || asset.version !== version) {
        return Promise.reject(new Error(`refusing to sign for ${String(verifyingContract).slice(0, 42)} on chain ${String(chainId).slice(0, 20)}: not a known or declared token with that EIP-712 domain`));
      }
      return wallet.signTypedData(data);
    },
    signMessage: wallet.signMessage,
  };
}

function describe(value: unknown): string {
  return typeof value === 'string' ? JSON.stringify(value.slice(0, 60)) : typeof value;
}
