import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { reserveIn, usageIn, type LedgerState } from '../budget/ledgerState.js';
import type { SpendRecord, SpendStore } from '../budget/store.js';
import { batchQueue } from './batchQueue.js';
import { commitLedger } from './commitLedger.js';
import { createJournalRecord } from './createJournalRecord.js';
import { acquireFileLock } from './fileLock.js';
import { corruptLedger, FileLedgerError } from './FileLedgerError.js';
import { ledgerStateJson, type JournalEvent, type JournalLink } from './ledgerFileSchema.js';
import { ledgerFiles } from './ledgerFiles.js';
import { loadLedger, type LedgerSnapshot, type VerifyOptions } from './loadLedger.js';
import { replayEvent, reserveEventOf, reserveRequestOf } from './replayEvent.js';
import { scanJournal } from './scanJournal.js';
import { sha256Hex } from './sha256Hex.js';
import { verifyJournalTail } from './verifyJournalTail.js';

/** Options of {@link fileStore}. */
export interface FileStoreOptions {
  /** Clock in ms since the epoch (default `Date.now`). */
  readonly clock?: () => number;
  /**
   * Longest wait for the cross-process lock, in ms, before the operation fails and nothing is
   * paid (default 10,000). A lock whose owner process died is taken over at once.
   */
  readonly lockTimeoutMs?: number;
  /**
   * Largest lead, in ms, that a time stored in the ledger may have over this process's clock
   * (default 86,400,000: one day). A ledger dated further ahead was written by a clock that
   * went back more than that, or edited: it is refused.
   */
  readonly maxClockSkewMs?: number;
}

const DEFAULT_LOCK_TIMEOUT_MS = 10_000;
const DEFAULT_MAX_CLOCK_SKEW_MS = 86_400_000;
/** Most operations of this process applied under one lock and one write. */
const MAX_BATCH = 256;
/**
 * How much of the journal's end the first operation of a store object verifies (about 190
 * payments of a typical budget); a journal no longer than this is verified whole and replayed.
 */
export const OPENING_CHECK_BYTES = 256 * 1024;

/**
 * The store {@link fileStore} returns: a {@link SpendStore}, and a way to verify the whole
 * ledger on demand.
 */
export interface FileStore extends SpendStore {
  /**
   * Verifies the whole ledger now, as `report()` does, reading the whole journal: every
   * record's hash, the chain from the first record to the one the state file links to, no record
   * dated ahead of the clock by more than the skew, and that replaying every record from an empty
   * ledger gives exactly the state file's state. Its cost grows with the history (about a minute
   * for a million payments on a small machine); payments are not held up meanwhile (only the
   * state and the journal's end are read under the lock).
   *
   * @returns how many records and bytes of journal were verified.
   * @throws FileLedgerError (`corrupt`) when anything does not verify.
   */
  verify(): Promise<{ readonly records: number; readonly bytes: number }>;
}

/**
 * The ledger while a batch holds the lock: the state, its canonical text, the journal link, the
 * lines to append. `state` is changed in place by the operations (so that the counters' running
 * sums stay valid from one operation to the next, and nothing is copied); `stateText` always
 * describes it between operations: an operation that changed the state and then fails or is
 * refused puts it back as `stateText` says (see {@link rollback}).
 */
interface BatchContext {
  state: LedgerState;
  /** `canonicalJson(state)`: as loaded, or as hashed into the last line (and then written as the state file). */
  stateText: string;
  link: JournalLink;
  /** The time of the last line. */
  time: number;
  readonly lines: string[];
}

interface Operation {
  run(context: BatchContext): unknown;
  resolve(value: unknown): void;
  reject(error: unknown): void;
}

