/**
 * THREATS H6: a corrupt or tampered file ledger is detected and fails closed. Each pattern edits
 * the files of a real ledger on disk, then a paid call must pay nothing: BudgetUnavailableError,
 * zero signatures, no payment header at the server. Every pattern is checked with a store object
 * opened after the edit (a process starting: it verifies the journal's last 256 KiB, so all of
 * these short journals, replayed against the state); the patterns the constant-size check of
 * every operation sees are also checked on the store object that wrote the ledger (a
 * long-running process). Edits deeper than 256 KiB in a long journal are found by `report()` and
 * `verify()`, not by payments: see `fileStore.history.test.ts`.
 */
import { appendFile, copyFile, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { canonicalJson } from '../../src/node/canonicalJson.js';
import { useMswServer } from '../support/msw.js';
import {
  expectNoPayment,
  expectPayment,
  fileStore,
  readLines,
  readState,
  rehash,
  rewriteChain,
  reserveRequest,
  seed,
  sha256,
  useTempDirs,
  writeLines,
  writeState,
} from '../support/fileLedger.js';

const server = useMswServer();
const tempDir = useTempDirs();

interface Pattern {
  name: string;
  /** Edits the ledger whose state file is `path`. */
  edit: (path: string) => Promise<void>;
  /** What the error says. */
  expected: RegExp;
  /** Whether the store object that wrote the ledger sees it too (constant-size check). */
  live: boolean;
}

const patterns: Pattern[] = [
  {
    name: 'truncated state file',
    edit: async (path) => truncate(path, Math.floor((await readFile(path)).length / 2)),
    expected: /state file: it is not valid JSON/,
    live: true,
  },
  { name: 'empty state file', edit: (path) => truncate(path, 0), expected: /state file: it is not valid JSON/, live: true },
  { name: 'state file is not JSON', edit: (path) => writeFile(path, 'spent: 0\n'), expected: /state file: it is not valid JSON/, live: true },
  {
    name: 'an amount edited in the state (checksum no longer matches)',
    edit: async (path) => {
      const state = await readState(path);
      const buckets = state.state.counters['global|USD|rolling:86400'];
      for (const bucket of Object.keys(buckets)) buckets[bucket] = '1';
      await writeState(path, state, false);
    },
    expected: /checksum does not match/,
    live: true,
  },
  {
    name: 'the state edited AND re-checksummed, journal link left as it was',
    edit: async (path) => {
      const state = await readState(path);
      const buckets = state.state.counters['global|USD|rolling:86400'];
      for (const bucket of Object.keys(buckets)) buckets[bucket] = '1';
      await writeState(path, state, true);
    },
    expected: /does not match the state recorded by the journal's last record.*the state was edited/,
    live: true,
  },
  {
    name: 'the state re-checksummed with a pending reservation added (a release to come)',
    edit: async (path) => {
      const state = await readState(path);
      state.state.pending.pay_x = { time: state.writtenAt, adds: [{ key: 'global|USD|rolling:86400', bucket: 1, amount: '1' }] };
      await writeState(path, state, true);
    },
    expected: /the state was edited/,
    live: true,
  },
  {
    name: 'the state pretty-printed (same content, valid checksum, not the canonical form)',
    edit: async (path) => writeFile(path, `${JSON.stringify(await readState(path), null, 2)}\n`),
    expected: /not in the canonical form/,
    live: true,
  },
  {
    name: 'a "__proto__" key in the state',
    edit: async (path) => writeFile(path, (await readFile(path, 'utf8')).replace('"pending":{', '"pending":{"__proto__":{"adds":[],"time":1},')),
    expected: /__proto__/,
    live: true,
  },
  {
    name: 'the state link claims a longer journal (re-checksummed)',
    edit: async (path) => {
      const state = await readState(path);
      state.journal.bytes += 10;
      await writeState(path, state, true);
    },
    expected: /journal is shorter than the state file says/,
    live: true,
  },
  {
    name: 'journal truncated at a line boundary (last record removed)',
    edit: async (path) => writeLines(path, (await readLines(path)).slice(0, -1)),
    expected: /journal is shorter than the state file says/,
    live: true,
  },
  {
    name: 'journal cut in the middle of its last line',
    edit: async (path) => truncate(`${path}.journal`, (await readFile(`${path}.journal`)).length - 17),
    expected: /journal is shorter than the state file says/,
    live: true,
  },
  {
    name: 'journal cut in the middle of an old line, and the state link shortened to match (re-checksummed)',
    edit: async (path) => {
      const lines = await readLines(path);
      const cut = lines.slice(0, 2).join('\n').length + 1 + 40;
      await truncate(`${path}.journal`, cut);
      const state = await readState(path);
      state.journal.bytes = cut;
      await writeState(path, state, true);
    },
    expected: /does not end with a whole record|journal's last record/,
    live: true,
  },
  {
    name: 'an old journal record edited (amount lowered), its hash left',
    edit: async (path) => {
      const lines = await readLines(path);
      lines[1] = lines[1]!.replace('"amount":"20000"', '"amount":"10000"');
      await writeLines(path, lines);
    },
    expected: /record 2 \(at byte \d+\): its hash does not match/,
    live: false,
  },
  {
    name: 'an old journal record edited and re-hashed (the chain breaks after it)',
    edit: async (path) => {
      const lines = await readLines(path);
      const record = JSON.parse(lines[1]!);
      record.checks[0].amount = '10001';
      lines[1] = canonicalJson(rehash(record));
      await writeLines(path, lines);
    },
    expected: /record 3 .* does not chain/,
    live: false,
  },
  {
    name: 'journal lines reordered',
    edit: async (path) => {
      const lines = await readLines(path);
      [lines[1], lines[2]] = [lines[2]!, lines[1]!];
      await writeLines(path, lines);
    },
    expected: /record 2 .* does not chain/,
    live: false,
  },
  {
    name: 'a journal line deleted',
    edit: async (path) => writeLines(path, (await readLines(path)).filter((_, i) => i !== 2)),
    expected: /journal is shorter than the state file says/,
    live: true,
  },
  {
    name: 'a journal line deleted, the chain re-hashed and the state link fixed (state left)',
    edit: async (path) => rewriteChain(path, (records) => records.filter((r) => !(r.type === 'settle' && r.id === 'pay_a'))),
    expected: /does not match what the journal adds up to/,
    live: false,
  },
  {
    name: 'a broken per-record hash',
    edit: async (path) => {
      const lines = await readLines(path);
      lines[2] = lines[2]!.replace(/"hash":"(.)/, (_, c: string) => `"hash":"${c === 'a' ? 'b' : 'a'}`);
      await writeLines(path, lines);
    },
    expected: /record 3 .*its hash does not match/,
    live: false,
  },
  {
    name: 'a journal line replaced by invalid JSON of the same length',
    edit: async (path) => {
      const lines = await readLines(path);
      lines[1] = '{'.padEnd(lines[1]!.length, 'x');
      await writeLines(path, lines);
    },
    expected: /record 2 .*not valid JSON/,
    live: false,
  },
  {
    name: 'a journal line that is not UTF-8',
    edit: async (path) => {
      const bytes = await readFile(`${path}.journal`);
      bytes[5] = 0xff;
      await writeFile(`${path}.journal`, bytes);
    },
    expected: /record 1 .*not valid UTF-8/,
    live: false,
  },
  {
    name: 'the last journal record edited (status changed)',
    edit: async (path) => {
      const lines = await readLines(path);
      lines[lines.length - 1] = lines.at(-1)!.replace('"status":"unknown"', '"status":"settled"');
      await writeLines(path, lines);
    },
    expected: /journal is shorter|last record/,
    live: true,
  },
  {
    name: 'journal appended by a foreign writer (a plausible record that does not chain)',
    edit: async (path) => {
      const last = JSON.parse((await readLines(path)).at(-1)!);
      const forged = rehash({ ...last, seq: last.seq + 1, type: 'release', id: 'pay_c', prev: sha256('someone else'), status: undefined, hold: undefined });
      await appendFile(`${path}.journal`, `${canonicalJson(forged)}\n`);
    },
    expected: /not an interrupted commit of this ledger.*does not chain/,
    live: true,
  },
  {
    name: 'journal appended by a foreign writer (a chained release that does not match any pending reservation)',
    edit: async (path) => {
      const last = JSON.parse((await readLines(path)).at(-1)!);
      const { status: _, hold: __, ...rest } = last;
      const forged = rehash({ ...rest, seq: last.seq + 1, type: 'release', id: 'pay_a', prev: last.hash });
      await appendFile(`${path}.journal`, `${canonicalJson(forged)}\n`);
    },
    expected: /not an interrupted commit of this ledger.*release of pay_a, which is not pending/,
    live: true,
  },
  {
    name: 'journal appended with a partial line',
    edit: (path) => appendFile(`${path}.journal`, '{"hash":"00'),
    expected: /last line is incomplete/,
    live: true,
  },
  {
    name: 'state file deleted, journal kept',
    edit: (path) => rm(path),
    expected: /state file is missing while the journal .* exists/,
    live: true,
  },
  {
    name: 'journal deleted, state kept',
    edit: (path) => rm(`${path}.journal`),
    expected: /journal .* is missing/,
    live: true,
  },
];

describe('a corrupt or tampered file ledger pays nothing', () => {
  it(`covers at least 12 patterns (${patterns.length})`, () => {
    expect(patterns.length).toBeGreaterThanOrEqual(12);
  });

  for (const pattern of patterns) {
    it(`${pattern.name}: detected by a process opening the ledger`, async () => {
      const path = join(await tempDir(), 'ledger.json');
      await seed(fileStore(path));
      await pattern.edit(path);
      const error = await expectNoPayment(server, fileStore(path));
      expect(error.problem).toBe('corrupt');
      expect(error.message).toMatch(pattern.expected);
      expect(error.message).toContain('move them aside');
      // A second try fails the same way: never repaired silently.
      await expectNoPayment(server, fileStore(path));
    });

    if (pattern.live) {
      it(`${pattern.name}: detected by the process already using it`, async () => {
        const path = join(await tempDir(), 'ledger.json');
        const store = fileStore(path);
        await seed(store);
        await pattern.edit(path);
        const error = await expectNoPayment(server, store);
        expect(error.message).toMatch(pattern.expected);
      });
    }
  }

  it('future timestamps: a ledger written by a clock two days ahead is refused', async () => {
    const path = join(await tempDir(), 'ledger.json');
    await seed(fileStore(path, { clock: () => Date.now() + 2 * 86_400_000 }));
    const error = await expectNoPayment(server, fileStore(path));
    expect(error.message).toMatch(/ahead of this process's clock/);
    // Within the allowed skew it is read (future buckets count: nothing is forgotten early).
    await expectPayment(server, fileStore(path, { maxClockSkewMs: 3 * 86_400_000 }));
  });

  it('future timestamps: a journal record dated ahead (re-hashed, chain and state link fixed) is refused on opening', async () => {
    const path = join(await tempDir(), 'ledger.json');
    await seed(fileStore(path));
    const lines = (await readLines(path)).map((l) => JSON.parse(l));
    let prev = '0'.repeat(64);
    const rewritten = lines.map((record, i) => {
      const next = rehash({ ...record, prev, time: i === 1 ? Date.now() + 30 * 86_400_000 : record.time });
      prev = next.hash;
      return canonicalJson(next);
    });
    await writeLines(path, rewritten);
    const state = await readState(path);
    state.journal.last = prev;
    await writeState(path, state, true);
    const error = await expectNoPayment(server, fileStore(path));
    expect(error.message).toMatch(/record 2 .* ahead of this process's clock/);
  });

  it('a ledger rolled back to an older copy of both files is refused by the process that saw it newer', async () => {
    const dir = await tempDir();
    const path = join(dir, 'ledger.json');
    const store = fileStore(path);
    await seed(store);
    await copyFile(path, join(dir, 'old.json'));
    await copyFile(`${path}.journal`, join(dir, 'old.journal'));
    await store.reserve(reserveRequest('pay_d', 500_000n));
    await copyFile(join(dir, 'old.json'), path);
    await copyFile(join(dir, 'old.journal'), `${path}.journal`);
    const error = await expectNoPayment(server, store);
    expect(error.message).toMatch(/the ledger went back from 7 to 6 records/);
  });

  it('the ledger files removed under a running process are refused by it (a new process starts fresh)', async () => {
    const path = join(await tempDir(), 'ledger.json');
    const store = fileStore(path);
    await seed(store);
    await rm(path);
    await rm(`${path}.journal`);
    const error = await expectNoPayment(server, store);
    expect(error.message).toMatch(/the ledger files disappeared/);
    await expectPayment(server, fileStore(path));
  });

  it('after an operator moves the corrupt files aside, a new store pays again', async () => {
    const dir = await tempDir();
    const path = join(dir, 'ledger.json');
    await seed(fileStore(path));
    await writeFile(path, 'garbage');
    await expectNoPayment(server, fileStore(path));
    await copyFile(path, join(dir, 'ledger.json.corrupt'));
    await rm(path);
    await copyFile(`${path}.journal`, join(dir, 'ledger.json.journal.corrupt'));
    await rm(`${path}.journal`);
    await expectPayment(server, fileStore(path));
  });
});
