import { encodeFunctionData, parseAbi, type Address } from 'viem';
import type { ChainReader } from './checkAuthorization.js';

const BALANCE_ABI = parseAbi(['function balanceOf(address owner) view returns (uint256)']);
const WORD = /^0x[0-9a-fA-F]{64}$/;

/**
 * Reads `owner`'s balance of an ERC-20 `token` at the latest block, in atomic units, with a
 * timeout. Rejects with an `Error` saying what failed (the RPC, the timeout, or an answer that is
 * not one 32-byte word); it never signs or sends anything.
 *
 * @example
 * ```ts
 * import { readBalance } from './readBalance.js';
 * const balance = await readBalance(publicClient, { token: usdc, owner: account.address }, 5_000);
 * ```
 */
export async function readBalance(client: ChainReader, args: { token: Address; owner: Address }, timeoutMs: number): Promise<bigint> {
  const data = encodeFunctionData({ abi: BALANCE_ABI, functionName: 'balanceOf', args: [args.owner] });
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`balanceOf: no answer within ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    const answer = await Promise.race([client.request({ method: 'eth_call', params: [{ to: args.token, data }, 'latest'] }), late]);
    if (typeof answer !== 'string' || !WORD.test(answer)) throw new Error('balanceOf: the token did not answer with one 32-byte word');
    return BigInt(answer);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Reads the timestamp (unix seconds) of the latest block, with a timeout. Rejects with an `Error`
 * saying what failed.
 *
 * @example
 * ```ts
 * import { readBlockTime } from './readBalance.js';
 * const chainNow = await readBlockTime(publicClient, 5_000);
 * ```
 */
export async function readBlockTime(client: ChainReader, timeoutMs: number): Promise<bigint> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`eth_getBlockByNumber: no answer within ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    const block = await Promise.race([client.request({ method: 'eth_getBlockByNumber', params: ['latest', false] }), late]);
    const timestamp = typeof block === 'object' && block !== null ? (block as { timestamp?: unknown }).timestamp : undefined;
    if (typeof timestamp !== 'string' || !/^0x[0-9a-fA-F]{1,16}$/.test(timestamp)) throw new Error('eth_getBlockByNumber: the latest block has no timestamp');
    return BigInt(timestamp);
  } finally {
    clearTimeout(timer);
  }
}