/**
 * A spend store in two files on this machine, shared safely by every process that opens the
 * same `path` (several agents, a CLI, a restarted process): the budget survives restarts and is
 * never overspent between processes.
 *
 * - `<path>`: the state: bucketed counters and pending reservations (bounded size, whatever the
 *   history), a SHA-256 checksum, and a link to the journal (its length and last record hash).
 * - `<path>.journal`: append-only, one JSON line per reservation, release and settlement, each
 *   carrying the hash of the line before it and of the state it leads to. {@link report} reads it.
 * - `<path>.lock`: held during each operation (owner pid inside; a dead owner's lock is taken
 *   over, a live one's is waited for up to `lockTimeoutMs`).
 *
 * Every operation takes the lock, verifies the ledger in constant work (the state file's
 * checksum, canonical form, schema and dates; the journal's length, and its last record: hash,
 * number, and the hash of the state it leads to), applies the change with the shared budget
 * arithmetic, appends the journal record and fsyncs it, then replaces the state file atomically
 * (temp file, fsync, rename, directory fsync). Concurrent calls in one process are grouped under
 * one lock and one write. The store object keeps the ledger it last verified or wrote, with the
 * exact bytes of the state file and of the journal's last line: each operation still reads
 * both and compares them byte for byte, and verifies in full only what differs (another process
 * wrote, or someone edited). No check costs more with a longer history:
 *
 * - every operation: the checks above;
 * - the first operation of each store object also reads the last 256 KiB of the journal (about
 *   200 payments): every record there whole, hashed, chained to the one before and not dated
 *   ahead of the clock; a journal that short is read whole and replayed against the state;
 * - {@link SpendStore.report | report()} and {@link FileStore.verify | verify()} read the whole
 *   journal: every hash, the chain from the first record, the dates, and that replaying it gives
 *   exactly the state. Their cost grows with history (about a minute per million payments).
 *
 * The budget is enforced from the state file, which every operation verifies: an edit of the
 * journal further back than its last 256 KiB changes only the history `report()` shows, so
 * payments go on until the next `report()` or `verify()` finds it. That one throws and
 * quarantines the ledger (`<path>.quarantine`, with the reason): from then on no process that
 * uses it pays. Call `verify()` once at startup to have the whole history checked before the
 * first payment.
 *
 * **Fails closed.** Truncated, edited, reordered, re-checksummed, foreign or future-dated files
 * (found when the list above says), a lock not obtained in time, or any file system error make
 * the operation throw a {@link FileLedgerError}; the client then pays nothing
 * (`budget_unavailable`). The files are never repaired, with one exception: whole, chained,
 * consistent records past the state's recorded end (a crash between the journal append and the
 * state write) are applied, so a `kill -9` never bricks the ledger. To recover from
 * corruption, an operator stops the processes, keeps the files for audit, moves `<path>`,
 * `<path>.journal` and a `<path>.quarantine` aside (a fresh ledger forgets what was spent in the
 * current windows) and restarts.
 *
 * Missing files are a fresh, empty ledger; the directory is created with mode 0700 and the files
 * with 0600. The checksums and hash chain detect corruption and edits by anyone who does not
 * rewrite both files consistently; someone who can write the files and recompute hashes can
 * still change them (recomputing the state's checksum and the last record's hashes passes every
 * operation's checks; recomputing the whole chain, `report()` and `verify()` too): the hard cap
 * for an untrusted host belongs on chain (a spend permission or a session key). Local disks only: the lock relies on `link()` and on process ids of this host.
 *
 * @param path - the state file, e.g. `./x402-ledger.json` (relative to the working directory).
 * @param options - clock, lock timeout, clock skew; see {@link FileStoreOptions}.
 * @returns the store, for `wrapFetch`'s `options.store`, with {@link FileStore.verify | verify()}.
 * @throws TypeError at once when `path` or an option has the wrong shape.
 *
 * @example
 * ```ts
 * import { wrapFetch, fileStore } from 'x402-autopay/node';
 * import { privateKeyToAccount } from 'viem/accounts';
 *
 * const account = privateKeyToAccount(process.env.AGENT_KEY as `0x${string}`);
 * const paidFetch = wrapFetch(fetch, account, {
 *   budget: { perRequest: '0.05', daily: '2.00' },
 *   store: fileStore('/var/lib/my-agent/x402-ledger.json'),
 * });
 * ```
 */
