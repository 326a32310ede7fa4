import { open, readFile, stat } from 'node:fs/promises';
import { emptyLedgerState, type LedgerState } from '../budget/ledgerState.js';
import { canonicalJson } from './canonicalJson.js';
import { corruptLedger, newerLedger } from './FileLedgerError.js';
import { GENESIS_HASH, LEDGER_FORMAT_VERSION, ledgerStateJson, newerFormatVersion, parseStateFile, type JournalLink, type JournalRecord } from './ledgerFileSchema.js';
import { sha256Hex } from './sha256Hex.js';
import { MAX_LINE_BYTES, parseJournalLine } from './parseJournalLine.js';
import type { LedgerFiles } from './ledgerFiles.js';
import { replayEvent } from './replayEvent.js';

/** The ledger as read and verified under the lock. */
export interface LedgerSnapshot {
  /** Whether the state file exists (false: a fresh ledger, nothing written yet). */
  readonly exists: boolean;
  /**
   * The budget state, consistent with `link`. The store object that loaded it may change it in
   * place afterwards (its `stateText` and `proof` then no longer describe it: see `fileStore`).
   */
  readonly state: LedgerState;
  /** `canonicalJson(state)` as loaded (its hash is what the journal's last record carries). */
  readonly stateText: string;
  /** The journal as the state file describes it (extended by any completed commit). */
  readonly link: JournalLink;
  /**
   * Whether complete, chained records were found past the recorded end of the journal (a commit
   * interrupted between the journal append and the state write) and applied to `state`: the
   * state file must be written again.
   */
  readonly completed: boolean;
  /** The bytes this snapshot stands for, when a later load may reuse it (see {@link LedgerProof}). */
  readonly proof?: LedgerProof;
}

/**
 * The exact bytes a snapshot was verified from (or written as): a later load that reads the same
 * state file bytes, a journal of the same length and the same last line reuses the snapshot
 * instead of parsing, validating and hashing again. Verification is a function of those bytes
 * (and of the clock, checked against `latest`), so the snapshot it would rebuild is this one.
 */
