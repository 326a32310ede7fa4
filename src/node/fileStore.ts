import { mkdir } from 'node:fs/promises';
import { reserveIn, usageIn, type LedgerState } from '../budget/ledgerState.js';
import type { SpendRecord, SpendStore } from '../budget/store.js';
import { batchQueue } from './batchQueue.js';
import { commitLedger } from './commitLedger.js';
import { createJournalRecord } from './createJournalRecord.js';
import { acquireFileLock } from './fileLock.js';
import { corruptLedger } from './FileLedgerError.js';
import type { JournalEvent, JournalLink } from './ledgerFileSchema.js';
import { ledgerFiles } from './ledgerFiles.js';
import { loadLedger, type VerifyOptions } from './loadLedger.js';
import { replayEvent, reserveEventOf, reserveRequestOf } from './replayEvent.js';
import { scanJournal } from './scanJournal.js';

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

/** The ledger while a batch holds the lock: the state, the journal link, the lines to append. */
interface BatchContext {
  state: LedgerState;
  link: JournalLink;
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
 * Every operation takes the lock, verifies the state file (checksum, schema, journal length, the
 * journal's last record, in constant time), applies the change with the shared budget
 * arithmetic, appends the journal record and fsyncs it, then replaces the state file atomically
 * (temp file, fsync, rename, directory fsync). Concurrent calls in one process are grouped under
 * one lock and one write. The first operation of each store object also verifies the whole
 * journal chain and replays it against the state.
 *
 * **Fails closed.** Truncated, edited, reordered, re-checksummed, foreign or future-dated files,
 * a lock not obtained in time, or any file system error make the operation throw a
 * {@link FileLedgerError}; the client then pays nothing (`budget_unavailable`). The files are
 * never repaired, with one exception: whole, chained, consistent records past the state's
 * recorded end (a crash between the journal append and the state write) are applied, so a
 * `kill -9` never bricks the ledger. To recover from corruption, an operator stops the
 * processes, keeps the files for audit, moves `<path>` and `<path>.journal` aside (a fresh
 * ledger forgets what was spent in the current windows) and restarts.
 *
 * Missing files are a fresh, empty ledger; the directory is created with mode 0700 and the files
 * with 0600. The checksums and hash chain detect corruption and edits by anyone who does not
 * rewrite both files consistently; someone who can write the files and recompute every hash can
 * still change them: the hard cap for an untrusted host belongs on chain (a spend permission or
 * a session key). Local disks only: the lock relies on `link()` and on process ids of this host.
 *
 * @param path - the state file, e.g. `./x402-ledger.json` (relative to the working directory).
 * @param options - clock, lock timeout, clock skew; see {@link FileStoreOptions}.
 * @returns the store, for `wrapFetch`'s `options.store`.
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
export function fileStore(path: string, options: FileStoreOptions = {}): SpendStore {
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
  /** Whether this store object has verified the whole journal once. */
  let verified = false;
  /** The newest journal link this store object has seen: the ledger must never go back from it. */
  let lastSeen: JournalLink | undefined;

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

  const verifyHistory = async () => {
    const snapshot = await locked(() => loadLedger(files, verifyOptions()));
    checkContinuity(snapshot.link);
    await scanJournal(files, snapshot, verifyOptions());
    verified = true;
    lastSeen = snapshot.link;
  };

  const runBatch = async (batch: Operation[]) => {
    try {
      if (!verified) await verifyHistory();
      const outcomes = await locked(async () => {
        const snapshot = await loadLedger(files, verifyOptions());
        checkContinuity(snapshot.link);
        const context: BatchContext = { state: snapshot.state, link: snapshot.link, lines: [] };
        const results = batch.map((operation) => {
          try {
            return { ok: true as const, value: operation.run(context) };
          } catch (error) {
            return { ok: false as const, error };
          }
        });
        if (context.lines.length > 0 || snapshot.completed) await commitLedger(files, snapshot, context, context.lines, clock());
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

  /** Applies an event to a copy of the state, records it, and only then adopts the copy. */
  const apply = (context: BatchContext, event: JournalEvent, time: number, changed?: LedgerState) => {
    const draft = changed ?? structuredClone(context.state);
    if (!changed) {
      const why = replayEvent(draft, event, time);
      if (why) throw new Error(`fileStore: ${why}`);
    }
    const { line, link } = createJournalRecord(event, context.link, time, draft);
    context.state = draft;
    context.link = link;
    context.lines.push(line);
  };

  return {
    reserve(request) {
      return enqueue((context) => {
        const existing = Object.hasOwn(context.state.pending, request.id) ? context.state.pending[request.id] : undefined;
        if (existing) return { ok: true as const, time: existing.time };
        const now = clock();
        const event = reserveEventOf(request);
        const draft = structuredClone(context.state);
        const result = reserveIn(draft, reserveRequestOf(event), now);
        if (result.ok) apply(context, event, now, draft);
        return result;
      });
    },
    release(id) {
      return enqueue((context) => {
        if (Object.hasOwn(context.state.pending, id)) apply(context, { type: 'release', id }, clock());
      });
    },
    settle(id, status, transaction) {
      return enqueue((context) => {
        apply(context, transaction ? { type: 'settle', id, status, transaction } : { type: 'settle', id, status }, clock());
      });
    },
    usage(checks) {
      return enqueue((context) => usageIn(structuredClone(context.state), checks, clock()));
    },
    async report(query = {}) {
      const snapshot = await enqueue((context) => ({ state: structuredClone(context.state), link: context.link }));
      const records = new Map<string, SpendRecord>();
      const keep = query.limit !== undefined && query.limit > 0 ? query.limit : Infinity;
      await scanJournal(files, snapshot, verifyOptions(), (record) => {
        if (record.type === 'reserve') {
          if (records.has(record.id) || (query.since !== undefined && record.time < query.since)) return;
          records.set(record.id, { ...record.record, id: record.id, time: record.time, status: 'reserved' });
          if (records.size > keep) records.delete(records.keys().next().value as string);
          return;
        }
        const current = records.get(record.id);
        if (!current) return;
        if (record.type === 'release') records.set(record.id, { ...current, status: 'released' });
        else records.set(record.id, record.transaction ? { ...current, status: record.status, transaction: record.transaction } : { ...current, status: record.status });
      });
      verified = true;
      const all = [...records.values()];
      return query.limit === undefined ? all : all.slice(-query.limit);
    },
  };
}
