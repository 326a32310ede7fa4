import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startLocalStack, type LocalStack } from '../../examples/local-stack/index.js';
import { fileStore } from '../../src/node/index.js';
import { expectExactBurst } from '../support/burst.js';

let stack: LocalStack;
let dir: string;
beforeAll(async () => {
  stack = await startLocalStack();
  dir = await mkdtemp(join(tmpdir(), 'x402-burst-file-'));
});
afterAll(async () => {
  await stack?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

it('file store, 4 processes: 1,000 concurrent paid calls under a daily cap of 100× the price pay exactly 100', async () => {
  const path = join(dir, 'ledger.json');
  const totals = await expectExactBurst({ stack, processes: 4, store: { kind: 'file', path }, label: 'file, 4 processes' });

  // The shared ledger agrees: 100 reservations, all settled with their transactions, and the
  // whole journal verifies when a new process-like store object reads it.
  const report = await fileStore(path).report();
  expect(report).toHaveLength(100);
  expect(report.every((r) => r.status === 'settled')).toBe(true);
  expect(new Set(report.map((r) => r.transaction))).toEqual(new Set(totals.transactions));
  const journal = await readFile(`${path}.journal`, 'utf8');
  // Per payment: the reservation, the write-ahead before sending (unknown) and the outcome.
  expect(journal.trim().split('\n')).toHaveLength(300);
}, 120_000);
