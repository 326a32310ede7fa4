import { encodeFunctionData, getAddress, isAddress, parseAbi, type Hex } from 'viem';
import { evmChainId } from './protocol/networks.js';
import { ReconcileUnavailableError } from './errors/ReconcileUnavailableError.js';
import type { AuthorizationRef } from './schemes/exactEvm.js';

/**
 * Anything that answers Ethereum JSON-RPC: a viem `PublicClient` (or any viem client), or an
 * EIP-1193 provider such as `window.ethereum`. Only `eth_chainId`, `eth_getBlockByNumber` and
 * `eth_call` are used; nothing is signed or sent.
 */
export interface ChainReader {
  /** Sends one JSON-RPC request. */
  request(args: { method: string; params?: unknown }): Promise<unknown>;
}

/** Which block to judge by: `finalized` (default) cannot be undone by a reorganisation; `latest` answers sooner. */
export type AuthorizationBlockTag = 'latest' | 'safe' | 'finalized';

/** Options of {@link checkAuthorization}. */
export interface CheckAuthorizationOptions {
  /** Block to read at (default `finalized`). An `expired` answer is final only at a finalized block. */
  readonly blockTag?: AuthorizationBlockTag;
  /** Most ms for the whole check (default 10,000); then {@link ReconcileUnavailableError}. */
  readonly timeoutMs?: number;
}

/**
 * What the chain says of a signed authorization at one block:
 * - `used`: the token marked its nonce used: the payment was settled (money moved), or the payer
 *   cancelled it. Do not pay again for it.
 * - `pending`: not used yet, and the block is before `validBefore`: whoever holds it can still
 *   settle it. Check again after `validBefore`.
 * - `expired`: not used, and the block is at or after `validBefore`: the token will never accept
 *   it, so no money moved through it. Paying again is safe.
 */
export interface AuthorizationCheck {
  /** `used`, `pending` or `expired` (see {@link AuthorizationCheck}). */
  readonly state: 'used' | 'pending' | 'expired';
  /** The block the answer holds at. */
  readonly blockNumber: bigint;
  /** That block's timestamp, unix seconds. */
  readonly blockTimestamp: bigint;
  /** The authorization's expiry, unix seconds. */
  readonly validBefore: bigint;
}

/** An {@link AuthorizationRef} as `JSON.stringify` writes it (a payment's `toJSON`): `validBefore` as a decimal string. */
export type AuthorizationRefJson = Omit<AuthorizationRef, 'validBefore'> & { readonly validBefore: string };

const EIP3009_STATE_ABI = parseAbi(['function authorizationState(address authorizer, bytes32 nonce) view returns (bool)']);
const QUANTITY = /^0x[0-9a-fA-F]{1,64}$/;
const NONCE = /^0x[0-9a-fA-F]{64}$/;
const DECIMAL = /^(0|[1-9][0-9]{0,77})$/;
const BOOL_FALSE = `0x${'0'.repeat(64)}`;
const BOOL_TRUE = `0x${'0'.repeat(63)}1`;

/**
 * Looks a signed EIP-3009 authorization up on chain: was it settled, can it still be, or has it
 * expired unused? This is how an ambiguous payment ({@link SettlementUnknownError}, or a
 * {@link PaymentRejectedError} whose server may settle later) is reconciled (THREATS F3, F7).
 *
 * It reads the block at `blockTag`, then the token's `authorizationState(from, nonce)` at that
 * same block, so the answer is consistent: `expired` means the nonce was unused at a block whose
 * time had reached `validBefore`, after which the token refuses it for good. It never signs or
 * sends anything, and it does not change the budget: a payment stays counted until its window
 * ends.
 *
 * @param client - a viem `PublicClient` (or any client or EIP-1193 provider) on the authorization's chain.
 * @param authorization - `error.authorization` of a `SettlementUnknownError`, or `payment.authorization` (also as JSON).
 * @param options - the block tag (default `finalized`) and a timeout.
 * @throws TypeError when the authorization is malformed or the client is on another chain.
 * @throws {@link ReconcileUnavailableError} when the chain could not answer; whether money moved is still unknown.
 *
 * @example
 * ```ts
 * import { checkAuthorization, SettlementUnknownError } from 'x402-autopay';
 * import { createPublicClient, http } from 'viem';
 * import { base } from 'viem/chains';
 *
 * const publicClient = createPublicClient({ chain: base, transport: http() });
 * try {
 *   await paidFetch('https://api.example.com/report');
 * } catch (error) {
 *   if (!(error instanceof SettlementUnknownError)) throw error;
 *   const check = await checkAuthorization(publicClient, error.authorization);
 *   // 'used': it was paid; 'pending': ask again after check.validBefore; 'expired': safe to pay again.
 *   console.log(check.state);
 * }
 * ```
 */
