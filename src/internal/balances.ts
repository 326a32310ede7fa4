import { formatUnits } from './amount.js';
import type { Address } from 'viem';
import type { PaymentOption } from '../protocol/challenge.js';
import type { PolicyRefusal, Quote } from '../select.js';

/** Reads a balance on chain: `network` (CAIP-2), `token` and `owner` addresses, atomic units. */
export type BalanceReader = (network: string, token: Address, owner: Address) => Promise<bigint>;

/** What {@link createBalances} reads the chain with, and the limits it judges by. */
export interface BalanceSources {
  readonly balanceOf: BalanceReader;
  /** The latest block's timestamp on a network (unix seconds), when the checker can tell it. */
  readonly blockTime?: ((network: string) => Promise<bigint>) | undefined;
  /** Clock in ms. */
  readonly clock: () => number;
  /** The longest life of a signature (`maxAuthSeconds`). */
  readonly maxAuthSeconds: number;
}

/** The balances known for one payment's options: refuses a quote the payer cannot cover. */
export interface BalanceView {
  /** During selection: `insufficient_balance` when the payer's known balance of the token is below the amount. */
  refusal(quote: Quote): PolicyRefusal | undefined;
}

/** The payer's token balances, read on chain before signing and kept a short while (see {@link createBalances}). */
export interface Balances {
  /** Reads (or reuses) the balances the offered options need; a read that fails leaves that token unchecked and is told to `onError`. */
  view(options: readonly PaymentOption[], owner: Address, onError: (message: string) => void): Promise<BalanceView>;
  /** Lowers `owner`'s kept balance by a signed payment's amount (a signature is spent). */
  spend(quote: Quote, owner: Address): void;
}

/** How long a balance read is reused for payments it covers. */
export const BALANCE_KEPT_MS = 30_000;

interface Known {
  readonly balance: bigint;
  readonly readAt: number;
  /** Signed since the read (not yet in the chain's answer). */
  spent: bigint;
}

/** A network's latest block time, and when (local ms) it was read. */
interface ChainTime {
  readonly seconds: bigint;
  readonly readAt: number;
}

/** The facilitator's margin: it refuses an authorization with less than this left (PROTOCOL.md). */
const SETTLE_MARGIN_SECONDS = 6n;

const keyOf = (network: string, token: string, owner: string) => `${network} ${token.toLowerCase()} ${owner.toLowerCase()}`;

/**
 * Balance checks before signing (the `checkBalance` option): for each token an offered option
 * names, the payer's balance is read on chain, or reused for {@link BALANCE_KEPT_MS} minus what
 * was signed since, when it covers every option of that token; a balance that does not cover an
 * option is always from a fresh read, so funds that just arrived count. An option the payer
 * cannot cover is refused (`insufficient_balance`), so no signature is made that could never
 * settle (and would count against the budget until reconciled). A read that fails is reported
 * through the view's `onError` and checks nothing: the facilitator still refuses what cannot settle.
 *
 * With `blockTime`, the latest block's time of each network is read too (kept 30 s, moved on by
 * the local clock): when the local clock is so far behind the chain that an authorization signed
 * now would already be expired there (THREATS E2), the option is refused (`clock_behind_chain`).
 * Only that direction is judged: a chain whose latest block is old may just be idle.
 *
 * @example
 * ```ts
 * import { createBalances } from './balances.js';
 * const balances = createBalances({ balanceOf: (network, token, owner) => checker.balanceOf(network, token, owner), clock: Date.now, maxAuthSeconds: 300 });
 * const view = await balances.view(challenge.options, payer, console.warn);
 * view.refusal(quote); // { code: 'insufficient_balance', … } when the payer cannot cover it
 * ```
 */
export function createBalances(sources: BalanceSources): Balances {
  const { balanceOf: read, blockTime, clock } = sources;
  const known = new Map<string, Known>();
  const times = new Map<string, ChainTime>();
  return {
    async view(options, owner, onError) {
      const needs = new Map<string, { network: string; token: Address; most: bigint }>();
      for (const option of options) {
        if (option.network === undefined || !/^0x[0-9a-fA-F]{40}$/.test(option.asset)) continue;
        const key = keyOf(option.network, option.asset, owner);
        const need = needs.get(key);
        if (!need) needs.set(key, { network: option.network, token: option.asset as Address, most: option.amount });
        else if (option.amount > need.most) need.most = option.amount;
      }
      const now = clock();
      const networks = new Set([...needs.values()].map((need) => need.network));
      const reading = blockTime
        ? [...networks].map(async (network) => {
            const kept = times.get(network);
            if (kept && now - kept.readAt < BALANCE_KEPT_MS) return;
            try {
              times.set(network, { seconds: await blockTime(network), readAt: clock() });
            } catch (error) {
              times.delete(network);
              onError(`could not read the latest block time on ${network}: ${error instanceof Error ? error.message : String(error)}`);
            }
          })
        : [];
      await Promise.all([
        ...reading,
        ...[...needs].map(async ([key, need]) => {
          const kept = known.get(key);
          if (kept && now - kept.readAt < BALANCE_KEPT_MS && kept.balance - kept.spent >= need.most) return;
          try {
            known.set(key, { balance: await read(need.network, need.token, owner), readAt: clock(), spent: 0n });
          } catch (error) {
            known.delete(key);
            onError(`could not read the balance of ${need.token} on ${need.network}: ${error instanceof Error ? error.message : String(error)}`);
          }
        }),
      ]);
      return {
        refusal(quote) {
          const chainTime = times.get(quote.network);
          if (chainTime) {
            const nowMs = clock();
            const chainNow = chainTime.seconds + BigInt(Math.floor((nowMs - chainTime.readAt) / 1000));
            const localNow = BigInt(Math.floor(nowMs / 1000));
            const validBefore = localNow + BigInt(Math.min(quote.option.maxTimeoutSeconds, sources.maxAuthSeconds));
            if (validBefore < chainNow + SETTLE_MARGIN_SECONDS) {
              return {
                code: 'clock_behind_chain',
                message: `the local clock is ${chainNow - localNow} s behind the latest block of ${quote.network}: an authorization signed now would already be expired there; set the clock right (NTP)`,
              };
            }
          }
          const kept = known.get(keyOf(quote.network, quote.option.asset, owner));
          if (!kept || kept.balance - kept.spent >= quote.amount) return undefined;
          const has = formatUnits(kept.balance - kept.spent > 0n ? kept.balance - kept.spent : 0n, quote.asset.decimals);
          const costs = formatUnits(quote.amount, quote.asset.decimals);
          return { code: 'insufficient_balance', message: `the payer holds ${has} ${quote.asset.symbol} on ${quote.network}, less than the ${costs} asked` };
        },
      };
    },
    spend(quote, owner) {
      const kept = known.get(keyOf(quote.network, quote.option.asset, owner));
      if (kept) kept.spent += quote.amount;
    },
  };
}
