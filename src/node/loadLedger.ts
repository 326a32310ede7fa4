import { open, readFile, stat } from 'node:fs/promises';
import { emptyLedgerState, type LedgerState } from '../budget/ledgerState.js';
import { canonicalJson } from './canonicalJson.js';
import { corruptLedger } from './FileLedgerError.js';
import { GENESIS_HASH, ledgerStateHash, parseStateFile, type JournalLink, type JournalRecord } from './ledgerFileSchema.js';
import { MAX_LINE_BYTES, parseJournalLine } from './parseJournalLine.js';
import type { LedgerFiles } from './ledgerFiles.js';
import { replayEvent } from './replayEvent.js';

/** The ledger as read and verified under the lock. */
export interface LedgerSnapshot {
  /** Whether the state file exists (false: a fresh ledger, nothing written yet). */
  readonly exists: boolean;
  /** The budget state, consistent with `link`. */
  readonly state: LedgerState;
  /** The journal as the state file describes it (extended by any completed commit). */
  readonly link: JournalLink;
  /**
   * Whether complete, chained records were found past the recorded end of the journal (a commit
   * interrupted between the journal append and the state write) and applied to `state`: the
   * state file must be written again.
   */
  readonly completed: boolean;
}

/** Verification settings. */
export interface VerifyOptions {
  /** The reader's clock, ms since the epoch. */
  readonly now: number;
  /** Largest allowed lead of any stored time over `now`, in ms. */
  readonly maxClockSkewMs: number;
}

/** Largest state file read, in bytes (the state is bounded by the windows and the calls in flight). */
const MAX_STATE_BYTES = 8 * 1024 * 1024;
/** Most bytes of an interrupted commit completed on load. */
const MAX_COMPLETION_BYTES = 16 * 1024 * 1024;

/**
 * Reads and verifies the ledger; the caller holds the lock. Reads the state file (size bound,
 * canonical JSON, schema, checksum, no time ahead of the clock by more than the skew) and
 * checks it against the journal in constant work, whatever the journal's length: the journal's
 * size equals the recorded length, and its last line (read alone) is a valid record whose hash,
 * number and state hash match the state file. Records found past the recorded end are accepted
 * only as the completion of an interrupted commit: whole lines, chained, each applying to the
 * state, the last one's state hash matching. Anything else throws a `corrupt`
 * {@link FileLedgerError}. No files: a fresh, empty ledger.
 *
 * @param files - the ledger's files.
 * @param options - clock and skew.
 * @returns the verified snapshot.
 * @throws FileLedgerError (`corrupt`) on any doubt; file system errors as they come.
 *
 * @example
 * ```ts
 * import { loadLedger } from './loadLedger.js';
 * const snapshot = await loadLedger(ledgerFiles(path), { now: Date.now(), maxClockSkewMs: 86_400_000 });
 * ```
 */
export async function loadLedger(files: LedgerFiles, options: VerifyOptions): Promise<LedgerSnapshot> {
  const fail = (what: string, cause?: unknown): never => {
    throw corruptLedger(files.state, what, cause);
  };
  const text = await readStateText(files.state, fail);
  const journalSize = await sizeOf(files.journal);
  if (text === undefined) {
    if (journalSize !== undefined) fail(`the state file is missing while the journal ${files.journal} exists (${journalSize} bytes)`);
    return { exists: false, state: emptyLedgerState(), link: { bytes: 0, records: 0, last: GENESIS_HASH, tail: 0 }, completed: false };
  }
  const parsed = parseStateFile(text);
  if (!parsed.ok) return fail(`the state file: ${parsed.why}`);
  const { state, journal: link, writtenAt } = parsed.value;
  const limit = options.now + options.maxClockSkewMs;
  if (writtenAt > limit) fail(`the state file was written at ${iso(writtenAt)}, ahead of this process's clock (${iso(options.now)}): the clock went back or the file was edited`);
  for (const [id, entry] of Object.entries(state.pending)) {
    if (entry.time > limit) fail(`the reservation ${id} is dated ${iso(entry.time)}, ahead of this process's clock (${iso(options.now)})`);
  }

  if (link.records === 0) {
    if (link.bytes !== 0 || link.tail !== 0 || link.last !== GENESIS_HASH) fail('the state file describes an empty journal inconsistently');
    if (canonicalJson(state) !== canonicalJson(emptyLedgerState())) fail('the state file has counters but the journal has no records');
  } else if (link.tail < 1 || link.tail > MAX_LINE_BYTES + 1 || link.tail > link.bytes) {
    fail('the state file describes the journal inconsistently');
  }
  if (journalSize === undefined) {
    if (link.bytes !== 0) fail(`the journal ${files.journal} is missing (the state file says ${link.bytes} bytes)`);
    return { exists: true, state, link, completed: false };
  }

  const journal = await open(files.journal, 'r');
  try {
    const size = (await journal.stat()).size;
    if (size < link.bytes) fail(`the journal is shorter than the state file says (${size} < ${link.bytes} bytes): it was truncated or replaced`);
    if (link.records > 0) {
      // The last line, and the byte before it (a newline unless it is the first line).
      const start = link.bytes - link.tail;
      const before = start > 0 ? 1 : 0;
      const bytes = await readAt(journal, start - before, link.tail + before);
      if ((before === 1 && bytes[0] !== 0x0a) || bytes[bytes.length - 1] !== 0x0a) fail('the journal does not end with a whole record where the state file says');
      const record = parseJournalLine(bytes.subarray(before, bytes.length - 1), `the journal's last record (${link.records})`, fail);
      if (record.hash !== link.last || record.seq !== link.records) fail(`the journal's last record (${record.seq}) is not the one the state file links to (${link.records})`);
      if (record.state !== ledgerStateHash(state)) fail(`the state file's content does not match the state recorded by the journal's last record (${link.records}): the state was edited`);
      if (record.time > limit) fail(`the journal's last record is dated ${iso(record.time)}, ahead of this process's clock (${iso(options.now)})`);
    }
    if (size === link.bytes) return { exists: true, state, link, completed: false };
    if (size - link.bytes > MAX_COMPLETION_BYTES) fail(`the journal has ${size - link.bytes} unexpected bytes past the end the state file records`);
    const extra = await readAt(journal, link.bytes, size - link.bytes);
    return completeCommit(state, link, extra, options, fail);
  } finally {
    await journal.close();
  }
}

