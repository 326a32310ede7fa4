import { dirname, resolve } from 'node:path';

/** The files of one file ledger. */
export interface LedgerFiles {
  /** The state file (absolute). */
  readonly state: string;
  /** The append-only journal, `<state>.journal`. */
  readonly journal: string;
  /** The cross-process lock, `<state>.lock`. */
  readonly lock: string;
  /** The temporary file of atomic state writes, `<state>.tmp`. */
  readonly temp: string;
  /** Written when a full verification found the ledger corrupt, `<state>.quarantine`: no process pays while it exists. */
  readonly quarantine: string;
  /** The directory holding them all. */
  readonly dir: string;
}

/**
 * The files of the ledger whose state file is `path` (resolved against the working directory).
 *
 * @param path - the state file, e.g. `./x402-ledger.json`.
 * @returns the absolute paths of the state, journal, lock and temporary files.
 *
 * @example
 * ```ts
 * import { ledgerFiles } from './ledgerFiles.js';
 * ledgerFiles('/var/lib/agent/ledger.json').journal; // '/var/lib/agent/ledger.json.journal'
 * ```
 */
export function ledgerFiles(path: string): LedgerFiles {
  const state = resolve(path);
  return { state, journal: `${state}.journal`, lock: `${state}.lock`, temp: `${state}.tmp`, quarantine: `${state}.quarantine`, dir: dirname(state) };
}
