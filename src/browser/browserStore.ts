import * as z from 'zod/mini';
import { spendAuthorizationSchema } from '../budget/spendAuthorizationSchema.js';
import { emptyLedgerState, LEDGER_STATE_VERSION, releaseIn, reserveIn, settleIn, usageIn, type LedgerState } from '../budget/ledgerState.js';
import type { ReserveResult, SpendRecord, SpendStore } from '../budget/store.js';
import { decimal, ledgerStateSchema, mapKey, parseStoredJson } from '../budget/ledgerStateSchema.js';

/** Options of {@link browserStore}. */
export interface BrowserStoreOptions {
  /**
   * Prefix of the ledger's key (`<prefix>ledger`) and of its Web Lock's name. Stores with the same
   * prefix in one origin share one budget; another prefix is another budget.
   * Default `'x402-autopay:'`.
   */
  readonly prefix?: string;
  /** Most records kept for the report, newest kept (default 1,000). Limits are unaffected. */
  readonly maxRecords?: number;
  /** Longest wait for the lock, in ms, before the operation fails (and nothing is paid). Default 10,000. */
  readonly lockTimeoutMs?: number;
  /** Clock in ms since the epoch (default `Date.now`). */
  readonly clock?: () => number;
}

/** The IndexedDB database and object store that hold every ledger of the origin, one record per prefix. */
const BROWSER_STORE_DATABASE = 'x402-autopay';
const OBJECT_STORE = 'ledgers';
const DB_VERSION = 1;

/** What is kept under `<prefix>ledger`, as JSON text: the ledger state and the newest records of the report. */
interface StoredLedger {
  ledger: LedgerState;
  records: SpendRecord[];
}

const DEFAULT_PREFIX = 'x402-autopay:';
const DEFAULT_MAX_RECORDS = 1_000;
const DEFAULT_LOCK_TIMEOUT_MS = 10_000;

const integer = z.number().check(z.int());
const text = z.string().check(z.maxLength(4096));

const recordSchema = z.strictObject({
  id: mapKey,
  time: integer,
  host: text,
  payee: text,
  amount: decimal,
  asset: text,
  network: text,
  status: z.enum(['reserved', 'settled', 'failed', 'unknown', 'released']),
  transaction: z.optional(text),
  authorization: z.optional(spendAuthorizationSchema),
});

const storedSchema = z.strictObject({ ledger: ledgerStateSchema, records: z.array(recordSchema) });

/**
 * A spend store for browsers, shared by every tab, frame and worker of one origin and kept across
 * reloads and browser restarts. Each operation runs under an exclusive Web Lock
 * (`navigator.locks`, named `<prefix>ledger`) and, inside it, in one IndexedDB transaction that
 * reads the ledger, validates it, applies the change and writes it back (durability `strict`), so
 * tabs and workers paying at once never overspend between them.
 *
 * Why IndexedDB and not localStorage: Chromium keeps a copy of localStorage in each tab's process
 * and passes writes to the other tabs asynchronously, so even under an exclusive lock a tab can
 * read a value another tab has already replaced (measured in Chromium 156: two tabs incrementing
 * a localStorage counter under one Web Lock lost 16% of the increments; through IndexedDB, none).
 * IndexedDB transactions always see every committed write. Workers have IndexedDB too; they have no
 * localStorage.
 *
 * **The browser ledger is advisory.** Any script running in the origin (your code, a dependency,
 * an injected script, an extension) and the user (devtools, "clear site data") can read, rewrite
 * or delete it: it keeps an honest app within its budget; it does not stop a hostile script.
 * Real caps belong where the page cannot reach them: on chain (a spend permission, or a session
 * key limited by a contract) or on a server that signs. Never keep a raw private key in
 * localStorage or IndexedDB either (THREATS I3): use an external wallet or a server signer.
 *
 * Fails closed: if the stored ledger is not valid JSON or does not match the expected shape,
 * every operation throws and the client pays nothing (`budget_unavailable`) until the record
 * `<prefix>ledger` of the IndexedDB database `x402-autopay` (object store `ledgers`) is deleted,
 * which also forgets what was spent. A storage error (quota, a blocked or closed database) or a
 * lock not granted within `lockTimeoutMs` also throws.
 *
 * @param options - key prefix, report size, lock timeout, clock; see {@link BrowserStoreOptions}.
 * @throws Error at once when `navigator.locks` (the Web Locks API: secure contexts only, https or
 * localhost) or `indexedDB` is not available.
 * @throws TypeError at once when an option has the wrong shape.
 *
 * @example
 * ```ts
 * import { wrapFetch, browserStore } from 'x402-autopay/browser';
 * import { createWalletClient, custom } from 'viem';
 * import { base } from 'viem/chains';
 *
 * const [address] = await window.ethereum.request({ method: 'eth_requestAccounts' });
 * const wallet = createWalletClient({ account: address, chain: base, transport: custom(window.ethereum) });
 * const paidFetch = wrapFetch(fetch, wallet, {
 *   budget: { perRequest: '0.05', daily: '1.00' },
 *   store: browserStore({ prefix: 'my-app:' }),
 * });
 * ```
 */
