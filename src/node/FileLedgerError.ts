/** Why a {@link FileLedgerError} was thrown. */
export type FileLedgerProblem =
  /** The files are not what this library wrote: truncated, edited, reordered, foreign, dated in the future, or rolled back. */
  | 'corrupt'
  /** The ledger is in a newer format than this version reads (written by a newer x402-autopay): nothing was written to it. */
  | 'newer_format'
  /** Another live process held the lock for longer than `lockTimeoutMs`. */
  | 'lock_timeout'
  /** The lock this process held was taken or removed by someone else while it was held. */
  | 'lock_lost';

/**
 * An error of the file spend ledger ({@link fileStore}). The budget turns it into a
 * `BudgetUnavailableError` (code `budget_unavailable`, nothing paid); it is that error's `cause`.
 * The ledger never repairs itself: see the message for what to do.
 *
 * @example
 * ```ts
 * import { BudgetUnavailableError } from 'x402-autopay';
 * import { FileLedgerError } from 'x402-autopay/node';
 * try {
 *   await paidFetch('https://api.example.com/data');
 * } catch (error) {
 *   if (error instanceof BudgetUnavailableError && error.cause instanceof FileLedgerError) {
 *     console.error(error.cause.problem, error.cause.path); // e.g. 'corrupt', '/var/lib/agent/ledger.json'
 *   }
 * }
 * ```
 */
export class FileLedgerError extends Error {
  override readonly name = 'FileLedgerError';
  /** What went wrong. */
  readonly problem: FileLedgerProblem;
  /** The ledger's state file (the journal is `<path>.journal`, the lock `<path>.lock`). */
  readonly path: string;

  constructor(args: { problem: FileLedgerProblem; path: string; message: string; cause?: unknown }) {
    super(args.message, args.cause === undefined ? undefined : { cause: args.cause });
    this.problem = args.problem;
    this.path = args.path;
  }
}

/**
 * A {@link FileLedgerError} for a ledger in a newer format than this version reads: a process of
 * a newer x402-autopay wrote it. Nothing is written to it (no record, no quarantine), so the
 * newer processes sharing it go on; this one pays nothing until it is upgraded.
 *
 * @param path - the ledger's state file.
 * @param version - the format version the state file declares.
 * @param supported - the format version this library reads.
 * @returns the error to throw.
 *
 * @example
 * ```ts
 * import { newerLedger } from './FileLedgerError.js';
 * throw newerLedger('/var/lib/agent/ledger.json', 2, 1);
 * ```
 */
export function newerLedger(path: string, version: number, supported: number): FileLedgerError {
  return new FileLedgerError({
    problem: 'newer_format',
    path,
    message:
      `fileStore: the spend ledger ${path} is in format ${version}, written by a newer x402-autopay; this version reads format ${supported}. ` +
      `Nothing is paid through it by this process, and nothing was written to it. ` +
      `To go on: upgrade x402-autopay here to the version the other processes sharing the ledger run (a ledger is shared by processes of one version, or of versions that read its format). Do not move the files aside: they hold what was spent in the current windows.`,
  });
}

/**
 * A {@link FileLedgerError} for files that fail verification, with the operator's way out.
 *
 * @param path - the ledger's state file.
 * @param what - what was found, e.g. `the journal is shorter than the state says (100 < 240 bytes)`.
 * @returns the error to throw.
 *
 * @example
 * ```ts
 * import { corruptLedger } from './FileLedgerError.js';
 * throw corruptLedger('/var/lib/agent/ledger.json', 'the state checksum does not match its content');
 * ```
 */
export function corruptLedger(path: string, what: string, cause?: unknown): FileLedgerError {
  return new FileLedgerError({
    problem: 'corrupt',
    path,
    cause,
    message:
      `fileStore: the spend ledger ${path} failed verification: ${what}. Nothing is paid until an operator looks at it. ` +
      `The files are never repaired automatically. To recover: stop the processes using it, keep ${path} and ${path}.journal (and ${path}.quarantine, if any) for audit, ` +
      `move them aside (this starts a fresh ledger that forgets what was spent in the current windows: lower the budget or wait out the window if unsure), and restart.`,
  });
}
