import { open } from 'node:fs/promises';
import { emptyLedgerState, type LedgerState } from '../budget/ledgerState.js';
import { canonicalJson } from './canonicalJson.js';
import { GENESIS_HASH, STATE_FORMAT, stateChecksum, type JournalLink } from './ledgerFileSchema.js';
import type { LedgerFiles } from './ledgerFiles.js';
import { syncDirectory, writeFileAtomic } from './writeFileAtomic.js';

/**
 * Makes a change to the ledger durable; the caller holds the lock and has verified the ledger
 * (the journal is exactly `before.link.bytes` long). Write-ahead order: appends the new journal
 * lines and fsyncs them, then replaces the state file atomically (temp, fsync, rename, fsync of
 * the directory). A crash in between leaves whole records past the state's recorded end, which
 * the next load completes after checking them; a fresh ledger first gets an empty state file, so
 * a journal never exists without one. Files are created with mode 0600.
 *
 * @param files - the ledger's files.
 * @param before - whether the state file exists, and the journal link it records.
 * @param after - the new state and the journal link once `lines` are appended.
 * @param lines - the journal lines to append, each ending with a newline (may be empty).
 * @param now - the writer's clock, ms since the epoch (the state file's `writtenAt`).
 *
 * @example
 * ```ts
 * import { commitLedger } from './commitLedger.js';
 * await commitLedger(files, snapshot, { state, link }, [line], Date.now());
 * ```
 */
export async function commitLedger(
  files: LedgerFiles,
  before: { readonly exists: boolean; readonly link: JournalLink },
  after: { readonly state: LedgerState; readonly link: JournalLink },
  lines: readonly string[],
  now: number,
): Promise<void> {
  if (!before.exists) await writeState(files, emptyLedgerState(), { bytes: 0, records: 0, last: GENESIS_HASH, tail: 0 }, now);
  if (lines.length > 0) {
    const journal = await open(files.journal, 'a', 0o600);
    try {
      await journal.writeFile(lines.join(''), 'utf8');
      await journal.sync();
    } finally {
      await journal.close();
    }
    if (before.link.bytes === 0) await syncDirectory(files.dir);
  }
  await writeState(files, after.state, after.link, now);
}

async function writeState(files: LedgerFiles, state: LedgerState, link: JournalLink, now: number): Promise<void> {
  const content = { format: STATE_FORMAT as typeof STATE_FORMAT, version: 1 as const, writtenAt: now, state, journal: link };
  await writeFileAtomic(files.state, `${canonicalJson({ ...content, checksum: stateChecksum(content) })}\n`, files.temp);
}