export interface LedgerProof {
  /** The state file's bytes. */
  readonly stateBytes: Uint8Array;
  /** The journal's last line with its newline, preceded by the newline before it (unless it is the first line). */
  readonly tailBytes: Uint8Array;
  /** The hash of the state's canonical text. */
  readonly stateHash: string;
  /** The latest time the state file holds (written at, pending reservations), for the clock-skew check. */
  readonly stateLatest: number;
  /** The latest time of the state file and the journal's last record. */
  readonly latest: number;
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
 * state, the last one's state hash matching. A state file of a newer format throws a
 * `newer_format` {@link FileLedgerError}, before the journal is read; anything else wrong
 * throws a `corrupt` one. No files: a fresh, empty ledger.
 *
 * With `previous` (the snapshot this store object last verified or wrote), the state file and the
 * journal's last line are still read on every call, and compared byte for byte with the ones
 * `previous` stands for: when they are identical (and the journal has the recorded length, and
 * no stored time is now ahead of the clock), `previous` is returned as is, without parsing or
 * hashing anything again. Any other byte, written by anyone, is verified in full.
 *
 * @param files - the ledger's files.
 * @param options - clock and skew.
 * @param previous - the last snapshot of this store object, whose proof may be reused.
 * @returns the verified snapshot.
 * @throws FileLedgerError (`newer_format` for a newer version's ledger, `corrupt` on any other doubt); file system errors as they come.
 *
 * @example
 * ```ts
 * import { loadLedger } from './loadLedger.js';
 * const snapshot = await loadLedger(ledgerFiles(path), { now: Date.now(), maxClockSkewMs: 86_400_000 });
 * ```
 */
export async function loadLedger(files: LedgerFiles, options: VerifyOptions, previous?: LedgerSnapshot): Promise<LedgerSnapshot> {
  const fail = (what: string, cause?: unknown): never => {
    throw corruptLedger(files.state, what, cause);
  };
  const bytes = await readStateBytes(files.state, fail);
  const journalSize = await sizeOf(files.journal);
  if (bytes === undefined) {
    if (journalSize !== undefined) fail(`the state file is missing while the journal ${files.journal} exists (${journalSize} bytes)`);
    const state = emptyLedgerState();
    return { exists: false, state, stateText: canonicalJson(state), link: { bytes: 0, records: 0, last: GENESIS_HASH, tail: 0 }, completed: false };
  }
  const limit = options.now + options.maxClockSkewMs;
  const reusable = previous?.proof && previous.proof.latest <= limit && bytes.equals(previous.proof.stateBytes) ? previous : undefined;
  const { state, stateText, link, stateHash, latest } = reusable
    ? { ...reusable, stateHash: () => reusable.proof!.stateHash, latest: reusable.proof!.stateLatest }
    : verifyStateFile(files.state, bytes, options, fail);

  if (journalSize === undefined) {
    if (link.bytes !== 0) fail(`the journal ${files.journal} is missing (the state file says ${link.bytes} bytes)`);
    return { exists: true, state, stateText, link, completed: false };
  }

  const journal = await open(files.journal, 'r');
  try {
    const size = (await journal.stat()).size;
    if (size < link.bytes) fail(`the journal is shorter than the state file says (${size} < ${link.bytes} bytes): it was truncated or replaced`);
    let proof: LedgerProof | undefined;
    if (link.records > 0) {
      // The last line, and the byte before it (a newline unless it is the first line).
      const start = link.bytes - link.tail;
      const before = start > 0 ? 1 : 0;
      const tail = await readAt(journal, start - before, link.tail + before);
      if (reusable && tail.equals(reusable.proof!.tailBytes)) {
        if (size === link.bytes) return reusable;
      } else {
        if ((before === 1 && tail[0] !== 0x0a) || tail[tail.length - 1] !== 0x0a) fail('the journal does not end with a whole record where the state file says');
        const record = parseJournalLine(tail.subarray(before, tail.length - 1), `the journal's last record (${link.records})`, fail);
        if (record.hash !== link.last || record.seq !== link.records) fail(`the journal's last record (${record.seq}) is not the one the state file links to (${link.records})`);
        if (record.state !== stateHash()) fail(`the state file's content does not match the state recorded by the journal's last record (${link.records}): the state was edited`);
        if (record.time > limit) fail(`the journal's last record is dated ${iso(record.time)}, ahead of this process's clock (${iso(options.now)})`);
        proof = { stateBytes: bytes, tailBytes: tail, stateHash: stateHash(), stateLatest: latest, latest: Math.max(latest, record.time) };
      }
    }
    if (size === link.bytes) return proof ? { exists: true, state, stateText, link, completed: false, proof } : { exists: true, state, stateText, link, completed: false };
    if (size - link.bytes > MAX_COMPLETION_BYTES) fail(`the journal has ${size - link.bytes} unexpected bytes past the end the state file records`);
    const extra = await readAt(journal, link.bytes, size - link.bytes);
    return completeCommit(state, link, extra, options, fail);
  } finally {
    await journal.close();
  }
}

/** The state file's own checks (everything but the journal), on bytes not verified before. */
function verifyStateFile(
  path: string,
  bytes: Buffer,
  options: VerifyOptions,
  fail: (what: string) => never,
): { state: LedgerState; stateText: string; link: JournalLink; stateHash: () => string; latest: number } {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch {
    return fail('the state file is not valid UTF-8');
  }
  const parsed = parseStateFile(text);
  if (!parsed.ok) {
    // A newer version's file is not judged by this version's rules: it is refused as newer.
    const newer = newerFormatVersion(text);
    if (newer !== undefined) throw newerLedger(path, newer, LEDGER_FORMAT_VERSION);
    return fail(`the state file: ${parsed.why}`);
  }
  const { state, journal: link, writtenAt } = parsed.value.file;
  const limit = options.now + options.maxClockSkewMs;
  if (writtenAt > limit) fail(`the state file was written at ${iso(writtenAt)}, ahead of this process's clock (${iso(options.now)}): the clock went back or the file was edited`);
  let latest = writtenAt;
  for (const [id, entry] of Object.entries(state.pending)) {
    if (entry.time > limit) fail(`the reservation ${id} is dated ${iso(entry.time)}, ahead of this process's clock (${iso(options.now)})`);
    latest = Math.max(latest, entry.time);
  }
  if (link.records === 0) {
    if (link.bytes !== 0 || link.tail !== 0 || link.last !== GENESIS_HASH) fail('the state file describes an empty journal inconsistently');
    if (parsed.value.stateText !== canonicalJson(emptyLedgerState())) fail('the state file has counters but the journal has no records');
  } else if (link.tail < 1 || link.tail > MAX_LINE_BYTES + 1 || link.tail > link.bytes) {
    fail('the state file describes the journal inconsistently');
  }
  let hash: string | undefined;
  return { state, stateText: parsed.value.stateText, link, stateHash: () => (hash ??= sha256Hex(parsed.value.stateText)), latest };
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
  const stateText = ledgerStateJson(state);
  if (!last || last.state !== sha256Hex(stateText)) foreign('the state they lead to is not the one they record');
  return { exists: true, state, stateText, link, completed: true };
}

async function readStateBytes(path: string, fail: (what: string) => never): Promise<Buffer | undefined> {
  const size = await sizeOf(path);
  if (size === undefined) return undefined;
  if (size > MAX_STATE_BYTES) fail(`the state file is ${size} bytes, more than the ${MAX_STATE_BYTES} a ledger state can hold`);
  return readFile(path).catch((error: unknown) => {
    if ((error as { code?: unknown }).code === 'ENOENT') fail('the state file vanished while being read (replaced without the lock)');
    throw error;
  });
}

async function sizeOf(path: string): Promise<number | undefined> {
  try {
    return (await stat(path)).size;
  } catch (error) {
    if ((error as { code?: unknown }).code === 'ENOENT') return undefined;
    throw error;
  }
}

async function readAt(file: import('node:fs/promises').FileHandle, position: number, length: number): Promise<Buffer> {
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
