import { open } from 'node:fs/promises';
import { corruptLedger } from './FileLedgerError.js';
import { GENESIS_HASH, type JournalLink, type JournalRecord } from './ledgerFileSchema.js';
import type { LedgerFiles } from './ledgerFiles.js';
import type { VerifyOptions } from './loadLedger.js';
import { parseJournalLine } from './parseJournalLine.js';

/**
 * Verifies the end of the journal, in work bounded by `maxBytes` whatever the journal's length:
 * reads its last `maxBytes` up to the end the state file records (`link.bytes`), and checks that
 * every whole line there is a valid record (canonical JSON, schema, hash), not dated ahead of the
 * clock by more than the skew, chained to the one before it (`prev`, `seq`), and that they end
 * at the record the state links to. The line the window starts inside, and everything before
 * it, are not read (`scanJournal` reads them: `report()`, `verify()`).
 *
 * @param files - the ledger's files.
 * @param link - the journal as the verified state file describes it.
 * @param options - clock and skew.
 * @param maxBytes - how many bytes at most to read.
 * @returns how many records were verified.
 * @throws FileLedgerError (`corrupt`) on any doubt.
 *
 * @example
 * ```ts
 * import { verifyJournalTail } from './verifyJournalTail.js';
 * await verifyJournalTail(files, snapshot.link, { now: Date.now(), maxClockSkewMs: 86_400_000 }, 256 * 1024);
 * ```
 */
export async function verifyJournalTail(files: LedgerFiles, link: JournalLink, options: VerifyOptions, maxBytes: number): Promise<number> {
  const fail = (what: string): never => {
    throw corruptLedger(files.state, what);
  };
  if (link.records === 0) return 0;
  const start = Math.max(0, link.bytes - maxBytes);
  const bytes = Buffer.alloc(link.bytes - start);
  const journal = await open(files.journal, 'r').catch((error: unknown) => {
    if ((error as { code?: unknown }).code === 'ENOENT') fail(`the journal ${files.journal} is missing`);
    throw error;
  });
  try {
    let done = 0;
    while (done < bytes.length) {
      const { bytesRead } = await journal.read(bytes, done, bytes.length - done, start + done);
      if (bytesRead === 0) fail(`the journal is shorter than the state file says (${start + done} < ${link.bytes} bytes): it was truncated`);
      done += bytesRead;
    }
  } finally {
    await journal.close();
  }
  if (bytes[bytes.length - 1] !== 0x0a) fail('the journal does not end with a whole record where the state file says');
  // The first whole line: from the start, or after the first newline of the window.
  let offset = start === 0 ? 0 : bytes.indexOf(0x0a) + 1;
  let previous: JournalRecord | undefined;
  let count = 0;
  while (offset < bytes.length) {
    const end = bytes.indexOf(0x0a, offset);
    const at = start + offset;
    const where = previous ? `record ${previous.seq + 1} (at byte ${at})` : `the record at byte ${at}`;
    const record = parseJournalLine(bytes.subarray(offset, end), where, fail);
    if (previous && (record.seq !== previous.seq + 1 || record.prev !== previous.hash)) {
      fail(`${where} does not chain to the record before it: records were edited, removed or reordered`);
    }
    if (start === 0 && !previous && (record.seq !== 1 || record.prev !== GENESIS_HASH)) fail(`${where} is not the first record of a journal`);
    if (record.time > options.now + options.maxClockSkewMs) fail(`${where} is dated ${new Date(record.time).toISOString()}, ahead of this process's clock`);
    previous = record;
    count++;
    offset = end + 1;
  }
  // No whole line in the window (a last record longer than it): there is nothing loadLedger has not read.
  if (previous && (previous.seq !== link.records || previous.hash !== link.last)) fail('the journal does not end with the record the state file links to');
  return count;
}
