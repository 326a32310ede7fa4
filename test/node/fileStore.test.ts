/** fileStore specifics beyond the SpendStore contract: files, durability, bounded hot path, recovery. */
import { copyFile, readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import * as nodeEntry from '../../src/node/index.js';
import { canonicalJson } from '../../src/node/canonicalJson.js';
import { keyClaimCheck } from '../../src/budget/keyClaimCheck.js';
import { useMswServer } from '../support/msw.js';
import { expectNoPayment, expectPayment, fileStore, readLines, readState, reserveRequest, rewriteChain, seed, sha256, useTempDirs, writeLines, writeState } from '../support/fileLedger.js';

const server = useMswServer();
const tempDir = useTempDirs();
const DAILY = reserveRequest('x').checks[0]!;

describe('fileStore', () => {
  it('is exported from x402-autopay/node with its error class', () => {
    expect(typeof nodeEntry.fileStore).toBe('function');
    expect(typeof nodeEntry.FileLedgerError).toBe('function');
    expect(typeof nodeEntry.wrapFetch).toBe('function');
  });

  it('rejects a bad path or option at once with a TypeError naming it', () => {
    expect(() => fileStore('')).toThrow(/path must be a non-empty file path/);
    expect(() => fileStore(42 as unknown as string)).toThrow(TypeError);
    expect(() => fileStore('x.json', { lockTimeoutMs: -1 })).toThrow(/options.lockTimeoutMs/);
    expect(() => fileStore('x.json', { lockTimeoutMs: Number.NaN })).toThrow(/options.lockTimeoutMs/);
    expect(() => fileStore('x.json', { maxClockSkewMs: Infinity })).toThrow(/options.maxClockSkewMs/);
    expect(() => fileStore('x.json', { clock: 5 as unknown as () => number })).toThrow(/options.clock/);
  });

  it('creates its directory (0700) on first use and its files (0600) on the first write, and leaves no lock or temp file behind', async () => {
    const dir = join(await tempDir(), 'nested', 'ledgers');
    const path = join(dir, 'ledger.json');
    const store = fileStore(path);
    expect(await store.usage([DAILY])).toEqual([0n]);
    expect(await store.report()).toEqual([]);
    expect(await readdir(dir)).toEqual([]);
    await store.reserve(reserveRequest('pay_1'));
    if (process.platform !== 'win32') {
      expect((await stat(dir)).mode & 0o777).toBe(0o700);
      expect((await stat(path)).mode & 0o777).toBe(0o600);
      expect((await stat(`${path}.journal`)).mode & 0o777).toBe(0o600);
    }
    expect((await readdir(dir)).sort()).toEqual(['ledger.json', 'ledger.json.journal']);
  });

  it('keeps the budget across restarts: another store object (a new process) sees and releases what the first reserved', async () => {
    const path = join(await tempDir(), 'ledger.json');
    await fileStore(path).reserve(reserveRequest('pay_1', 400_000n));
    const restarted = fileStore(path);
    expect(await restarted.usage([DAILY])).toEqual([400_000n]);
    expect(await restarted.reserve(reserveRequest('pay_2', 700_000n))).toEqual({ ok: false, failed: 0, used: 400_000n });
    await restarted.release('pay_1');
    expect(await fileStore(path).usage([DAILY])).toEqual([0n]);
    expect((await fileStore(path).report()).map((r) => [r.id, r.status])).toEqual([['pay_1', 'released']]);
  });

  it('writes a journal of canonical JSON lines, each hashed and chained to the one before, and a state that links to its end', async () => {
    const path = join(await tempDir(), 'ledger.json');
    await seed(fileStore(path));
    const lines = await readLines(path);
    expect(lines.map((l) => JSON.parse(l).type)).toEqual(['reserve', 'reserve', 'settle', 'release', 'reserve', 'settle']);
    let prev = '0'.repeat(64);
    for (const [i, line] of lines.entries()) {
      const { hash, ...content } = JSON.parse(line);
      expect(canonicalJson({ ...content, hash })).toBe(line);
      expect(content.seq).toBe(i + 1);
      expect(content.prev).toBe(prev);
      expect(sha256(canonicalJson(content))).toBe(hash);
      prev = hash;
    }
    const state = await readState(path);
    const { checksum, ...content } = state;
    expect(sha256(canonicalJson(content))).toBe(checksum);
    expect(state.journal).toEqual({ bytes: (await readFile(`${path}.journal`)).length, records: 6, last: prev, tail: lines.at(-1)!.length + 1 });
    expect(JSON.parse(lines.at(-1)!).state).toBe(sha256(canonicalJson(state.state)));
    // pay_c's outcome is unknown: it stays counted, and releasable by a reconciliation, until the pending TTL.
    expect(Object.keys(state.state.pending)).toEqual(['pay_c']);
    expect(lines.map((l) => JSON.parse(l)).filter((r) => r.type === 'settle').map((r) => [r.id, r.status, r.hold])).toEqual([
      ['pay_a', 'settled', undefined],
      ['pay_c', 'unknown', true],
    ]);
  });

  it('reads a ledger written before reconciliation (a settle without hold ended the reservation): verified, and its unknown payment stays counted', async () => {
    const path = join(await tempDir(), 'ledger.json');
    await seed(fileStore(path));
    // What the previous version wrote: pay_c's "unknown" settle dropped its undo information.
    const state = await readState(path);
    delete state.state.pending.pay_c;
    await writeState(path, state, true);
    const stateHash = sha256(canonicalJson(state.state));
    await rewriteChain(path, (records) => records.map((r) => (r.type === 'settle' && r.id === 'pay_c' ? { ...r, hold: undefined, state: stateHash } : r)));
    expect((await readLines(path)).some((line) => line.includes('"hold"'))).toBe(false);

    const store = fileStore(path);
    await expect(store.verify()).resolves.toMatchObject({ records: 6 });
    await store.release('pay_c');
    expect(await store.usage([DAILY])).toEqual([40_000n]); // pay_a (settled) and pay_c: the release found nothing to undo
    expect((await store.report()).map((r) => [r.id, r.status])).toEqual([['pay_a', 'settled'], ['pay_b', 'released'], ['pay_c', 'unknown']]);
    // The same edit on a ledger whose settle says hold would not add up: held records are part of the chain.
    const held = join(await tempDir(), 'ledger.json');
    await seed(fileStore(held));
    await rewriteChain(held, (records) => records.map((r) => (r.type === 'settle' ? { ...r, hold: undefined } : r)));
    await expect(fileStore(held).verify()).rejects.toThrow(/does not match what the journal adds up to/);
  });

  it('keeps the state file bounded while the journal grows with history', async () => {
    const path = join(await tempDir(), 'ledger.json');
    const clock = { now: Date.UTC(2025, 0, 1) };
    const store = fileStore(path, { clock: () => clock.now, maxClockSkewMs: 400 * 86_400_000 });
    const sizes: number[] = [];
    for (let round = 0; round < 3; round++) {
      await Promise.all(
        Array.from({ length: 100 }, async (_, i) => {
          const id = `pay_${round}_${i}`;
          await store.reserve(reserveRequest(id, 1n, 10n ** 12n));
          await store.settle(id, 'settled', `0x${'cd'.repeat(32)}`);
        }),
      );
      clock.now += 3 * 86_400_000;
      sizes.push((await stat(path)).size);
    }
    expect(await readLines(path)).toHaveLength(600);
    expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThan(200);
    expect(sizes[2]!).toBeLessThan(2_000);
  });

  it('key claims: another store object (a process) sees a claim; claims older than a day and the grace leave the state file; the journal still replays to it', async () => {
    const path = join(await tempDir(), 'ledger.json');
    const clock = { now: Date.UTC(2025, 0, 1) };
    const store = fileStore(path, { clock: () => clock.now, maxClockSkewMs: 400 * 86_400_000 });
    const claimed = (n: number) => ({ ...reserveRequest(`pay_${n}`), checks: [keyClaimCheck(n.toString(16).padStart(32, '0')), DAILY] });
    for (let hour = 0; hour < 40; hour++) {
      expect((await store.reserve(claimed(hour))).ok).toBe(true);
      await store.settle(`pay_${hour}`, 'settled');
      clock.now += 3_600_000;
    }
    const other = fileStore(path, { clock: () => clock.now, maxClockSkewMs: 400 * 86_400_000 });
    expect(await other.reserve({ ...claimed(39), id: 'pay_again' })).toEqual({ ok: false, failed: 0, used: 1n });
    const claims = Object.keys((await readState(path)).state.counters).filter((key) => key.startsWith('key:'));
    expect(claims.length).toBeGreaterThanOrEqual(26);
    expect(claims.length).toBeLessThanOrEqual(28);
    expect(claims).not.toContain(keyClaimCheck('0'.repeat(32)).key);
    await expect(fileStore(path, { clock: () => clock.now, maxClockSkewMs: 400 * 86_400_000 }).verify()).resolves.toMatchObject({ records: 80 });
  });

  it('a crash between the journal append and the state write is completed by the next operation, counted once', async () => {
    const dir = await tempDir();
    const path = join(dir, 'ledger.json');
    const store = fileStore(path);
    await seed(store);
    await copyFile(path, join(dir, 'before.json'));
    await store.reserve(reserveRequest('pay_crash', 50_000n));
    const expected = await readState(path);
    // As if killed after the journal fsync, before the rename: the old state, the new journal.
    await copyFile(join(dir, 'before.json'), path);
    const reopened = fileStore(path);
    expect(await reopened.usage([DAILY])).toEqual([10_000n + 30_000n + 50_000n]);
    expect((await readState(path)).state).toEqual(expected.state);
    expect((await readState(path)).journal).toEqual(expected.journal);
    expect(await readLines(path)).toHaveLength(7);
    await reopened.release('pay_crash');
    expect(await reopened.usage([DAILY])).toEqual([40_000n]);
    expect((await reopened.report()).map((r) => r.id)).toEqual(['pay_a', 'pay_b', 'pay_c', 'pay_crash']);
  });

  it('check-and-reserve reads only the journal tail: an edit deep in the history is found by report() and by the next process, not by each payment', async () => {
    const path = join(await tempDir(), 'ledger.json');
    const store = fileStore(path);
    await seed(store);
    const lines = await readLines(path);
    lines[0] = lines[0]!.replace('"api.example.com"', '"api.exbmple.com"');
    await writeLines(path, lines);
    // The running process keeps its constant-time check (the tail is intact)…
    await expectPayment(server, store);
    // …its report reads the whole journal and refuses…
    await expect(store.report()).rejects.toThrow(/record 1 .*its hash does not match/);
    // …and so does any process that opens the ledger.
    const error = await expectNoPayment(server, fileStore(path));
    expect(error.message).toMatch(/record 1 .*its hash does not match/);
  });

  it('a record that cannot be written (an over-long id) fails that operation only; the ledger stays sound', async () => {
    const path = join(await tempDir(), 'ledger.json');
    const store = fileStore(path);
    const [bad, good] = await Promise.allSettled([store.reserve(reserveRequest('x'.repeat(2_000))), store.reserve(reserveRequest('pay_ok'))]);
    expect(bad.status).toBe('rejected');
    expect(String((bad as PromiseRejectedResult).reason)).toMatch(/cannot record the reserve/);
    expect(good).toEqual({ status: 'fulfilled', value: { ok: true, time: expect.any(Number) } });
    expect(await fileStore(path).usage([DAILY])).toEqual([10_000n]);
    expect((await fileStore(path).report()).map((r) => r.id)).toEqual(['pay_ok']);
  });

  it('serialises concurrent operations of one process: 200 reservations at once under a limit of 150 accept exactly 150', async () => {
    const path = join(await tempDir(), 'ledger.json');
    const store = fileStore(path);
    const results = await Promise.all(Array.from({ length: 200 }, (_, i) => store.reserve(reserveRequest(`pay_${i}`, 1n, 150n))));
    expect(results.filter((r) => r.ok)).toHaveLength(150);
    for (const r of results) if (!r.ok) expect(r).toEqual({ ok: false, failed: 0, used: 150n });
    expect(await readLines(path)).toHaveLength(150);
  });

  it('records whole milliseconds when the clock returns a fraction', async () => {
    const path = join(await tempDir(), 'ledger.json');
    const store = fileStore(path, { clock: () => 1_750_000_000_000.75 });
    expect(await store.reserve(reserveRequest('pay_frac'))).toEqual({ ok: true, time: 1_750_000_000_000 });
    expect((await fileStore(path, { clock: () => 1_750_000_000_001 }).report())[0]!.time).toBe(1_750_000_000_000);
  });

  it('a payment through wrapFetch is recorded in the file: reserved, then settled with its transaction', async () => {
    const path = join(await tempDir(), 'ledger.json');
    await expectPayment(server, fileStore(path));
    const report = await fileStore(path).report();
    expect(report).toHaveLength(1);
    expect(report[0]).toMatchObject({ host: 'api.example.com', amount: '10000', network: 'eip155:84532' });
    expect(['settled', 'unknown']).toContain(report[0]!.status);
  });
});
