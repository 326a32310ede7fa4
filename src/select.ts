import { getAddress, isAddress, zeroAddress, type Address } from 'viem';
import { assetKey, type AssetInfo } from './protocol/assets.js';
import { evmChainId } from './protocol/networks.js';
import { toUsd } from './internal/amount.js';
import { NoAcceptableOptionError, type OptionRefusal } from './errors/NoAcceptableOptionError.js';
import type { Challenge, PaymentOption } from './protocol/challenge.js';

/**
 * The one option chosen to be paid, frozen: the object that passes the policy is the object
 * that is signed (THREATS G1). Amounts are atomic `bigint`s; the network is CAIP-2.
 */
export interface Quote {
  /** The URL that answered 402 (the one the payment goes to). */
  readonly url: string;
  /** Host name of {@link Quote.url}. */
  readonly host: string;
  /** x402 version of the challenge. */
  readonly version: 1 | 2;
  /** The chosen option, exactly as offered (its `wire` object is echoed as v2 `accepted`). */
  readonly option: PaymentOption;
  /** CAIP-2 network. */
  readonly network: string;
  /** EVM chain id of {@link Quote.network}. */
  readonly chainId: number;
  /** What the client knows about the asset (from its table or the caller's declaration). */
  readonly asset: AssetInfo;
  /** Atomic units to pay. */
  readonly amount: bigint;
  /** Checksummed recipient. */
  readonly payTo: Address;
  /** USD value in 36-decimal fixed point, for USD-pegged assets; undefined otherwise. */
  readonly usd: bigint | undefined;
}

/** Why the policy refused a quote during selection. */
export interface PolicyRefusal {
  /** Stable snake_case code, e.g. `budget_exceeded`. */
  readonly code: string;
  /** Human explanation. */
  readonly message: string;
  /** The error to throw if no other option is acceptable. */
  readonly error: Error;
}

/** What {@link selectQuote} needs to know about the client. */
export interface SelectContext {
  /** The URL that answered 402. */
  readonly url: string;
  /** Assets the client can pay in: the built-in table plus the caller's declarations. */
  readonly assets: ReadonlyMap<string, AssetInfo>;
  /** Networks the caller allows (CAIP-2); undefined allows every network of a known asset. */
  readonly networks: ReadonlySet<string> | undefined;
  /** Policy pre-check of a candidate (the same check is repeated, atomically, at reservation). */
  readonly check: (quote: Quote) => PolicyRefusal | undefined;
}

/**
 * Chooses what to pay: only options this client can sign (EVM `exact` with EIP-3009, a known or
 * declared asset whose EIP-712 domain matches) on allowed networks; among them the cheapest in
 * USD (USD-pegged assets first), ties broken by the server's order; then the first that passes
 * the policy. Throws {@link NoAcceptableOptionError} listing every refusal, or the policy's own
 * error when only the policy stood in the way.
 */
export function selectQuote(challenge: Challenge, ctx: SelectContext): Quote {
  const host = new URL(ctx.url).hostname;
  const refusals: OptionRefusal[] = [];
  const candidates: Quote[] = [];
  for (const option of challenge.options) {
    const result = toQuote(option, challenge, ctx, host);
    if ('code' in result) refusals.push(refusal(option, result.code, result.message));
    else candidates.push(result);
  }
  candidates.sort(
    (a, b) =>
      (a.usd === undefined ? 1 : 0) - (b.usd === undefined ? 1 : 0) ||
      (a.usd !== undefined && b.usd !== undefined ? (a.usd < b.usd ? -1 : a.usd > b.usd ? 1 : 0) : 0) ||
      a.option.index - b.option.index,
  );
  let policyError: Error | undefined;
  for (const quote of candidates) {
    const refused = ctx.check(quote);
    if (!refused) return quote;
    policyError ??= refused.error;
    refusals.push(refusal(quote.option, refused.code, refused.message));
  }
  if (policyError) throw policyError;
  refusals.sort((a, b) => a.index - b.index);
  throw new NoAcceptableOptionError({ url: ctx.url, refusals });
}

type Refused = { code: string; message: string };

function toQuote(option: PaymentOption, challenge: Challenge, ctx: SelectContext, host: string): Quote | Refused {
  if (option.scheme !== 'exact') return { code: 'unsupported_scheme', message: `scheme "${option.scheme}" is not supported (only "exact")` };
  const network = option.network;
  if (network === undefined) return { code: 'unknown_network', message: `v1 network "${option.wireNetwork}" is not known` };
  const chainId = evmChainId(network);
  if (chainId === undefined) return { code: 'unsupported_network', message: `network "${network}" is not a canonical eip155 chain` };
  if (ctx.networks && !ctx.networks.has(network)) return { code: 'network_not_allowed', message: `network ${network} is not allowed` };
  if (!isAddress(option.asset)) return { code: 'unknown_asset', message: 'asset is not an address (or has a wrong EIP-55 checksum)' };
  const asset = ctx.assets.get(assetKey(network, option.asset));
  if (!asset) {
    return { code: 'unknown_asset', message: `asset ${option.asset} on ${network} is neither a known stablecoin nor declared in options.assets` };
  }
  const method = option.extra?.['assetTransferMethod'];
  if (asset.transfer !== 'eip3009' || (method !== undefined && method !== 'eip3009')) {
    return { code: 'transfer_method_unsupported', message: `transfer method ${String(method ?? asset.transfer)} is not supported (only EIP-3009)` };
  }
  const name = option.extra?.['name'];
  const version = option.extra?.['version'];
  if (typeof name !== 'string' || typeof version !== 'string') {
    return { code: 'domain_missing', message: 'extra.name and extra.version (the EIP-712 domain) are missing' };
  }
  if (name !== asset.name || version !== asset.version) {
    return {
      code: 'domain_mismatch',
      message: `claimed EIP-712 domain "${name.slice(0, 40)}"/"${version.slice(0, 10)}" differs from ${asset.symbol}'s "${asset.name}"/"${asset.version}"`,
    };
  }
  if (!isAddress(option.payTo)) return { code: 'invalid_payee', message: 'payTo is not an address (or has a wrong EIP-55 checksum)' };
  const payTo = getAddress(option.payTo);
  if (payTo === zeroAddress || payTo.toLowerCase() === option.asset.toLowerCase()) {
    return { code: 'invalid_payee', message: 'payTo is the zero address or the token contract' };
  }
  if (option.amount === 0n) return { code: 'zero_amount', message: 'amount is zero' };
  return Object.freeze({
    url: ctx.url,
    host,
    version: challenge.version,
    option,
    network,
    chainId,
    asset,
    amount: option.amount,
    payTo,
    usd: asset.usdPegged ? toUsd(option.amount, asset.decimals) : undefined,
  });
}

function refusal(option: PaymentOption, code: string, message: string): OptionRefusal {
  return {
    index: option.index,
    scheme: option.scheme,
    network: option.wireNetwork,
    asset: option.asset,
    amount: option.amount.toString(),
    code,
    message,
  };
}
