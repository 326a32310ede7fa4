/**
 * What the file store verifies when, on a ledger with a long history, and its cache of the
 * verified ledger (see the TSDoc of `fileStore`):
 *
 * - every operation: the state file (checksum, canonical form, schema, dates) and the journal's
 *   length and last record, in constant work (bytes identical to those this store object last
 *   verified or wrote are compared, not parsed again);
 * - the first operation of a store object: also the journal's last `OPENING_CHECK_BYTES` (all of
 *   it, replayed against the state, while it is that short);
 * - `report()` and `verify()`: the whole journal, replayed against the state.
 *
 * The corruption suite (`fileStore.corruption.test.ts`) edits short ledgers, whose journal the
 * first operation reads whole; here the journal is longer than the part the first operation reads.
 */
import { copyFile, mkdtemp, readFile, rename, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { memoryStore, type SpendStore } from '../../src/index.js';

import { OPENING_CHECK_BYTES } from '../../src/node/fileStore.js';
import { useMswServer } from '../support/msw.js';
import {
  expectNoPayment,
  expectPayment,
  fileStore,
  readLines,
  readState,
  rewriteChain,
  reserveRequest,
  useTempDirs,
  writeLines,
  writeState,
} from '../support/fileLedger.js';

const server = useMswServer();
const tempDir = useTempDirs();
const DAILY = reserveRequest('x').checks[0]!;
const RECORD = reserveRequest('x').record;

/** Pays `payments` times through the store (reserved and settled), in one burst: few locks and writes. */
async function grow(store: SpendStore, payments: number): Promise<void> {
  await Promise.all(
    Array.from({ length: payments }, async (_, i) => {
      const id = `pay_${String(i).padStart(5, '0')}`;
      await store.reserve(reserveRequest(id, 1n, 10n ** 12n));
      await store.settle(id, 'settled', `0x${'cd'.repeat(32)}`);
    }),
  );
}

const PAYMENTS = 700;
let template: Promise<string> | undefined;
let templateDir: string | undefined;
afterAll(async () => {
  if (templateDir) await rm(templateDir, { recursive: true, force: true });
});

/** A ledger whose journal is over twice what the first operation reads (written once, copied for each test). */
async function longLedger(): Promise<{ path: string; records: number }> {
  template ??= (async () => {
    templateDir = await mkdtemp(join(tmpdir(), 'x402-file-history-'));
    const path = join(templateDir, 'template.json');
    await grow(fileStore(path), PAYMENTS);
    return path;
  })();
  const from = await template;
  const path = join(await tempDir(), 'ledger.json');
  await copyFile(from, path);
  await copyFile(`${from}.journal`, `${path}.journal`);
  expect((await stat(`${path}.journal`)).size).toBeGreaterThan(2 * OPENING_CHECK_BYTES);
  return { path, records: 2 * PAYMENTS };
}

/** Breaks the hash of the journal line at `index` (0-based). */
async function breakHash(path: string, index: number): Promise<void> {
  const lines = await readLines(path);
  lines[index] = lines[index]!.replace(/"hash":"(.)/, (_, c: string) => `"hash":"${c === 'a' ? 'b' : 'a'}`);
  await writeLines(path, lines);
}

describe('fileStore on a long history: what is verified when', () => {
  it('verify() reads the whole journal of a sound ledger and says how much it verified', async () => {
    const { path, records } = await longLedger();
    const store = fileStore(path);
    expect(await store.verify()).toEqual({ records, bytes: (await stat(`${path}.journal`)).size });
    await expectPayment(server, store);
    // The payment's reservation, its write-ahead before sending, and its outcome.
    expect((await fileStore(path).verify()).records).toBe(records + 3);
  });

  it('an old record with a broken hash, before the end the first operation reads: payments go on until report() finds it; then no process pays', async () => {
    const { path } = await longLedger();
    await breakHash(path, 1);
    // What the budget is enforced from (the state file, linked to the journal's last record) is intact.
    const store = fileStore(path);
    const other = fileStore(path);
    await expectPayment(server, store);
    await expectPayment(server, other);
    await expect(store.report()).rejects.toThrow(/record 2 \(at byte \d+\): its hash does not match/);
    // Found: quarantined for this store object, for the other process, and for any opened later.
    for (const s of [store, other, fileStore(path)]) await expectNoPayment(server, s);
    await expect(fileStore(path).verify()).rejects.toThrow(/quarantined it .*record 2 \(at byte \d+\): its hash does not match/);
    expect(JSON.parse(await readFile(`${path}.quarantine`, 'utf8')).reason).toMatch(/record 2/);
    // The operator's recovery: every file of the ledger moved aside; a fresh ledger pays.
    for (const suffix of ['', '.journal', '.quarantine']) await rename(`${path}${suffix}`, `${path}${suffix}.audit`);
    await expectPayment(server, fileStore(path));
  });

  it('verify() finding an old edit quarantines the ledger just as report() does', async () => {
    const { path } = await longLedger();
    await breakHash(path, 1);
    const store = fileStore(path);
    await expectPayment(server, store);
    await expect(store.verify()).rejects.toThrow(/record 2 \(at byte \d+\): its hash does not match/);
    await expectNoPayment(server, store);
    await expectNoPayment(server, fileStore(path));
  });

  it('an old record deleted, the whole chain re-hashed and the state link fixed: payments go on; verify() finds that the journal does not add up to the state', async () => {
    const { path } = await longLedger();
    await rewriteChain(path, (records) => records.filter((_, i) => i !== 1));
    await expectPayment(server, fileStore(path));
    await expect(fileStore(path).verify()).rejects.toThrow(/does not match what the journal adds up to/);
    await expect(fileStore(path).report()).rejects.toThrow(/does not match what the journal adds up to/);
  });

  it('an old record dated in the future (chain re-hashed): verify() refuses it', async () => {
    const { path } = await longLedger();
    await rewriteChain(path, (records) => records.map((r, i) => (i === 1 ? { ...r, time: Date.now() + 30 * 86_400_000 } : r)));
    await expectPayment(server, fileStore(path));
    await expect(fileStore(path).verify()).rejects.toThrow(/record 2 .* ahead of this process's clock/);
  });

  it('a record with a broken hash near the end of the journal: the first operation refuses to pay', async () => {
    const { path, records } = await longLedger();
    await breakHash(path, records - 3);
    const error = await expectNoPayment(server, fileStore(path));
    expect(error.problem).toBe('corrupt');
    expect(error.message).toMatch(/record at byte \d+|record \d+ \(at byte \d+\)/);
    expect(error.message).toMatch(/its hash does not match/);
    await expectNoPayment(server, fileStore(path));
  });

  it('two records swapped near the end of the journal: the first operation refuses to pay', async () => {
    const { path, records } = await longLedger();
    const lines = await readLines(path);
    [lines[records - 4], lines[records - 3]] = [lines[records - 3]!, lines[records - 4]!];
    await writeLines(path, lines);
    const error = await expectNoPayment(server, fileStore(path));
    expect(error.message).toMatch(/does not chain to the record before it/);
  });

  it('a record near the end dated in the future (chain re-hashed, state link fixed): the first operation refuses to pay', async () => {
    const { path, records } = await longLedger();
    await rewriteChain(path, (all) => all.map((r, i) => (i === records - 5 ? { ...r, time: Date.now() + 30 * 86_400_000 } : r)));
    const error = await expectNoPayment(server, fileStore(path));
    expect(error.message).toMatch(/ahead of this process's clock/);
  });

  it('the journal cut at an old record and the state link moved there (re-checksummed): refused at once', async () => {
    const { path } = await longLedger();
    const lines = await readLines(path);
    const kept = lines.slice(0, 100);
    await writeLines(path, kept);
    const state = await readState(path);
    const last = JSON.parse(kept.at(-1)!);
    state.journal = { bytes: Buffer.byteLength(kept.map((l) => `${l}\n`).join('')), records: 100, last: last.hash, tail: Buffer.byteLength(kept.at(-1)!) + 1 };
    await writeState(path, state, true);
    const error = await expectNoPayment(server, fileStore(path));
    expect(error.message).toMatch(/does not match the state recorded by the journal's last record/);
  });
});

describe('fileStore keeps the ledger it verified between operations, and still sees every change', () => {
  it('two store objects (two processes) writing in turn each see the other\'s writes', async () => {
    const path = join(await tempDir(), 'ledger.json');
    const a = fileStore(path);
    const b = fileStore(path);
    expect((await a.reserve(reserveRequest('pay_1', 400_000n))).ok).toBe(true);
    expect((await b.reserve(reserveRequest('pay_2', 400_000n))).ok).toBe(true);
    expect(await a.reserve(reserveRequest('pay_3', 400_000n))).toEqual({ ok: false, failed: 0, used: 800_000n });
    await b.release('pay_2');
    expect(await a.usage([DAILY])).toEqual([400_000n]);
    await a.release('pay_1');
    expect(await b.usage([DAILY])).toEqual([0n]);
    expect((await a.verify()).records).toBe(4);
    expect((await b.report()).map((r) => [r.id, r.status])).toEqual([
      ['pay_1', 'released'],
      ['pay_2', 'released'],
    ]);
  });

  it('a byte-identical copy of the files put in their place is the same ledger', async () => {
    const dir = await tempDir();
    const path = join(dir, 'ledger.json');
    const store = fileStore(path);
    await store.reserve(reserveRequest('pay_1', 400_000n));
    await copyFile(path, join(dir, 'copy.json'));
    await rename(join(dir, 'copy.json'), path);
    expect(await store.usage([DAILY])).toEqual([400_000n]);
    await store.reserve(reserveRequest('pay_2', 100_000n));
    expect((await fileStore(path).verify()).records).toBe(2);
  });

  it('an amount edited in the state without changing its size, and re-checksummed, is refused by the process already using it', async () => {
    const path = join(await tempDir(), 'ledger.json');
    const store = fileStore(path);
    await store.reserve(reserveRequest('pay_1', 400_000n));
    const before = await readFile(path);
    const state = await readState(path);
    const buckets = state.state.counters['global|USD|rolling:86400'];
    for (const bucket of Object.keys(buckets)) buckets[bucket] = '100000';
    await writeState(path, state, true);
    expect((await readFile(path)).length).toBe(before.length);
    const error = await expectNoPayment(server, store);
    expect(error.message).toMatch(/does not match the state recorded by the journal's last record/);
  });

  it('a refused reservation that read expired buckets records nothing and leaves the state as the journal replays it', async () => {
    const path = join(await tempDir(), 'ledger.json');
    const clock = { now: Date.UTC(2025, 0, 1) };
    const store = fileStore(path, { clock: () => clock.now });
    const hourly = { key: 'global|USD|rolling:3600', window: { kind: 'rolling', seconds: 3600 }, amount: 5n, limit: 10n } as const;
    await store.reserve({ id: 'pay_a', checks: [hourly], record: RECORD });
    // Past the window and the clock-jump grace: the next read of the counter drops its bucket.
    clock.now += 4 * 3_600_000;
    expect(await store.reserve({ id: 'pay_b', checks: [{ ...hourly, amount: 11n }], record: RECORD })).toEqual({ ok: false, failed: 0, used: 0n });
    expect(await store.usage([hourly])).toEqual([0n]);
    // A record that reads no counter: the state written with it still holds the bucket, as a replay of the journal does.
    await store.settle('pay_a', 'settled');
    expect(Object.keys((await readState(path)).state.counters[hourly.key])).toHaveLength(1);
    expect(await store.verify()).toEqual({ records: 2, bytes: expect.any(Number) });
    expect((await fileStore(path, { clock: () => clock.now }).verify()).records).toBe(2);
  });

  it('an operation that fails after changing the state (a record it cannot write) leaves it as the journal says', async () => {
    const path = join(await tempDir(), 'ledger.json');
    const clock = { now: Date.UTC(2025, 0, 1) };
    const store = fileStore(path, { clock: () => clock.now });
    await store.reserve(reserveRequest('pay_a', 10_000n));
    clock.now += 2 * 86_400_000;
    // Fits the budget (the expired bucket is dropped, the amount added), then cannot be recorded: too long a host.
    await expect(store.reserve({ ...reserveRequest('pay_b', 10_000n), record: { ...RECORD, host: 'x'.repeat(5_000) } })).rejects.toThrow(/cannot record the reserve/);
    await store.settle('pay_a', 'settled');
    expect(await store.usage([DAILY])).toEqual([0n]);
    expect((await store.verify()).records).toBe(2);
    expect((await fileStore(path, { clock: () => clock.now }).verify()).records).toBe(2);
  });

  it('random operations through two store objects on one ledger, the clock moving both ways, agree with a memory store, and the journal replays to the state', async () => {
    const path = join(await tempDir(), 'ledger.json');
    let seed = 12_345;
    const random = (n: number) => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      return seed % n;
    };
    const clock = { now: Date.UTC(2025, 0, 1) };
    const stores = [fileStore(path, { clock: () => clock.now }), fileStore(path, { clock: () => clock.now })];
    const memory = memoryStore({ clock: () => clock.now });
    const windows = [{ kind: 'rolling', seconds: 60 }, { kind: 'rolling', seconds: 3600 }, { kind: 'calendar', seconds: 86400 }, { kind: 'total' }] as const;
    const keyOf = (i: number, window: (typeof windows)[number]) => `k${i}|${window.kind}:${'seconds' in window ? window.seconds : 0}`;
    const pending: string[] = [];
    for (let i = 0; i < 600; i++) {
      clock.now += [0, 1_000, 7_000, 65_000, 3_000_000, 9_000_000][random(6)]! * (random(10) === 0 ? -1 : 1);
      const store = stores[random(2)]!;
      const op = random(10);
      if (op < 5) {
        const id = `pay_${i}`;
        const checks = [...new Set(Array.from({ length: 1 + random(3) }, (_, k) => k * 4 + random(4)))].map((n) => {
          const window = windows[n % 4]!;
          return { key: keyOf(n >> 2, window), window, amount: BigInt(1 + random(5)), limit: BigInt(5 + random(20)) };
        });
        const result = await store.reserve({ id, checks, record: RECORD });
        expect(result).toEqual(await memory.reserve({ id, checks, record: RECORD }));
        if (result.ok) pending.push(id);
      } else if (op < 7 && pending.length > 0) {
        const id = pending.splice(random(pending.length), 1)[0]!;
        await store.release(id);
        await memory.release(id);
      } else if (op < 9 && pending.length > 0) {
        const id = pending[random(pending.length)]!;
        await store.settle(id, 'settled');
        await memory.settle(id, 'settled');
      } else {
        const checks = windows.map((window) => ({ key: keyOf(0, window), window }));
        expect(await store.usage(checks)).toEqual(await memory.usage(checks));
      }
    }
    const { records } = await stores[0]!.verify();
    expect(records).toBeGreaterThan(300);
    expect((await fileStore(path, { clock: () => clock.now }).verify()).records).toBe(records);
  }, 60_000);
});
