/**
 * Writes a `fileStore` ledger holding a long history of past payments, directly in the store's
 * format, far faster than paying through the store would (whose every operation takes the lock,
 * rewrites the state and fsyncs): the journal records and the state file are exactly what
 * `fileStore` itself would have written for the same reservations and settlements at the same
 * times. The state is changed with the store's own functions (`replayEvent`); the record and
 * state hashes are the store's own (`canonicalJson`, SHA-256), computed from JSON text assembled
 * for this fixed record shape, and that text is checked against `canonicalJson` on a sample
 * of records, so any drift in the format fails here instead of measuring a ledger the store would
 * not write. The store verifies the journal's last 256 KiB again on its first operation (and
 * all of it in `report()` and `verify()`).
 *
 * Part of the benchmark bundle (see `autopay.ts`): it runs at the speed of the built library.
 */
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, open, rm, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { once } from 'node:events';
import { emptyLedgerState, type LedgerState } from '../../src/budget/ledgerState.js';
import { bucketIndex } from '../../src/budget/windows.js';
import type { CounterCheck, ReserveRequest } from '../../src/budget/store.js';
import { canonicalJson } from '../../src/node/canonicalJson.js';
import { GENESIS_HASH, STATE_FORMAT, ledgerStateHash, recordHash, stateChecksum, type JournalLink } from '../../src/node/ledgerFileSchema.js';
import { ledgerFiles } from '../../src/node/ledgerFiles.js';
import { replayEvent, reserveEventOf } from '../../src/node/replayEvent.js';

/** What to write: `payments` reservations, each settled, `spacingMs` apart, the last at `lastMs`. */
export interface FileLedgerHistory {
  readonly path: string;
  readonly payments: number;
  readonly spacingMs: number;
  readonly lastMs: number;
  readonly checks: readonly CounterCheck[];
  readonly record: ReserveRequest['record'];
}

const sha256 = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex');
const json = JSON.stringify;

/** Writes the ledger's state file and journal (replacing any at `path`). */
export async function writeFileLedger(history: FileLedgerHistory): Promise<void> {
  const files = ledgerFiles(history.path);
  await mkdir(dirname(files.state), { recursive: true, mode: 0o700 });
  await Promise.all([files.state, files.journal, files.lock, files.temp].map((f) => rm(f, { force: true })));

  const state = emptyLedgerState();
  let link: JournalLink = { bytes: 0, records: 0, last: GENESIS_HASH, tail: 0 };
  const recordJson = canonicalJson(history.record);
  const journal = createWriteStream(files.journal, { mode: 0o600 });
  let chunk: string[] = [];
  let chunkBytes = 0;
  const sampleEvery = Math.max(1, Math.floor(history.payments / 20));
  const first = history.lastMs - (history.payments - 1) * history.spacingMs;
  if (first < 0) throw new RangeError(`fileLedgerWriter: ${history.payments} payments ${history.spacingMs} ms apart start before 1970`);

  const append = (content: Record<string, unknown>, text: (hash?: string) => string, check: boolean) => {
    const hash = sha256(text());
    const line = text(hash);
    if (check) {
      // The assembled text must be the store's canonical JSON, and the hash the store's hash.
      if (line !== canonicalJson({ ...content, hash }) || hash !== recordHash(content as never)) {
        throw new Error('fileLedgerWriter: the journal format changed; update bench/support/fileLedgerWriter.ts');
      }
    }
    const bytes = Buffer.byteLength(line, 'utf8') + 1;
    link = { bytes: link.bytes + bytes, records: link.records + 1, last: hash, tail: bytes };
    chunk.push(line, '\n');
    chunkBytes += bytes;
  };

  const countersText = countersWriter(new Map(history.checks.map((c) => [c.key, c.window])));
  const checksJson = canonicalJson(reserveEventOf({ id: 'x', checks: history.checks, record: history.record }).checks);
  for (let i = 0; i < history.payments; i++) {
    const time = first + i * history.spacingMs;
    const id = `pay_${i.toString(16).padStart(24, '0')}`;
    const check = i % sampleEvery === 0 || i === history.payments - 1;

    const reserve = reserveEventOf({ id, checks: history.checks, record: history.record });
    applyOrThrow(state, reserve, time);
    // The settlement below changes only `pending`: the counters' text serves both records.
    const counters = countersText(state, time);
    let stateHash = stateHashOf(state, counters, check);
    let seq = link.records + 1;
    let prev = link.last;
    append(
      { ...reserve, seq, time, prev, state: stateHash },
      (hash) =>
        `{"checks":${checksJson},${hash === undefined ? '' : `"hash":"${hash}",`}"id":${json(id)},"prev":"${prev}","record":${recordJson},"seq":${seq},"state":"${stateHash}","time":${time},"type":"reserve"}`,
      check,
    );

    const transaction = `0x${i.toString(16).padStart(64, '0')}`;
    const settle = { type: 'settle' as const, id, status: 'settled' as const, transaction };
    applyOrThrow(state, settle, time);
    stateHash = stateHashOf(state, counters, check);
    seq = link.records + 1;
    prev = link.last;
    append(
      { ...settle, seq, time, prev, state: stateHash },
      (hash) =>
        `{${hash === undefined ? '' : `"hash":"${hash}",`}"id":${json(id)},"prev":"${prev}","seq":${seq},"state":"${stateHash}","status":"settled","time":${time},"transaction":"${transaction}","type":"settle"}`,
      check,
    );

    if (chunkBytes > 1 << 20) {
      if (!journal.write(chunk.join(''))) await once(journal, 'drain');
      chunk = [];
      chunkBytes = 0;
    }
  }
  journal.end(chunk.join(''));
  await once(journal, 'finish');

  const content = { format: STATE_FORMAT, version: 1 as const, writtenAt: history.lastMs, state, journal: link };
  await writeFile(files.state, `${canonicalJson({ ...content, checksum: stateChecksum(content) })}\n`, { mode: 0o600 });
  // Durable before anything is timed, as the store's own writes would have been: otherwise the
  // kernel writes the journal back (a gigabyte for a million payments) while the benchmark runs,
  // and the store's first fsync of the journal flushes all of it.
  for (const file of [files.journal, files.state]) {
    const handle = await open(file, 'r+');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  }
}

