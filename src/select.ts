import { getAddress, isAddress, zeroAddress, type Address } from 'viem';
import { assetKey, type AssetInfo } from './protocol/assets.js';
import { evmChainId } from './protocol/networks.js';
import { toUsd } from './internal/amount.js';
import { inertText } from './internal/inert.js';
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
  /** The error to throw if no other option is acceptable (budget refusals); allow-list refusals have none. */
  readonly error?: Error;
}

/** What {@link selectQuote} needs to know about the client. */
export interface SelectContext {
  /** The URL that answered 402. */
  readonly url: string;
  /** Assets the client can pay in: the built-in table plus the caller's declarations. */
  readonly assets: ReadonlyMap<string, AssetInfo>;
  /** Policy check of a candidate: allow lists and per-request caps (windows are checked atomically at reservation). */
  readonly check: (quote: Quote) => PolicyRefusal | undefined;
  /** The paying address, when known: an option paying the wallet itself is refused. */
  readonly payer?: string;
}

/**
 * Chooses what to pay: only options this client can sign (EVM `exact` with EIP-3009, a known or
 * declared asset whose EIP-712 domain matches); among them the cheapest in USD (USD-pegged
 * assets first), ties broken by the server's order; then the first that passes the policy
 * (allow lists, per-request cap). Throws {@link NoAcceptableOptionError} listing every refusal,
 * or the policy's own error (budget, changed payee) when a policy refusal stood in the way.
 * Recipients that cannot be meant are refused: the zero address, the payer itself, the token
 * contract or any other known token contract.
 *
 * @example
 * ```ts
 * import { selectQuote } from './select.js';
 * const quote = selectQuote(challenge, { url, assets: KNOWN_ASSETS, check: () => undefined, payer });
 * ```
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
    if (refused.error) policyError ??= refused.error;
    refusals.push(refusal(quote.option, refused.code, refused.message));
  }
  if (policyError) throw policyError;
  refusals.sort((a, b) => a.index - b.index);
  throw new NoAcceptableOptionError({ url: ctx.url, refusals });
}

type Refused = { code: string; message: string };

function toQuote(option: PaymentOption, challenge: Challenge, ctx: SelectContext, host: string): Quote | Refused {
  if (option.scheme !== 'exact') return { code: 'unsupported_scheme', message: `scheme "${inertText(option.scheme, 40)}" is not supported (only "exact")` };
  const network = option.network;
  if (network === undefined) return { code: 'unknown_network', message: `v1 network "${inertText(option.wireNetwork, 60)}" is not known` };
  const chainId = evmChainId(network);
  if (chainId === undefined) return { code: 'unsupported_network', message: `network "${inertText(network, 60)}" is not a canonical eip155 chain` };
  if (!isAddress(option.asset)) return { code: 'unknown_asset', message: 'asset is not an address (or has a wrong EIP-55 checksum)' };
  const asset = ctx.assets.get(assetKey(network, option.asset));
  if (!asset) {
    return { code: 'unknown_asset', message: `asset ${inertText(option.asset, 60)} on ${network} is neither a known stablecoin nor declared in options.assets` };
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
      message: `claimed EIP-712 domain "${inertText(name, 40)}"/"${inertText(version, 10)}" differs from ${asset.symbol}'s "${asset.name}"/"${asset.version}"`,
    };
  }
  if (!isAddress(option.payTo)) return { code: 'invalid_payee', message: 'payTo is not an address (or has a wrong EIP-55 checksum)' };
  const payTo = getAddress(option.payTo);
  if (payTo === zeroAddress || payTo.toLowerCase() === option.asset.toLowerCase()) {
    return { code: 'invalid_payee', message: 'payTo is the zero address or the token contract' };
  }
  if (ctx.payer !== undefined && payTo.toLowerCase() === ctx.payer.toLowerCase()) {
    return { code: 'invalid_payee', message: 'payTo is the paying wallet itself' };
  }
  for (const known of ctx.assets.values()) {
    if (known.address.toLowerCase() === payTo.toLowerCase()) return { code: 'invalid_payee', message: `payTo is the ${known.symbol} token contract on ${known.network}` };
  }
  if (option.amount === 0n) return { code: 'zero_amount', message: 'amount is zero' };
  const quote: Quote = {
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
  };
  // JSON.stringify(quote) works (bigints become strings) and shows nothing but the terms.
  Object.defineProperty(quote, 'toJSON', { value: quoteToJSON, enumerable: false });
  return Object.freeze(quote);
}

function quoteToJSON(this: Quote): Record<string, unknown> {
  return {
    url: this.url,
    host: this.host,
    version: this.version,
    network: this.network,
    chainId: this.chainId,
    asset: this.option.asset,
    symbol: this.asset.symbol,
    amount: this.amount.toString(),
    payTo: this.payTo,
    index: this.option.index,
  };
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
