/** Challenge builders shared by the hostile suite: one v1 and one v2 shape of every scenario. */
import type { ServerResponse } from 'node:http';
import { paymentRequiredV1, paymentRequiredV2, requirementV1, requirementV2, PAY_TO } from '../support/challenges.js';
import { send402body, send402v2 } from './hostileServer.js';

export { PAY_TO };
export type Version = 'v1' | 'v2';
export const VERSIONS: readonly Version[] = ['v1', 'v2'];

/** Field names that differ between the versions. */
export const AMOUNT: Record<Version, string> = { v1: 'maxAmountRequired', v2: 'amount' };
/** The network of the default requirement, as each version writes it. */
export const NETWORK: Record<Version, string> = { v1: 'base-sepolia', v2: 'eip155:84532' };

/** One requirement of `version` with overrides (use `amount` for either version). */
export function requirement(version: Version, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const { amount, ...rest } = overrides;
  const withAmount = amount === undefined ? rest : { ...rest, [AMOUNT[version]]: amount };
  return version === 'v1' ? requirementV1(withAmount) : requirementV2(withAmount);
}

/** A whole challenge of `version` (v2 extras such as `extensions` go in `top`). */
export function challenge(version: Version, accepts: unknown[] = [requirement(version)], top: Record<string, unknown> = {}): Record<string, unknown> {
  return version === 'v1' ? { ...paymentRequiredV1(accepts), ...top } : paymentRequiredV2(accepts, top);
}

/** Sends a 402 the way each version does: v2 in the `PAYMENT-REQUIRED` header, v1 as the JSON body. */
export function send402(version: Version, res: ServerResponse, value: unknown): void {
  if (version === 'v2') send402v2(res, value);
  else send402body(res, value);
}

/** Standard base64 of raw text (for challenges whose JSON text itself is the attack). */
export function b64(text: string): string {
  return Buffer.from(text, 'utf8').toString('base64');
}

/** Sends raw challenge JSON text the way each version does. */
export function send402Text(version: Version, res: ServerResponse, text: string): void {
  if (version === 'v2') {
    res.writeHead(402, { 'content-type': 'application/json', 'payment-required': b64(text) });
    res.end('{}');
  } else send402body(res, text);
}

/** JSON text of `value` with the placeholder string `"@RAW@"` replaced by `raw` (for 1e309 and friends). */
export function jsonWithRaw(value: unknown, raw: string): string {
  return JSON.stringify(value).replace('"@RAW@"', raw);
}

/** Measures the largest RSS growth while `run` runs (sampled every 5 ms). */
export async function rssGrowth(run: () => Promise<unknown>): Promise<number> {
  const before = process.memoryUsage().rss;
  let peak = before;
  const timer = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().rss);
  }, 5);
  try {
    await run();
  } finally {
    clearInterval(timer);
  }
  return Math.max(peak, process.memoryUsage().rss) - before;
}

export const MB = 1024 * 1024;
