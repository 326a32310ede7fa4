import { createReadStream } from 'node:fs';
import { emptyLedgerState } from '../budget/ledgerState.js';
import { corruptLedger } from './FileLedgerError.js';
import { GENESIS_HASH, ledgerStateJson, type JournalLink, type JournalRecord } from './ledgerFileSchema.js';
import type { LedgerFiles } from './ledgerFiles.js';
import type { LedgerSnapshot, VerifyOptions } from './loadLedger.js';
import { MAX_LINE_BYTES, parseJournalLine } from './parseJournalLine.js';
import { replayEvent } from './replayEvent.js';

/**
 * Verifies the whole journal against a snapshot, streaming (memory bounded by one line): every
 * line is a valid record (canonical JSON, schema, hash), chained to the one before (`prev`,
 * `seq`), not dated ahead of the clock by more than the skew; replaying them all from an empty
 * state gives exactly the snapshot's state; the journal ends exactly where the snapshot's link
 * says, at its last hash. Detects truncation, edits, reordering, deletions and broken hashes
 * anywhere in the history. Lines appended after the snapshot are not read.
 *
 * @param files - the ledger's files.
 * @param snapshot - the state (its canonical text) and the link, read under the lock.
 * @param options - clock and skew.
 * @param onRecord - called with each verified record, oldest first (e.g. to build a report).
 * @throws FileLedgerError (`corrupt`) on any doubt.
 *
 * @example
 * ```ts
 * import { scanJournal } from './scanJournal.js';
 * const ids: string[] = [];
 * await scanJournal(files, snapshot, { now: Date.now(), maxClockSkewMs: 86_400_000 }, (record) => ids.push(record.id));
 * ```
 */
export async function scanJournal(
  files: LedgerFiles,
  snapshot: Pick<LedgerSnapshot, 'stateText' | 'link'>,
  options: VerifyOptions,
  onRecord?: (record: JournalRecord) => void,
): Promise<void> {
  const fail = (what: string): never => {
    throw corruptLedger(files.state, what);
  };
  const expected = snapshot.link;
  const state = emptyLedgerState();
  let link: JournalLink = { bytes: 0, records: 0, last: GENESIS_HASH, tail: 0 };
  let partial: Buffer[] = [];
  let partialBytes = 0;

  const line = (bytes: Uint8Array) => {
    const where = `record ${link.records + 1} (at byte ${link.bytes})`;
    const record = parseJournalLine(bytes, where, fail);
    if (record.seq !== link.records + 1 || record.prev !== link.last) fail(`${where} does not chain to the record before it: records were edited, removed or reordered`);
    if (record.time > options.now + options.maxClockSkewMs) fail(`${where} is dated ${new Date(record.time).toISOString()}, ahead of this process's clock`);
    const why = replayEvent(state, record, record.time);
    if (why) fail(`${where} does not apply to the ledger: ${why}`);
    link = { bytes: link.bytes + bytes.length + 1, records: record.seq, last: record.hash, tail: bytes.length + 1 };
    onRecord?.(record);
  };

  if (expected.bytes > 0) {
    try {
      for await (const chunk of createReadStream(files.journal, { start: 0, end: expected.bytes - 1, highWaterMark: 64 * 1024 }) as AsyncIterable<Buffer>) {
        let offset = 0;
        for (let end = chunk.indexOf(0x0a); end !== -1; end = chunk.indexOf(0x0a, offset)) {
          const piece = chunk.subarray(offset, end);
          if (partialBytes > 0) {
            line(Buffer.concat([...partial, piece]));
            partial = [];
            partialBytes = 0;
          } else line(piece);
          offset = end + 1;
        }
        if (offset < chunk.length) {
          partial.push(chunk.subarray(offset));
          partialBytes += chunk.length - offset;
          if (partialBytes > MAX_LINE_BYTES) fail(`record ${link.records + 1} (at byte ${link.bytes}) is longer than ${MAX_LINE_BYTES} bytes`);
        }
      }
    } catch (error) {
      if ((error as { code?: unknown }).code === 'ENOENT') fail(`the journal ${files.journal} is missing`);
      throw error;
    }
  }
  if (partialBytes > 0) fail(`the journal ends inside a record at byte ${link.bytes + partialBytes}, where the state file says a record ends: it was truncated or edited`);
  if (link.bytes !== expected.bytes) fail(`the journal is shorter than the state file says (${link.bytes} < ${expected.bytes} bytes): it was truncated`);
  if (link.records !== expected.records || link.last !== expected.last) fail('the journal does not end with the record the state file links to');
  if (ledgerStateJson(state) !== snapshot.stateText) fail('the state file does not match what the journal adds up to: the state was edited');
}
