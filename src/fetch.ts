import { createEngine, type Engine } from './engine.js';
import { resolveOptions, type ResolvedOptions, type WrapFetchOptions } from './options.js';
import { prepareReplay } from './requestReplay.js';
import { coalesceKey, createCoalescer, type Coalescer } from './internal/coalescer.js';
import { toWallet } from './wallets/toWallet.js';
import type { WalletInput } from './wallets/types.js';
import type { RemainingLimit } from './budget/budget.js';
import type { SpendRecord } from './budget/store.js';
import type { ReconciledPayment, ReconcileOptions } from './budget/reconcilePayments.js';

/** Read-only view of the budget of a wrapped fetch. */
export interface BudgetView {
  /** Room left under every configured limit, from the store. */
  remaining(): Promise<RemainingLimit[]>;
  /** The spend report: time, host, payee, amount, asset, network, transaction, status. */
  report(query?: { since?: number; limit?: number }): Promise<SpendRecord[]>;
  /**
   * With the `reconcile` option ({@link chainChecker}): asks the chain about every payment of
   * the store's last hour whose outcome was `failed` or `unknown` (paid by this process or by
   * any other sharing the store), gives back to the budget those whose authorization expired
   * unused, records as `settled` those it shows used, and keeps counting the rest. Call it now
   * and then (e.g. every few minutes); it signs and sends nothing. With `{ receipts: true }` it
   * also checks the payments whose receipt said `settled` and reports, in `receipt`, whether the
   * chain agrees (THREATS F4). Rejects with a `TypeError` without the option.
   */
  reconcile(options?: ReconcileOptions): Promise<ReconciledPayment[]>;
}

/** A fetch that pays: `typeof fetch`, plus a read-only view of its budget. */
export type PaidFetch = typeof fetch & { readonly budget: BudgetView };

/**
 * Wraps a fetch so that it pays x402 (v1 and v2) challenges by itself, within a budget.
 * The result is a drop-in `typeof fetch`: every non-402 answer is returned untouched; a 402 is
 * read, the cheapest acceptable option is checked against the budget, reserved, signed once
 * with the wallet, and the request is sent once more with the payment header. The paid answer
 * carries its receipt: read it with {@link getPayment}. `paidFetch.budget` shows what is left
 * and what was spent.
 *
 * @param fetchImpl - the fetch to wrap (`globalThis.fetch`, or any compatible function).
 * @param wallet - a viem `LocalAccount`, a viem `WalletClient`, an EIP-1193 provider, or `{ address, signTypedData }`.
 * @param options - budget, accepted assets and networks, limits; see {@link WrapFetchOptions}.
 * @throws TypeError at once when the wallet or an option has the wrong shape.
 *
 * @example
 * ```ts
 * import { wrapFetch, getPayment } from 'x402-autopay';
 * import { privateKeyToAccount } from 'viem/accounts';
 *
 * const paidFetch = wrapFetch(fetch, privateKeyToAccount(process.env.KEY as `0x${string}`), {
 *   budget: { perRequest: '0.05' },
 * });
 * const response = await paidFetch('https://api.example.com/weather');
 * console.log(await response.json(), getPayment(response)?.transaction);
 * ```
 */
export function wrapFetch(fetchImpl: typeof fetch, wallet: WalletInput, options?: WrapFetchOptions): PaidFetch {
  if (typeof fetchImpl !== 'function') {
    throw new TypeError(`wrapFetch: fetch must be a function (e.g. globalThis.fetch); got ${fetchImpl === null ? 'null' : typeof fetchImpl}.`);
  }
  const resolved = resolveOptions(options);
  const engine = createEngine(toWallet(wallet, resolved.assets), resolved);
  return Object.assign(payingFetch(engine, resolved, fetchImpl), { budget: budgetView(engine) }) as PaidFetch;
}

/**
 * The one door every transport goes through (fetch, ky): sends the request through `fetchImpl`
 * and hands a 402 to the engine, which pays it. `sendPaid` sends the paid retry (default:
 * `fetchImpl`); ky wraps it to learn that a payment header left. `flights` holds the calls in
 * flight for the `coalesce` option: one per engine (ky makes a paying fetch per call). Internal,
 * not exported.
 */
export function payingFetch(
  engine: Engine,
  resolved: ResolvedOptions,
  fetchImpl: typeof fetch,
  sendPaid: typeof fetch = fetchImpl,
  flights: Coalescer = createCoalescer(),
): (input: RequestInfo | URL, init?: RequestInit) => Promise<Response> {
  return async (input, init) => {
    const replay = await prepareReplay(input, init, resolved.maxRequestBodyBytes);
    const key = resolved.coalesce ? coalesceKey(input, init, replay.method, replay.url) : undefined;
    return flights.run(key, replay.signal, async () => {
      const prepaid = await engine.prepay(replay, sendPaid);
      if (prepaid) return prepaid;
      const response = await fetchImpl(...replay.first());
      if (response.status !== 402) return response;
      return engine.pay(response, replay, sendPaid, fetchImpl);
    });
  };
}

/** The read-only budget view of an engine. Internal, not exported. */
export function budgetView(engine: Engine): BudgetView {
  return {
    remaining: () => engine.budget.remaining(),
    report: (query) => engine.budget.report(query),
    reconcile: (reconcileOptions?: ReconcileOptions) => engine.reconcile(reconcileOptions),
  };
}