export function fileStore(path: string, options: FileStoreOptions = {}): FileStore {
  if (typeof path !== 'string' || path === '' || path.includes('\0')) {
    throw new TypeError(`fileStore: path must be a non-empty file path; got ${typeof path === 'string' ? JSON.stringify(path) : typeof path}.`);
  }
  if (typeof options !== 'object' || options === null) throw new TypeError('fileStore: options must be an object.');
  const userClock = options.clock ?? Date.now;
  if (typeof userClock !== 'function') throw new TypeError('fileStore: options.clock must be a function returning ms since the epoch.');
  /** Whole milliseconds (the files hold integers; a clock returning a fraction is floored). */
  const clock = () => Math.floor(userClock());
  const lockTimeoutMs = options.lockTimeoutMs ?? DEFAULT_LOCK_TIMEOUT_MS;
  if (typeof lockTimeoutMs !== 'number' || !(lockTimeoutMs >= 0) || !Number.isFinite(lockTimeoutMs)) {
    throw new TypeError(`fileStore: options.lockTimeoutMs must be a non-negative number of ms; got ${String(lockTimeoutMs)}.`);
  }
  const maxClockSkewMs = options.maxClockSkewMs ?? DEFAULT_MAX_CLOCK_SKEW_MS;
  if (typeof maxClockSkewMs !== 'number' || !(maxClockSkewMs >= 0) || !Number.isFinite(maxClockSkewMs)) {
    throw new TypeError(`fileStore: options.maxClockSkewMs must be a non-negative number of ms; got ${String(maxClockSkewMs)}.`);
  }

  const files = ledgerFiles(path);
  const verifyOptions = (): VerifyOptions => ({ now: clock(), maxClockSkewMs });
  /** Whether this store object has verified the journal (its end on opening, or all of it). */
  let verified = false;
  /** The newest journal link this store object has seen: the ledger must never go back from it. */
  let lastSeen: JournalLink | undefined;
  /** The ledger as this store object last verified or wrote it: reused while the files are byte-identical. */
  let current: LedgerSnapshot | undefined;
  /** What a verification of the whole journal by this store object found wrong: nothing is paid any more. */
  let doubt: FileLedgerError | undefined;

  /**
   * A full verification (`report()`, `verify()`) found the ledger corrupt: from now on no
   * operation of this store object, nor of any process that opens the ledger, pays, until an
   * operator moves the files aside; `<path>.quarantine` says why for the other processes.
   */
  const quarantine = async (error: unknown): Promise<never> => {
    if (error instanceof FileLedgerError && error.problem === 'corrupt') {
      doubt = error;
      // The finding alone, without the recovery advice every ledger error repeats.
      const reason = /failed verification: ([\s\S]*?)\. Nothing is paid/.exec(error.message)?.[1] ?? error.message;
      const note = `${JSON.stringify({ time: new Date(clock()).toISOString(), reason })}\n`;
      await writeFile(files.quarantine, note, { mode: 0o600 }).catch(() => undefined);
    }
    throw error;
  };

  /** Refuses to go on while this or another process found the ledger corrupt (one read; usually ENOENT). */
  const checkQuarantine = async () => {
    if (doubt) throw doubt;
    const note = await readFile(files.quarantine, 'utf8').catch((error: unknown) => {
      if ((error as { code?: unknown }).code === 'ENOENT') return undefined;
      throw error;
    });
    if (note === undefined) return;
    let reason = note.slice(0, 300);
    try {
      reason = String((JSON.parse(note) as { reason?: unknown }).reason ?? reason).slice(0, 300);
    } catch {
      // A quarantine file that is not ours still stops every payment; its text is shown as it is.
    }
    throw corruptLedger(files.state, `a full verification found it corrupt and quarantined it (${files.quarantine}, to be moved aside with the other files): ${reason}`);
  };

  const locked = async <T>(work: () => Promise<T>): Promise<T> => {
    await mkdir(files.dir, { recursive: true, mode: 0o700 });
    const lock = await acquireFileLock(files.lock, { timeoutMs: lockTimeoutMs, ledgerPath: files.state });
    let result: T;
    try {
      result = await work();
    } catch (error) {
      await lock.release().catch(() => undefined);
      throw error;
    }
    await lock.release();
    return result;
  };

  /** Within one store object, the journal only grows: a shorter or different one was restored or replaced. */
  const checkContinuity = (link: JournalLink) => {
    if (!lastSeen) return;
    if (link.records < lastSeen.records) {
      const what = link.records === 0 ? 'the ledger files disappeared' : `the ledger went back from ${lastSeen.records} to ${link.records} records`;
      throw corruptLedger(files.state, `${what} while this process was using them (restored from a copy, moved or replaced)`);
    }
    if (link.records === lastSeen.records && link.last !== lastSeen.last) {
      throw corruptLedger(files.state, 'the ledger was replaced by another one while this process was using it');
    }
  };

  /** The first operation's extra check, in bounded work: the journal's end, or all of it while it is short. */
  const verifyOpening = async (snapshot: LedgerSnapshot) => {
    if (snapshot.link.bytes <= OPENING_CHECK_BYTES) await scanJournal(files, snapshot, verifyOptions());
    else await verifyJournalTail(files, snapshot.link, verifyOptions(), OPENING_CHECK_BYTES);
  };

  const runBatch = async (batch: Operation[]) => {
    try {
      const outcomes = await locked(async () => {
        await checkQuarantine();
        const snapshot = await loadLedger(files, verifyOptions(), current);
        checkContinuity(snapshot.link);
        if (!verified) {
          await verifyOpening(snapshot);
          verified = true;
        }
        const context: BatchContext = { state: snapshot.state, stateText: snapshot.stateText, link: snapshot.link, time: 0, lines: [] };
        const results = batch.map((operation) => {
          try {
            return { ok: true as const, value: operation.run(context) };
          } catch (error) {
            return { ok: false as const, error };
          }
        });
        if (context.lines.length > 0 || snapshot.completed) {
          // The state object was changed in place: the snapshot no longer describes it, whatever happens next.
          current = undefined;
          current = await commitLedger(files, snapshot, context, context.lines, clock());
        } else {
          // Nothing recorded: the state is as loaded (or was put back from its text).
          current = context.state === snapshot.state ? snapshot : { ...snapshot, state: context.state };
        }
        lastSeen = context.link;
        return results;
      });
      outcomes.forEach((outcome, i) => (outcome.ok ? batch[i]!.resolve(outcome.value) : batch[i]!.reject(outcome.error)));
    } catch (error) {
      for (const operation of batch) operation.reject(error);
    }
  };

  const push = batchQueue(runBatch, MAX_BATCH);
  const enqueue = <T>(run: (context: BatchContext) => T): Promise<T> =>
    new Promise<T>((resolve, reject) => push({ run, resolve: resolve as (value: unknown) => void, reject }));

  /**
   * Runs an operation that changes `context.state` in place. If it throws (e.g. a record that
   * cannot be written), the state is put back as it was.
   */
  const changing = <T>(context: BatchContext, run: () => T): T => {
    try {
      return run();
    } catch (error) {
      rollback(context);
      throw error;
    }
  };

  /** Records the change just made to `context.state` (serialised once: hashed into the line, then written as the state file). */
  const record = (context: BatchContext, event: JournalEvent, time: number) => {
    const stateText = ledgerStateJson(context.state);
    const { line, link } = createJournalRecord(event, context.link, time, sha256Hex(stateText));
    context.stateText = stateText;
    context.link = link;
    context.time = time;
    context.lines.push(line);
  };

  /** Applies a release or settlement and records it. */
  const apply = (context: BatchContext, event: Exclude<JournalEvent, { type: 'reserve' }>, time: number) =>
    changing(context, () => {
      const why = replayEvent(context.state, event, time);
      if (why) throw new Error(`fileStore: ${why}`);
      record(context, event, time);
    });

  /** A report and a full verification read the journal outside the lock, up to the link read under it. */
  const snapshotForScan = () => enqueue((context) => ({ stateText: context.stateText, link: context.link }));

  return {
    reserve(request) {
      return enqueue((context) => {
        const existing = Object.hasOwn(context.state.pending, request.id) ? context.state.pending[request.id] : undefined;
        if (existing) return { ok: true as const, time: existing.time };
        const now = clock();
        const event = reserveEventOf(request);
        return changing(context, () => {
          const result = reserveIn(context.state, reserveRequestOf(event), now);
          // A refused check may still have dropped expired buckets: no record, so the state goes back.
          if (result.ok) record(context, event, now);
          else rollback(context);
          return result;
        });
      });
    },
    release(id) {
      return enqueue((context) => {
        if (!Object.hasOwn(context.state.pending, id)) return false;
        apply(context, { type: 'release', id }, clock());
        return true;
      });
    },
    settle(id, status, transaction, authorization) {
      return enqueue((context) => {
        const hold = status !== 'settled' && Object.hasOwn(context.state.pending, id) ? { hold: true as const } : {};
        const where = authorization ? { authorization: { from: authorization.from, nonce: authorization.nonce, validBefore: authorization.validBefore } } : {};
        apply(context, { type: 'settle', id, status, ...(transaction ? { transaction } : {}), ...where, ...hold }, clock());
      });
    },
    usage(checks) {
      // Reading a counter drops its expired buckets: on a copy, never on the state.
      return enqueue((context) =>
        usageIn(
          copyCounters(
            context.state,
            checks.map((check) => check.key),
          ),
          checks,
          clock(),
        ),
      );
    },
    async verify() {
      const snapshot = await snapshotForScan();
      await scanJournal(files, snapshot, verifyOptions()).catch(quarantine);
      verified = true;
      return { records: snapshot.link.records, bytes: snapshot.link.bytes };
    },
    async report(query = {}) {
      const snapshot = await snapshotForScan();
      const records = new Map<string, SpendRecord>();
      const keep = query.limit !== undefined && query.limit > 0 ? query.limit : Infinity;
      const scanned = scanJournal(files, snapshot, verifyOptions(), (record) => {
        if (record.type === 'reserve') {
          if (records.has(record.id) || (query.since !== undefined && record.time < query.since)) return;
          records.set(record.id, { ...record.record, id: record.id, time: record.time, status: 'reserved' });
          if (records.size > keep) records.delete(records.keys().next().value as string);
          return;
        }
        const current = records.get(record.id);
        // A release is final: a settle written after it (an answer that came late) changes nothing.
        if (!current || current.status === 'released') return;
        if (record.type === 'release') records.set(record.id, { ...current, status: 'released' });
        else {
          records.set(record.id, {
            ...current,
            status: record.status,
            ...(record.transaction ? { transaction: record.transaction } : {}),
            ...(record.authorization ? { authorization: record.authorization } : {}),
          });
        }
      });
      await scanned.catch(quarantine);
      verified = true;
      const all = [...records.values()];
      return query.limit === undefined ? all : all.slice(-query.limit);
    },
  };
}

/** Puts the state back as its canonical text describes it (the text of a state verified or written by this store object). */
function rollback(context: BatchContext): void {
  context.state = JSON.parse(context.stateText) as LedgerState;
}

/**
 * A copy of `state` whose counters named by `keys` (and map of pending reservations) may be
 * changed; everything else is shared with `state`.
 */
function copyCounters(state: LedgerState, keys: readonly string[]): LedgerState {
  const counters = { ...state.counters };
  for (const key of keys) {
    if (Object.hasOwn(counters, key)) counters[key] = { ...counters[key] };
  }
  return { version: 1, counters, pending: { ...state.pending } };
}
