/** Helpers of the fileStore tests: temp ledgers, seeding, raw file edits, and the no-payment check. */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { afterEach, expect } from 'vitest';
import { BudgetUnavailableError, isX402Error, wrapFetch, type SpendStore } from '../../src/index.js';
import { FileLedgerError, fileStore } from '../../src/node/index.js';
import { canonicalJson } from '../../src/node/canonicalJson.js';
import { challengeV2, paywall, type useMswServer } from './msw.js';
import { paymentRequiredV2 } from './challenges.js';
import { countingSigner } from './signers.js';
import { rejectionOf } from './secrets.js';

export const URL_ = 'https://api.example.com/premium-data';

/** A fresh temp directory per call, removed after the test. */
export function useTempDirs(): () => Promise<string> {
  const dirs: string[] = [];
  afterEach(async () => {
    for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
  });
  return async () => {
    const dir = await mkdtemp(join(tmpdir(), 'x402-file-'));
    dirs.push(dir);
    return dir;
  };
}

const DAILY = { kind: 'rolling', seconds: 86400 } as const;
const RECORD = { host: 'api.example.com', payee: '0x209693Bc6afc0C5328bA36FaF03C514EF312287C', amount: '10000', asset: '0x036CbD53842c5426634e7929541eC2318f3dCF7e', network: 'eip155:84532' };

/** A reserve request against the daily USD counter the budget uses. */
export function reserveRequest(id: string, amount = 10_000n, limit = 1_000_000n) {
  return { id, checks: [{ key: 'global|USD|rolling:86400', window: DAILY, amount, limit }], record: RECORD };
}

/**
 * Writes a realistic ledger through the store: 6 journal records (reserve a, reserve b,
 * settle a, release b, reserve c, settle c).
 */
export async function seed(store: SpendStore): Promise<void> {
  await store.reserve(reserveRequest('pay_a', 10_000n));
  await store.reserve(reserveRequest('pay_b', 20_000n));
  await store.settle('pay_a', 'settled', `0x${'ab'.repeat(32)}`);
  await store.release('pay_b');
  await store.reserve(reserveRequest('pay_c', 30_000n));
  await store.settle('pay_c', 'unknown');
}

export const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/** The state file, parsed. */
export async function readState(path: string): Promise<any> {
  return JSON.parse(await readFile(path, 'utf8'));
}

/** Writes a state file; with `rechecksum`, recomputes its checksum as a careful tamperer would. */
export async function writeState(path: string, state: any, rechecksum: boolean): Promise<void> {
  if (rechecksum) {
    const { checksum: _, ...content } = state;
    state = { ...content, checksum: sha256(canonicalJson(content)) };
  }
  await writeFile(path, `${canonicalJson(state)}\n`);
}

/** The journal lines, without their newlines. */
export async function readLines(path: string): Promise<string[]> {
  return (await readFile(`${path}.journal`, 'utf8')).split('\n').slice(0, -1);
}

export async function writeLines(path: string, lines: string[]): Promise<void> {
  await writeFile(`${path}.journal`, lines.map((l) => `${l}\n`).join(''));
}

/** A record with its hash recomputed. */
export function rehash(record: any): any {
  const { hash: _, ...content } = record;
  return { ...content, hash: sha256(canonicalJson(content)) };
}

/**
 * Asserts that a paid call through `store` pays nothing: BudgetUnavailableError (code
 * `budget_unavailable`, moneyMoved `no`), zero signatures, no payment header received.
 * Returns the store error (the cause).
 */
/** Rewrites the journal with `change` applied to each parsed record, re-hashing the chain, and fixes the state's link (a careful tamperer). */
export async function rewriteChain(path: string, change: (records: any[]) => any[]): Promise<void> {
  const records = change((await readLines(path)).map((l) => JSON.parse(l)));
  let prev = '0'.repeat(64);
  const lines = records.map((record, i) => {
    const next = rehash({ ...record, seq: i + 1, prev });
    prev = next.hash;
    return canonicalJson(next);
  });
  await writeLines(path, lines);
  const state = await readState(path);
  const text = lines.map((l) => `${l}\n`).join('');
  state.journal = { bytes: Buffer.byteLength(text), records: lines.length, last: prev, tail: Buffer.byteLength(lines.at(-1)!) + 1 };
  await writeState(path, state, true);
}

export async function expectNoPayment(server: ReturnType<typeof useMswServer>, store: SpendStore): Promise<FileLedgerError> {
  const p = paywall({ url: URL_, challenge: () => challengeV2(paymentRequiredV2()) });
  server.use(p.handler);
  const signer = countingSigner();
  const error = await rejectionOf(wrapFetch(fetch, signer, { store })(URL_));
  expect(error).toBeInstanceOf(BudgetUnavailableError);
  expect(isX402Error(error) && error.code).toBe('budget_unavailable');
  expect(error.moneyMoved).toBe('no');
  expect(signer.calls).toBe(0);
  expect(p.paid()).toHaveLength(0);
  expect(p.seen.every((s) => !('payment-signature' in s.headers) && !('x-payment' in s.headers))).toBe(true);
  expect(error.cause).toBeInstanceOf(FileLedgerError);
  return error.cause as FileLedgerError;
}

/** Asserts that a paid call through `store` pays once. */
export async function expectPayment(server: ReturnType<typeof useMswServer>, store: SpendStore): Promise<void> {
  const p = paywall({ url: URL_, challenge: () => challengeV2(paymentRequiredV2()) });
  server.use(p.handler);
  const signer = countingSigner();
  const response = await wrapFetch(fetch, signer, { store })(URL_);
  expect(response.status).toBe(200);
  expect(signer.calls).toBe(1);
  expect(p.paid()).toHaveLength(1);
}

export { fileStore };
