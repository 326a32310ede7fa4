import { canonicalJson } from './canonicalJson.js';
import { parseJournalRecord, recordHash, type JournalEvent, type JournalLink, type JournalRecord } from './ledgerFileSchema.js';

/**
 * Makes the next journal record after `link`: the event, its time, the hash of the state once
 * it is applied, chained to the previous record by `prev`, and hashed. The line is read back
 * through the parser before it is returned, so nothing is ever written that a later
 * verification would reject (an over-long id or transaction throws a TypeError instead).
 *
 * @param event - what changed.
 * @param link - the journal as it stands (last hash, record count, length).
 * @param time - when, ms since the epoch.
 * @param stateHash - the hash of the ledger state with the event applied (`ledgerStateHash`).
 * @returns the record, its line (with the newline) and the journal link once it is appended.
 * @throws TypeError when the event cannot be recorded.
 *
 * @example
 * ```ts
 * import { createJournalRecord } from './createJournalRecord.js';
 * const { line, link: next } = createJournalRecord({ type: 'release', id }, link, clock(), ledgerStateHash(state));
 * ```
 */
export function createJournalRecord(
  event: JournalEvent,
  link: JournalLink,
  time: number,
  stateHash: string,
): { record: JournalRecord; line: string; link: JournalLink } {
  const content = { ...event, seq: link.records + 1, time, prev: link.last, state: stateHash } as Omit<JournalRecord, 'hash'>;
  const record = { ...content, hash: recordHash(content) } as JournalRecord;
  const text = canonicalJson(record);
  const check = parseJournalRecord(text);
  if (!check.ok) throw new TypeError(`fileStore: cannot record the ${event.type} of ${JSON.stringify(event.id.slice(0, 80))}: ${check.why}`);
  const bytes = Buffer.byteLength(text, 'utf8') + 1;
  return { record, line: `${text}\n`, link: { bytes: link.bytes + bytes, records: record.seq, last: record.hash, tail: bytes } };
}