function applyOrThrow(state: LedgerState, event: Parameters<typeof replayEvent>[1], time: number): void {
  const why = replayEvent(state, event, time);
  if (why) throw new Error(`fileLedgerWriter: ${why}`);
}

/**
 * The counters' canonical text, kept up to date incrementally: the writer's clock only moves
 * forward, so a payment changes each counter's newest bucket and drops its oldest ones, and
 * nothing else. Each counter keeps its `"index":"amount"` members in order (bucket indices of
 * one counter have the same number of digits for decades, so numeric order is `canonicalJson`'s
 * string order); the sampled check against `ledgerStateHash` catches anything else.
 */
function countersWriter(windows: ReadonlyMap<string, CounterCheck['window']>): (state: LedgerState, time: number) => string {
  const members = new Map<string, { index: number; text: string }[]>();
  return (state, time) => {
    const keys = Object.keys(state.counters).sort();
    for (const key of members.keys()) if (!(key in state.counters)) members.delete(key);
    return keys
      .map((key) => {
        const buckets = state.counters[key]!;
        let list = members.get(key);
        if (!list) members.set(key, (list = Object.keys(buckets).map((b) => ({ index: Number(b), text: `${json(b)}:${json(buckets[b])}` }))));
        let drop = 0;
        while (drop < list.length && buckets[list[drop]!.index] === undefined) drop++;
        if (drop > 0) list.splice(0, drop);
        const window = windows.get(key);
        if (!window) throw new Error(`fileLedgerWriter: unexpected counter ${key}`);
        const newest = bucketIndex(window, Math.floor(time / 1000));
        const value = buckets[newest]!;
        const text = `"${newest}":${json(value)}`;
        if (list.at(-1)?.index === newest) list.at(-1)!.text = text;
        else list.push({ index: newest, text });
        return `${json(key)}:{${list.map((m) => m.text).join(',')}}`;
      })
      .join(',');
  };
}

/** `ledgerStateHash(state)`, from JSON text assembled for the state's fixed shape (checked against the store's when `check`). */
function stateHashOf(state: LedgerState, counters: string, check: boolean): string {
  const pending = Object.keys(state.pending)
    .sort()
    .map((id) => `${json(id)}:${canonicalJson(state.pending[id])}`)
    .join(',');
  const hash = sha256(`{"counters":{${counters}},"pending":{${pending}},"version":1}`);
  if (check && hash !== ledgerStateHash(state)) throw new Error('fileLedgerWriter: the state format changed; update bench/support/fileLedgerWriter.ts');
  return hash;
}