export function browserStore(options: BrowserStoreOptions = {}): SpendStore {
  const prefix = options.prefix ?? DEFAULT_PREFIX;
  if (typeof prefix !== 'string') throw new TypeError(`browserStore: options.prefix must be a string; got ${typeof prefix}.`);
  const maxRecords = options.maxRecords ?? DEFAULT_MAX_RECORDS;
  if (!Number.isSafeInteger(maxRecords) || maxRecords < 1) {
    throw new TypeError(`browserStore: options.maxRecords must be a positive integer; got ${String(maxRecords)}.`);
  }
  const lockTimeoutMs = options.lockTimeoutMs ?? DEFAULT_LOCK_TIMEOUT_MS;
  if (typeof lockTimeoutMs !== 'number' || !(lockTimeoutMs > 0) || !Number.isFinite(lockTimeoutMs)) {
    throw new TypeError(`browserStore: options.lockTimeoutMs must be a positive number of ms; got ${String(lockTimeoutMs)}.`);
  }
  const clock = options.clock ?? Date.now;
  if (typeof clock !== 'function') throw new TypeError('browserStore: options.clock must be a function returning ms since the epoch.');

  const locks = lockManager();
  const factory = indexedDbOrThrow();
  const key = `${prefix}ledger`;
  let connection: Promise<IDBDatabase> | undefined;
  const database = (): Promise<IDBDatabase> =>
    (connection ??= openDatabase(factory).then(
      (db) => {
        // Let a deletion or an upgrade elsewhere proceed; the next operation opens it again.
        db.onversionchange = () => {
          db.close();
          connection = undefined;
        };
        db.onclose = () => {
          connection = undefined;
        };
        return db;
      },
      (error: unknown) => {
        connection = undefined;
        throw error;
      },
    ));

  /** Runs `change` on the stored ledger under the lock, in one transaction; writes it back when it says so. */
  const withState = <T>(mode: IDBTransactionMode, change: (state: StoredLedger) => { result: T; write: boolean }): Promise<T> =>
    locks.request(key, { mode: 'exclusive', signal: AbortSignal.timeout(lockTimeoutMs) }, async () =>
      transact(await database(), mode, key, change),
    ) as Promise<T>;

  /** Applies a patch to a record; false when the record is no longer kept. */
  const update = (state: StoredLedger, id: string, patch: Partial<SpendRecord>): boolean => {
    const index = state.records.findIndex((record) => record.id === id);
    if (index < 0) return false;
    state.records[index] = { ...state.records[index]!, ...patch };
    return true;
  };

  return {
    reserve(request) {
      return withState<ReserveResult>('readwrite', (state) => {
        const result = reserveIn(state.ledger, request, clock());
        if (!result.ok) return { result, write: false };
        if (!state.records.some((record) => record.id === request.id)) {
          state.records.push({ ...request.record, id: request.id, time: result.time, status: 'reserved' });
          if (state.records.length > maxRecords) state.records.splice(0, state.records.length - maxRecords);
        }
        return { result, write: true };
      });
    },
    release(id) {
      return withState('readwrite', (state) => {
        const released = releaseIn(state.ledger, id);
        if (released) update(state, id, { status: 'released' });
        return { result: released, write: released };
      });
    },
    settle(id, status, transaction, authorization) {
      return withState('readwrite', (state) => {
        if (state.records.some((record) => record.id === id && record.status === 'released')) return { result: undefined, write: false };
        const pending = state.ledger.pending[id] !== undefined;
        settleIn(state.ledger, id, status !== 'settled');
        const updated = update(state, id, { status, ...(transaction ? { transaction } : {}), ...(authorization ? { authorization: { from: authorization.from, nonce: authorization.nonce, validBefore: authorization.validBefore } } : {}) });
        return { result: undefined, write: pending || updated };
      });
    },
    usage(checks) {
      return withState('readonly', (state) => ({ result: usageIn(state.ledger, checks, clock()), write: false }));
    },
    report(query = {}) {
      return withState('readonly', (state) => {
        const all = state.records.filter((r) => query.since === undefined || r.time >= query.since);
        return { result: query.limit === undefined ? all : all.slice(-query.limit), write: false };
      });
    },
  };
}

function lockManager(): LockManager {
  const locks = (globalThis as { navigator?: { locks?: LockManager } }).navigator?.locks;
  if (!locks || typeof locks.request !== 'function') {
    throw new Error(
      'browserStore: navigator.locks (the Web Locks API) is not available here, so tabs could not share the budget safely. ' +
        'Current browsers have it in secure contexts only (https, or http on localhost). Outside a browser use memoryStore() or fileStore().',
    );
  }
  return locks;
}

