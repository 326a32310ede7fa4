/**
 * Helpers of the budget tests: a paywall per URL (msw) and a wrapped fetch over a memory store
 * whose clock the test moves.
 */
import { expect } from 'vitest';
import { memoryStore, wrapFetch, type PaidFetch, type RemainingLimit, type SpendStore, type WrapFetchOptions } from '../../src/index.js';
import type { WalletInput } from '../../src/wallets/types.js';
import { challengeV2, paywall, type Paywall } from './msw.js';
import { decodeHeader, paymentRequiredV2, requirementV2 } from './challenges.js';
import { countingSigner, type CountingSigner } from './signers.js';
import type { HttpHandler } from 'msw';

/** 2025-03-10T10:20:30Z. */
export const T0 = Date.UTC(2025, 2, 10, 10, 20, 30);

/** A v2 Base Sepolia USDC requirement of `micro` micro-USD (USDC has 6 decimals). */
export const usdc = (micro: number | bigint, overrides: Record<string, unknown> = {}) => requirementV2({ amount: String(micro), ...overrides });

/** Serves a v2 402 with `accepts` at `url` (any method); paid requests get `{ ok: true }`. */
export function serve(server: { use(...handlers: HttpHandler[]): void }, url: string, accepts: Record<string, unknown>[] = [usdc(10_000)], extra: Record<string, unknown> = {}): Paywall {
  const p = paywall({ url, challenge: () => challengeV2(paymentRequiredV2(accepts, extra)) });
  server.use(p.handler);
  return p;
}

/** A wrapped fetch over a memory store reading `clock.now`, with a counting signer. */
export function payer(options: WrapFetchOptions = {}, clock: { now: number } = { now: T0 }, wallet?: WalletInput) {
  const signer: CountingSigner = countingSigner();
  const store: SpendStore = options.store ?? memoryStore({ clock: () => clock.now });
  const paidFetch: PaidFetch = wrapFetch(fetch, wallet ?? signer, { ...options, store });
  return { paidFetch, signer, store, clock };
}

/** The outcome of one call: `paid` (status of the answer) or the error code. */
export async function outcome(paidFetch: PaidFetch, url: string, init?: RequestInit): Promise<string> {
  try {
    const response = await paidFetch(url, init);
    return `HTTP ${response.status}`;
  } catch (error) {
    return (error as { code?: string }).code ?? String(error);
  }
}

/** The error of a call that must fail. */
export async function failure(paidFetch: PaidFetch, url: string): Promise<any> {
  try {
    await paidFetch(url);
  } catch (error) {
    return error;
  }
  throw new Error(`expected ${url} to fail`);
}

/** One line of `remaining()`. */
export async function line(paidFetch: PaidFetch, scope: string, limit: string): Promise<RemainingLimit> {
  const found = (await paidFetch.budget.remaining()).find((l) => l.scope === scope && l.limit === limit);
  expect(found, `${scope} ${limit} in remaining()`).toBeDefined();
  return found!;
}

/** Decodes the v2 payment header a paywall received. */
export function sentPayment(p: Paywall, index = 0): Record<string, any> {
  return decodeHeader(p.paid()[index]!.headers['payment-signature']!);
}
