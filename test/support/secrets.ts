import { inspect } from 'node:util';
import { expect } from 'vitest';
import { TEST_KEY } from './challenges.js';
import { CANARY_KEY } from './signers.js';

const SECRETS = [CANARY_KEY, TEST_KEY].flatMap((k) => [k.toLowerCase(), k.slice(2).toLowerCase()]);

/** Every way an error is commonly shown: message, stack, JSON and a deep inspect. */
export function renderings(error: unknown): string[] {
  const e = error as { message?: unknown; stack?: unknown };
  return [String(e?.message), String(e?.stack), JSON.stringify(error) ?? '', inspect(error, { depth: 6 })].map((s) => s.toLowerCase());
}

/** Fails if a known private key appears anywhere in how the error renders. */
export function expectNoSecrets(error: unknown): void {
  for (const text of renderings(error)) {
    for (const secret of SECRETS) expect(text.includes(secret), 'a private key leaked into an error').toBe(false);
  }
}

/** Awaits a promise that must reject, checks the error holds no secret, and returns it. */
export async function rejectionOf(promise: Promise<unknown>): Promise<any> {
  let result: unknown;
  try {
    result = await promise;
  } catch (error) {
    expectNoSecrets(error);
    return error;
  }
  throw new Error(`expected a rejection, got ${String(result)}`);
}