function indexedDbOrThrow(): IDBFactory {
  let factory: IDBFactory | undefined;
  try {
    factory = (globalThis as { indexedDB?: IDBFactory }).indexedDB;
  } catch (cause) {
    throw new Error('browserStore: indexedDB is not accessible here (blocked by the browser or a sandbox), so the budget cannot be kept.', { cause });
  }
  if (!factory || typeof factory.open !== 'function') {
    throw new Error('browserStore: indexedDB is not available here, so the budget cannot be kept. Use memoryStore() outside a browser.');
  }
  return factory;
}

function openDatabase(factory: IDBFactory): Promise<IDBDatabase> {
  return new Promise((resolve, reject) => {
    const request = factory.open(BROWSER_STORE_DATABASE, DB_VERSION);
    request.onupgradeneeded = () => {
      if (!request.result.objectStoreNames.contains(OBJECT_STORE)) request.result.createObjectStore(OBJECT_STORE);
    };
    request.onsuccess = () => resolve(request.result);
    request.onerror = () =>
      reject(
        request.error?.name === 'VersionError'
          ? newerBuild(`the IndexedDB database "${BROWSER_STORE_DATABASE}" is at a version above ${DB_VERSION}`)
          : new Error(`browserStore: could not open the IndexedDB database "${BROWSER_STORE_DATABASE}"`, { cause: request.error }),
      );
    request.onblocked = () => reject(new Error(`browserStore: opening the IndexedDB database "${BROWSER_STORE_DATABASE}" is blocked by another connection`));
  });
}

/** One transaction: read `key`, validate it, let `change` mutate it, write it back if asked. Rejects, writing nothing, on any failure. */
function transact<T>(db: IDBDatabase, mode: IDBTransactionMode, key: string, change: (state: StoredLedger) => { result: T; write: boolean }): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const tx = mode === 'readwrite' ? db.transaction(OBJECT_STORE, mode, { durability: 'strict' }) : db.transaction(OBJECT_STORE, mode);
    const objects = tx.objectStore(OBJECT_STORE);
    let outcome: { ok: true; value: T } | { ok: false; error: unknown } | undefined;
    const read = objects.get(key);
    read.onsuccess = () => {
      try {
        const state = decode(read.result, key);
        const { result, write } = change(state);
        if (write) objects.put(JSON.stringify(state), key);
        outcome = { ok: true, value: result };
      } catch (error) {
        outcome = { ok: false, error };
        tx.abort();
      }
    };
    tx.oncomplete = () => {
      if (outcome?.ok) resolve(outcome.value);
      else reject(new Error('browserStore: the IndexedDB transaction ended without a result'));
    };
    tx.onabort = () => {
      if (outcome && !outcome.ok) return reject(outcome.error);
      const cause = tx.error;
      reject(new Error(`browserStore: the IndexedDB transaction failed (${cause ? `${cause.name}: ${cause.message}` : 'aborted'}), so nothing is counted`, { cause }));
    };
  });
}

/** Validates the stored ledger; an empty one when there is none. Throws when it is corrupt. */
function decode(stored: unknown, key: string): StoredLedger {
  if (stored === undefined) return { ledger: emptyLedgerState(), records: [] };
  const fail = (why: string): never => {
    throw new Error(
      `browserStore: the stored ledger "${key}" is corrupt (${why}), so the budget cannot be checked and nothing is paid. ` +
        `Something in this origin edited it; deleting it (IndexedDB "${BROWSER_STORE_DATABASE}", object store "${OBJECT_STORE}") starts over and forgets what was spent.`,
    );
  };
  if (typeof stored !== 'string') return fail(`a ${stored === null ? 'null' : typeof stored} where JSON text belongs`);
  const parsed = parseStoredJson(stored, storedSchema);
  if (parsed.ok) return parsed.value as StoredLedger;
  const newer = newerVersion(stored);
  if (newer !== undefined) throw newerBuild(`the stored ledger "${key}" is in format ${newer} (this page reads format ${LEDGER_STATE_VERSION})`);
  return fail(parsed.why);
}

/** The error for data a newer x402-autopay wrote: `what` it found, and what to do. */
function newerBuild(what: string): Error {
  return new Error(
    `browserStore: ${what}, written by a newer x402-autopay (another tab of this site on a newer build?). ` +
      'Nothing is paid from this page and nothing was written: reload it. Do not delete the ledger: it holds what was spent.',
  );
}

/** The format version a stored ledger declares (`ledger.version`) when it is a whole number above this version's; undefined otherwise. */
function newerVersion(stored: string): number | undefined {
  try {
    const version = (JSON.parse(stored) as { ledger?: { version?: unknown } } | null)?.ledger?.version;
    return typeof version === 'number' && Number.isSafeInteger(version) && version > LEDGER_STATE_VERSION ? version : undefined;
  } catch {
    return undefined;
  }
}
