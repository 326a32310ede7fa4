import { open } from 'node:fs/promises';
import { emptyLedgerState, type LedgerState } from '../budget/ledgerState.js';
import { canonicalJson } from './canonicalJson.js';
import { GENESIS_HASH, stateFileText, type JournalLink } from './ledgerFileSchema.js';
import type { LedgerFiles } from './ledgerFiles.js';
import type { LedgerProof, LedgerSnapshot } from './loadLedger.js';
import { sha256Hex } from './sha256Hex.js';
import { syncDirectory, writeFileAtomic } from './writeFileAtomic.js';

/** The ledger after a change: its state, that state's canonical text, and the journal link once the lines are appended. */
export interface LedgerChange {
  readonly state: LedgerState;
  /** `canonicalJson(state)` (already hashed into the last journal line: serialised once). */
  readonly stateText: string;
  readonly link: JournalLink;
  /** The time of the last journal line, ms since the epoch (0 when there is none). */
  readonly time: number;
}

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
 * @param after - the new state, its canonical text, and the journal link once `lines` are appended.
 * @param lines - the journal lines to append, each ending with a newline (may be empty).
 * @param now - the writer's clock, ms since the epoch (the state file's `writtenAt`).
 * @returns the snapshot of the ledger as written, with the proof of the bytes written (so that
 *   the next load by this store object compares them instead of verifying them again), when
 *   there are lines.
 *
 * @example
 * ```ts
 * import { commitLedger } from './commitLedger.js';
 * const next = await commitLedger(files, snapshot, { state, stateText: canonicalJson(state), link }, [line], Date.now());
 * ```
 */
export async function commitLedger(
  files: LedgerFiles,
  before: { readonly exists: boolean; readonly link: JournalLink },
  after: LedgerChange,
  lines: readonly string[],
  now: number,
): Promise<LedgerSnapshot> {
  if (!before.exists) {
    await writeFileAtomic(files.state, stateFileText(canonicalJson(emptyLedgerState()), { bytes: 0, records: 0, last: GENESIS_HASH, tail: 0 }, now), files.temp);
  }
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
  const text = stateFileText(after.stateText, after.link, now);
  await writeFileAtomic(files.state, text, files.temp);
  const snapshot = { exists: true, state: after.state, stateText: after.stateText, link: after.link, completed: false };
  const last = lines.at(-1);
  // A state the schema would refuse (a clock before 1970) gets no proof: the next load verifies it, and fails.
  if (last === undefined || now < 0) return snapshot;
  let stateLatest = now;
  for (const entry of Object.values(after.state.pending)) stateLatest = Math.max(stateLatest, entry.time);
  const proof: LedgerProof = {
    stateBytes: Buffer.from(text, 'utf8'),
    tailBytes: Buffer.from(after.link.bytes > after.link.tail ? `\n${last}` : last, 'utf8'),
    stateHash: sha256Hex(after.stateText),
    stateLatest,
    latest: Math.max(stateLatest, after.time),
  };
  return { ...snapshot, proof };
}
