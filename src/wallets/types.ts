import type { Address, Hex } from 'viem';

/** EIP-712 typed data for an EIP-3009 `TransferWithAuthorization`, as the schemes build it. */
export interface TransferAuthorizationTypedData {
  readonly domain: { readonly name: string; readonly version: string; readonly chainId: number; readonly verifyingContract: Address };
  readonly types: {
    readonly TransferWithAuthorization: readonly { readonly name: string; readonly type: string }[];
  };
  readonly primaryType: 'TransferWithAuthorization';
  readonly message: {
    readonly from: Address;
    readonly to: Address;
    readonly value: bigint;
    readonly validAfter: bigint;
    readonly validBefore: bigint;
    readonly nonce: Hex;
  };
}

/**
 * The one wallet interface the engine and schemes use. Every supported wallet shape is adapted
 * to it by {@link toWallet}; schemes never see viem client types.
 */
export interface Wallet {
  /** Which adapter is in use (for logs and errors). */
  readonly kind: 'account' | 'walletClient' | 'eip1193';
  /** The paying address, checksummed. */
  getAddress(): Promise<Address>;
  /** Signs EIP-3009 typed data: the only payment this SDK ever asks a wallet to sign. */
  signTypedData(data: TransferAuthorizationTypedData): Promise<Hex>;
  /**
   * Signs text with EIP-191 (`personal_sign`); absent when the wallet cannot. Only ever called
   * by the `signIn` step, with an EIP-4361 message it wrote itself from checked fields.
   */
  readonly signMessage?: ((message: string) => Promise<Hex>) | undefined;
}

/**
 * Anything with an address that signs EIP-712 typed data the viem way: a viem `LocalAccount`
 * (`privateKeyToAccount`, `mnemonicToAccount`), or a custodial/server signer.
 */
export interface TypedDataSigner {
  /** The paying address (`0x` and 40 hex digits; any case). */
  readonly address: string;
  /** Signs EIP-712 typed data and returns the 65-byte signature as hex; only ever called for an EIP-3009 `TransferWithAuthorization`. */
  signTypedData(args: {
    domain: TransferAuthorizationTypedData['domain'];
    types: TransferAuthorizationTypedData['types'];
    primaryType: 'TransferWithAuthorization';
    message: TransferAuthorizationTypedData['message'];
  }): Promise<string>;
  /**
   * Optional: signs text with EIP-191, the viem way (a `LocalAccount` has it). Only ever called
   * with an EIP-4361 sign-in message, and only with the opt-in `signIn` option.
   */
  signMessage?(args: { message: string }): Promise<string>;
}

/** A raw EIP-1193 provider, e.g. `window.ethereum`. */
export interface Eip1193Provider {
  /** Sends a JSON-RPC request; the SDK calls `eth_accounts`, `eth_requestAccounts`, `eth_signTypedData_v4`, and `personal_sign` (only for an EIP-4361 sign-in, with the opt-in `signIn` option). */
  request(args: { method: string; params?: unknown }): Promise<unknown>;
}

/** The structural part of a viem `WalletClient` this SDK uses. */
export interface WalletClientLike {
  /** `'walletClient'` for a viem WalletClient. */
  readonly type: 'walletClient' | string;
  /** The client's account, when it was created with one (a local account or a JSON-RPC address). */
  readonly account?: { readonly address: string } | undefined;
  /** The wallet's addresses; the first is used when the client has no `account`. */
  getAddresses(): Promise<readonly string[]>;
  /** The client's EIP-1193 `request`. */
  request: (...args: never[]) => Promise<unknown>;
  /** viem's `signTypedData` action. */
  signTypedData(args: never): Promise<string>;
  /** viem's `signMessage` action; only used for an EIP-4361 sign-in (the opt-in `signIn` option). */
  signMessage?(args: never): Promise<string>;
}

/**
 * Every wallet shape `wrapFetch` accepts: a viem `LocalAccount`, a viem `WalletClient`
 * (including one over `custom(window.ethereum)`), a raw EIP-1193 provider, or any
 * `{ address, signTypedData }` signer.
 */
export type WalletInput = TypedDataSigner | WalletClientLike | Eip1193Provider;
