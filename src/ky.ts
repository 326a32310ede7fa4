/**
 * x402-autopay/ky: the same payments for [ky](https://github.com/sindresorhus/ky) v2 users.
 * `ky` is an optional peer dependency; this entry never imports it at run time (you hand it your
 * ky instance), so it loads the same way from ESM and CJS.
 * @packageDocumentation
 */
import type { BeforeRetryHook, InitHook, KyInstance } from 'ky';
import { createEngine } from './engine.js';
import { budgetView, payingFetch, type BudgetView } from './fetch.js';
import { createCoalescer } from './internal/coalescer.js';
import { resolveOptions, type WrapFetchOptions } from './options.js';
import { getPayment } from './receipt.js';
import { isX402Error } from './errors/X402Error.js';
import { toWallet } from './wallets/toWallet.js';
import type { WalletInput } from './wallets/types.js';

/**
 * The ky hooks that make a ky instance pay, as returned by {@link paymentHooks}. Pass them as
 * ky's `hooks` option; `budget` (not enumerable, so ky never sees it) is the read-only view of
 * what the hooks may still spend.
 */
export interface PaymentHooks {
  /**
   * One `init` hook: for each call it wraps the call's `fetch` option (or `globalThis.fetch`) in
   * the paying fetch, so ky's own timeout, signal and retry logic see one attempt that pays.
   */
  readonly init: InitHook[];
  /**
   * One `beforeRetry` hook: once a call has sent a payment header, or when the payment itself
   * failed (an `X402Error`), ky may not retry that call; the error is thrown instead of paying twice.
   */
  readonly beforeRetry: BeforeRetryHook[];
  /** What is left of the budget and what was spent. */
  readonly budget: BudgetView;
}

/** A ky instance that pays, plus a read-only view of its budget. */
export type PaidKy = KyInstance & { readonly budget: BudgetView };

/**
 * The ky hooks that pay x402 (v1 and v2) challenges through the same engine as `wrapFetch`:
 * a 402 is read, checked against the budget, reserved, signed once and sent once more with the
 * payment header, all inside one ky attempt. ky's `timeout` covers the whole attempt (both
 * sends); ky's `retry` keeps working for unpaid failures, and never runs again after a payment
 * header has left for that call (no second payment). One engine (one budget) per call of
 * `paymentHooks`, shared by every request of every instance the hooks are given to.
 *
 * @param wallet - a viem `LocalAccount`, a viem `WalletClient`, an EIP-1193 provider, or `{ address, signTypedData }`.
 * @param options - the same options as `wrapFetch`: budget, store, accepted assets, listeners.
 * @throws TypeError at once when the wallet or an option has the wrong shape.
 *
 * @example
 * ```ts
 * import ky from 'ky';
 * import { paymentHooks } from 'x402-autopay/ky';
 * import { privateKeyToAccount } from 'viem/accounts';
 *
 * const pay = paymentHooks(privateKeyToAccount(process.env.KEY as `0x${string}`), { budget: { perRequest: '0.05' } });
 * const api = ky.create({ prefix: 'https://api.example.com', hooks: pay, retry: 2 });
 * const weather = await api.get('weather').json();
 * console.log(weather, await pay.budget.remaining());
 * ```
 */
export function paymentHooks(wallet: WalletInput, options?: WrapFetchOptions): PaymentHooks {
  const resolved = resolveOptions(options);
  const engine = createEngine(toWallet(wallet, resolved.assets), resolved);
  /** Calls (keyed by the per-call ky `context` object) that have sent a payment header. */
  const paidCalls = new WeakSet<object>();
  /** Calls in flight, shared by every call of these hooks (the `coalesce` option). */
  const flights = createCoalescer();

  const init: InitHook = (kyOptions) => {
    // A fresh context object per call: the key that ties this call's retries to its payment.
    const context: Record<string, unknown> = { ...kyOptions.context };
    kyOptions.context = context;
    const inner = kyOptions.fetch ?? ((input, requestInit) => globalThis.fetch(input, requestInit));
    const sendPaid: typeof fetch = (input, requestInit) => {
      paidCalls.add(context);
      return inner(input, requestInit);
    };
    kyOptions.fetch = payingFetch(engine, resolved, inner, sendPaid, flights);
  };

  const beforeRetry: BeforeRetryHook = ({ options: kyOptions, error }) => {
    const response = (error as { response?: unknown }).response;
    if (
      isX402Error(error) ||
      paidCalls.has(kyOptions.context) ||
      // Not `instanceof Response`: ky's `fetch` option may answer with another realm's Response.
      getPayment(response as Response) !== undefined
    ) {
      throw error;
    }
  };

  const hooks = { init: [init], beforeRetry: [beforeRetry] };
  Object.defineProperty(hooks, 'budget', { value: budgetView(engine), enumerable: false });
  return hooks as PaymentHooks;
}

/**
 * Returns a ky instance that pays x402 (v1 and v2) challenges within a budget: `ky.extend` with
 * {@link paymentHooks}. Everything else about the instance (prefix, headers, retry, timeout,
 * other hooks) stays as it was. Read the payment of an answer with `getPayment(response)`.
 *
 * @param ky - the ky instance to extend (ky v2: the default export, or one made with `ky.create`).
 * @param wallet - a viem `LocalAccount`, a viem `WalletClient`, an EIP-1193 provider, or `{ address, signTypedData }`.
 * @param options - the same options as `wrapFetch`.
 * @throws TypeError at once when `ky`, the wallet or an option has the wrong shape.
 *
 * @example
 * ```ts
 * import ky from 'ky';
 * import { getPayment } from 'x402-autopay';
 * import { withPayment } from 'x402-autopay/ky';
 * import { privateKeyToAccount } from 'viem/accounts';
 *
 * const api = withPayment(ky, privateKeyToAccount(process.env.KEY as `0x${string}`), {
 *   budget: { perRequest: '0.05', daily: '1.00' },
 * });
 * const response = await api.post('https://api.example.com/summarize', { json: { text: 'hello' }, timeout: 30_000 });
 * console.log(await response.json(), getPayment(response)?.transaction);
 * ```
 */
export function withPayment(ky: KyInstance, wallet: WalletInput, options?: WrapFetchOptions): PaidKy {
  if (typeof ky !== 'function' || typeof (ky as { extend?: unknown }).extend !== 'function') {
    throw new TypeError(`withPayment: ky must be a ky instance (the default export of ky v2, or one made with ky.create); got ${ky === null ? 'null' : typeof ky}.`);
  }
  const hooks = paymentHooks(wallet, options);
  return Object.assign(ky.extend({ hooks }), { budget: hooks.budget });
}