/** Applies the whole, chained records past the recorded end; anything else fails. */
function completeCommit(
  recorded: LedgerState,
  recordedLink: JournalLink,
  extra: Uint8Array,
  options: VerifyOptions,
  fail: (what: string) => never,
): LedgerSnapshot {
  const foreign = (why: string) => fail(`the journal has ${extra.length} bytes past the end the state file records, and they are not an interrupted commit of this ledger (${why}): a foreign or partial write`);
  if (extra[extra.length - 1] !== 0x0a) foreign('the last line is incomplete');
  const state = structuredClone(recorded);
  let link = recordedLink;
  let last: JournalRecord | undefined;
  let offset = 0;
  while (offset < extra.length) {
    const end = extra.indexOf(0x0a, offset);
    const line = extra.subarray(offset, end);
    const record = parseJournalLine(line, `record ${link.records + 1}`, (what) => foreign(what));
    if (record.prev !== link.last || record.seq !== link.records + 1) foreign(`record ${record.seq} does not chain to record ${link.records}`);
    if (record.time > options.now + options.maxClockSkewMs) foreign(`record ${record.seq} is dated ahead of this process's clock`);
    const why = replayEvent(state, record, record.time);
    if (why) foreign(`record ${record.seq}: ${why}`);
    link = { bytes: link.bytes + line.length + 1, records: record.seq, last: record.hash, tail: line.length + 1 };
    last = record;
    offset = end + 1;
  }
  if (!last || last.state !== ledgerStateHash(state)) foreign('the state they lead to is not the one they record');
  return { exists: true, state, link, completed: true };
}

async function readStateText(path: string, fail: (what: string) => never): Promise<string | undefined> {
  const size = await sizeOf(path);
  if (size === undefined) return undefined;
  if (size > MAX_STATE_BYTES) fail(`the state file is ${size} bytes, more than the ${MAX_STATE_BYTES} a ledger state can hold`);
  const bytes = await readFile(path).catch((error: unknown) => {
    if ((error as { code?: unknown }).code === 'ENOENT') fail('the state file vanished while being read (replaced without the lock)');
    throw error;
  });
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch {
    return fail('the state file is not valid UTF-8');
  }
}

async function sizeOf(path: string): Promise<number | undefined> {
  try {
    return (await stat(path)).size;
  } catch (error) {
    if ((error as { code?: unknown }).code === 'ENOENT') return undefined;
    throw error;
  }
}

async function readAt(file: import('node:fs/promises').FileHandle, position: number, length: number): Promise<Uint8Array> {
  const buffer = Buffer.alloc(length);
  let done = 0;
  while (done < length) {
    const { bytesRead } = await file.read(buffer, done, length - done, position + done);
    if (bytesRead === 0) break;
    done += bytesRead;
  }
  return buffer.subarray(0, done);
}

function iso(ms: number): string {
  return Number.isFinite(ms) && Math.abs(ms) < 8.64e15 ? new Date(ms).toISOString() : String(ms);
}