export async function checkAuthorization(
  client: ChainReader,
  authorization: AuthorizationRef | AuthorizationRefJson,
  options: CheckAuthorizationOptions = {},
): Promise<AuthorizationCheck> {
  if (typeof client !== 'object' || client === null || typeof client.request !== 'function') {
    throw new TypeError('checkAuthorization: client must be a viem client or an EIP-1193 provider (an object with request()).');
  }
  const ref = checkedRef(authorization);
  const { blockTag, timeoutMs } = checkedOptions(options, 'checkAuthorization');

  const unavailable = (reason: string, cause?: unknown) => new ReconcileUnavailableError({ authorization: ref, reason, cause });
  const call = async (method: string, params: unknown[]): Promise<unknown> => {
    try {
      return await client.request({ method, params });
    } catch (cause) {
      throw unavailable(`${method} failed (${firstLine(cause)})`, cause);
    }
  };

  let timer: ReturnType<typeof setTimeout> | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(unavailable(`no answer within ${timeoutMs} ms`)), timeoutMs);
  });
  const lookup = async (): Promise<AuthorizationCheck> => {
    const chainId = quantity(await call('eth_chainId', []));
    const expected = BigInt(evmChainId(ref.network)!);
    if (chainId === undefined) throw unavailable('eth_chainId gave no chain id');
    if (chainId !== expected) {
      throw new TypeError(`checkAuthorization: the client is on chain ${chainId}, but the authorization is on ${ref.network}: pass a client for that chain.`);
    }
    const block = await call('eth_getBlockByNumber', [blockTag, false]);
    const number = quantity(field(block, 'number'));
    const timestamp = quantity(field(block, 'timestamp'));
    if (number === undefined || timestamp === undefined) throw unavailable(`the node has no ${blockTag} block`);
    const data = encodeFunctionData({ abi: EIP3009_STATE_ABI, functionName: 'authorizationState', args: [ref.from, ref.nonce] });
    const answer = await call('eth_call', [{ to: ref.token, data }, `0x${number.toString(16)}`]);
    const word = typeof answer === 'string' ? answer.toLowerCase() : undefined;
    if (word !== BOOL_FALSE && word !== BOOL_TRUE) {
      throw unavailable(`the token did not answer authorizationState with a boolean (got ${describe(answer)})`);
    }
    const state = word === BOOL_TRUE ? 'used' : timestamp >= ref.validBefore ? 'expired' : 'pending';
    return Object.freeze({ state, blockNumber: number, blockTimestamp: timestamp, validBefore: ref.validBefore });
  };
  try {
    return await Promise.race([lookup(), expired]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * The options of {@link checkAuthorization} with their defaults, or a `TypeError` naming the bad
 * one (`who` says which function was called).
 */
export function checkedOptions(options: CheckAuthorizationOptions, who: string): Required<CheckAuthorizationOptions> {
  const blockTag = options.blockTag ?? 'finalized';
  if (blockTag !== 'latest' && blockTag !== 'safe' && blockTag !== 'finalized') {
    throw new TypeError(`${who}: blockTag must be 'latest', 'safe' or 'finalized'; got ${describe(blockTag)}.`);
  }
  const timeoutMs = options.timeoutMs ?? 10_000;
  if (!Number.isSafeInteger(timeoutMs) || timeoutMs < 1) throw new TypeError(`${who}: timeoutMs must be a positive integer; got ${describe(timeoutMs)}.`);
  return { blockTag, timeoutMs };
}

/** Validates an authorization reference (typed or from JSON) into an {@link AuthorizationRef}. */
function checkedRef(input: AuthorizationRef | AuthorizationRefJson): AuthorizationRef {
  if (typeof input !== 'object' || input === null) {
    throw new TypeError('checkAuthorization: authorization must be error.authorization or payment.authorization.');
  }
  const { network, token, from, nonce, validBefore } = input as Record<keyof AuthorizationRef, unknown>;
  const bad = (name: string, expected: string, value: unknown): never => {
    throw new TypeError(`checkAuthorization: authorization.${name} must be ${expected}; got ${describe(value)}.`);
  };
  if (typeof network !== 'string' || evmChainId(network) === undefined) bad('network', 'a CAIP-2 EVM network such as eip155:8453', network);
  if (typeof token !== 'string' || !isAddress(token, { strict: false })) bad('token', 'a 0x-prefixed 20-byte address', token);
  if (typeof from !== 'string' || !isAddress(from, { strict: false })) bad('from', 'a 0x-prefixed 20-byte address', from);
  if (typeof nonce !== 'string' || !NONCE.test(nonce)) bad('nonce', '32 bytes of 0x-prefixed hex', nonce);
  let expiry: bigint | undefined;
  if (typeof validBefore === 'bigint' && validBefore >= 0n) expiry = validBefore;
  else if (typeof validBefore === 'string' && DECIMAL.test(validBefore)) expiry = BigInt(validBefore);
  if (expiry === undefined) bad('validBefore', 'unix seconds (a non-negative bigint or decimal string)', validBefore);
  return Object.freeze({
    network: network as string,
    token: getAddress(token as string),
    from: getAddress(from as string),
    nonce: (nonce as string).toLowerCase() as Hex,
    validBefore: expiry!,
  });
}

/** A JSON-RPC quantity (`0x` and 1–64 hex digits) as a bigint; undefined for anything else. */
function quantity(value: unknown): bigint | undefined {
  return typeof value === 'string' && QUANTITY.test(value) ? BigInt(value) : undefined;
}

function field(object: unknown, key: string): unknown {
  return typeof object === 'object' && object !== null ? (object as Record<string, unknown>)[key] : undefined;
}

function firstLine(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return (text.split('\n')[0] ?? '').slice(0, 200);
}

function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.slice(0, 80));
  if (typeof value === 'bigint') return `${value}n`;
  return value === null ? 'null' : typeof value === 'object' ? 'an object' : String(value).slice(0, 40);
}
