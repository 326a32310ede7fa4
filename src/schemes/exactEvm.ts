import type { Address, Hex } from 'viem';
import { randomBytes, toHex } from '../internal/random.js';
import type { Quote } from '../select.js';
import type { TransferAuthorizationTypedData, Wallet } from '../wallets/types.js';

/** Seconds `validAfter` is set back, so a payee whose clock runs behind still accepts it. */
export const VALID_AFTER_SKEW_SECONDS = 600n;

/** EIP-3009 `TransferWithAuthorization` fields, in the order of the type string. */
export const TRANSFER_WITH_AUTHORIZATION = Object.freeze([
  { name: 'from', type: 'address' },
  { name: 'to', type: 'address' },
  { name: 'value', type: 'uint256' },
  { name: 'validAfter', type: 'uint256' },
  { name: 'validBefore', type: 'uint256' },
  { name: 'nonce', type: 'bytes32' },
] as const);

/** The `payload` of an EVM `exact` EIP-3009 payment, numbers as decimal strings. */
export interface ExactEvmPayload {
  readonly signature: Hex;
  readonly authorization: {
    readonly from: Address;
    readonly to: Address;
    readonly value: string;
    readonly validAfter: string;
    readonly validBefore: string;
    readonly nonce: Hex;
  };
}

/**
 * Where a signed EIP-3009 authorization can be looked up on chain: the token's
 * `authorizationState(from, nonce)` turns true once it is used, and it can never be used at or
 * after `validBefore`. It holds no signature, so it cannot be settled by whoever reads it.
 */
export interface AuthorizationRef {
  /** CAIP-2 network of the token, e.g. `eip155:8453`. */
  readonly network: string;
  /** Token contract that would move the money. */
  readonly token: Address;
  /** The paying address (the authorizer). */
  readonly from: Address;
  /** The authorization's 32-byte nonce, as 0x-prefixed hex. */
  readonly nonce: Hex;
  /** Unix seconds; at or after this the token refuses the authorization. */
  readonly validBefore: bigint;
}

/**
 * How long a signature for `quote` lives, in seconds: what the server asks, at most `maxAuthSeconds`.
 *
 * @example
 * ```ts
 * import { authorizationLifetime } from './exactEvm.js';
 * authorizationLifetime(quote, 300); // 60n for a server asking maxTimeoutSeconds: 60
 * ```
 */
export function authorizationLifetime(quote: Quote, maxAuthSeconds: number): bigint {
  return BigInt(Math.min(quote.option.maxTimeoutSeconds, maxAuthSeconds));
}

/**
 * Builds the EIP-712 typed data for a quote. The domain comes from the requirement (already
 * checked against the asset table by selection); `validBefore` is bounded by `maxAuthSeconds`
 * whatever the server asks; the nonce is 32 bytes from the CSPRNG unless given.
 */
export function transferAuthorization(args: {
  quote: Quote;
  from: Address;
  nowSeconds: bigint;
  maxAuthSeconds: number;
  nonce?: Hex;
  /** The latest `validBefore` allowed (the bound planned at reservation); none when absent. */
  validBeforeAtMost?: bigint;
}): TransferAuthorizationTypedData {
  const { quote, nowSeconds } = args;
  const lifetime = authorizationLifetime(quote, args.maxAuthSeconds);
  const validBefore = args.validBeforeAtMost !== undefined && args.validBeforeAtMost < nowSeconds + lifetime ? args.validBeforeAtMost : nowSeconds + lifetime;
  const validAfter = nowSeconds > VALID_AFTER_SKEW_SECONDS ? nowSeconds - VALID_AFTER_SKEW_SECONDS : 0n;
  return {
    domain: {
      name: quote.asset.name,
      version: quote.asset.version,
      chainId: quote.chainId,
      verifyingContract: quote.option.asset as Address,
    },
    types: { TransferWithAuthorization: TRANSFER_WITH_AUTHORIZATION },
    primaryType: 'TransferWithAuthorization',
    message: {
      from: args.from,
      to: quote.payTo,
      value: quote.amount,
      validAfter,
      validBefore,
      nonce: args.nonce ?? toHex(randomBytes(32)),
    },
  };
}

/**
 * Signs an EVM `exact` payment with EIP-3009 through the wallet and returns the wire payload,
 * and where the authorization can be looked up on chain. Exactly one call to the wallet's
 * `signTypedData`.
 */
export async function signExactEvm(args: {
  quote: Quote;
  wallet: Wallet;
  from: Address;
  nowSeconds: bigint;
  maxAuthSeconds: number;
  nonce?: Hex;
  validBeforeAtMost?: bigint;
}): Promise<{ payload: ExactEvmPayload; authorization: AuthorizationRef }> {
  const typed = transferAuthorization(args);
  const signature = await args.wallet.signTypedData(typed);
  const m = typed.message;
  return {
    payload: {
      signature,
      authorization: {
        from: m.from,
        to: m.to,
        value: m.value.toString(),
        validAfter: m.validAfter.toString(),
        validBefore: m.validBefore.toString(),
        nonce: m.nonce,
      },
    },
    authorization: Object.freeze({
      network: args.quote.network,
      token: typed.domain.verifyingContract,
      from: m.from,
      nonce: m.nonce,
      validBefore: m.validBefore,
    }),
  };
}
