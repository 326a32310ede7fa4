import { parseJournalRecord, type JournalRecord } from './ledgerFileSchema.js';

/** Largest journal line, in bytes. */
export const MAX_LINE_BYTES = 256 * 1024;

/**
 * Parses one journal line (bytes, without its newline): strict UTF-8, then {@link parseJournalRecord}.
 *
 * @param bytes - the line, without its newline.
 * @param where - names the line in errors, e.g. `record 7`.
 * @param fail - throws with a description of the problem.
 * @returns the record.
 *
 * @example
 * ```ts
 * import { parseJournalLine } from './parseJournalLine.js';
 * const record = parseJournalLine(bytes, 'record 7', (what) => { throw new Error(what); });
 * ```
 */
export function parseJournalLine(bytes: Uint8Array, where: string, fail: (what: string) => never): JournalRecord {
  if (bytes.length > MAX_LINE_BYTES) fail(`${where} is longer than ${MAX_LINE_BYTES} bytes`);
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch {
    return fail(`${where} is not valid UTF-8`);
  }
  const parsed = parseJournalRecord(text);
  if (!parsed.ok) return fail(`${where}: ${parsed.why}`);
  return parsed.value;
}

