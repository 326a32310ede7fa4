import { randomUUID } from 'node:crypto';
import { link, readFile, rename, stat, unlink, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { FileLedgerError } from './FileLedgerError.js';

/** A cross-process lock held by this process. */
export interface FileLock {
  /** Gives the lock back; throws {@link FileLedgerError} (`lock_lost`) when it is no longer ours. */
  release(): Promise<void>;
}

/** Options of {@link acquireFileLock}. */
export interface FileLockOptions {
  /** Longest wait for a lock held by a live process, in ms. */
  readonly timeoutMs: number;
  /** The ledger the lock protects, named in errors. */
  readonly ledgerPath: string;
}

/** Who holds a lock: what the lock file contains. */
interface LockOwner {
  readonly pid: number;
  readonly host: string;
  readonly token: string;
  readonly since: number;
}

/** A lock file that does not parse is not one of ours (ours appear whole); older than this, it is taken over. */
const UNREADABLE_STALE_MS = 5_000;
/** Longest pause between two attempts, in ms: short, so a released lock is taken quickly. */
const MAX_BACKOFF_MS = 8;

/**
 * Takes an exclusive lock shared by every process of this machine: the file `lockPath`, holding
 * the owner's pid, host name and a random token. The file is written whole under a private name
 * and then hard-linked to `lockPath`, which fails when the lock exists, so a lock never appears
 * half written. While the lock is held by another process, retries after a short random pause;
 * a lock whose owner is a dead process of this host (or that is unreadable and older than 5 s)
 * is moved aside and taken over. Gives up after `timeoutMs` with a {@link FileLedgerError}
 * (`lock_timeout`) naming the holder.
 *
 * Known limits: a lock held by a process of another host (a shared network disk) is never
 * taken over; a pid reused by a new process after its owner died keeps the lock until an
 * operator deletes the file.
 *
 * @param lockPath - the lock file, e.g. `<ledger>.lock`; its directory must exist.
 * @param options - timeout and the ledger named in errors.
 * @returns the held lock.
 * @throws FileLedgerError when the lock is not obtained in time; file system errors as they come.
 *
 * @example
 * ```ts
 * import { acquireFileLock } from './fileLock.js';
 * const lock = await acquireFileLock('/var/lib/agent/ledger.json.lock', { timeoutMs: 10_000, ledgerPath: '/var/lib/agent/ledger.json' });
 * try {
 *   // read, change and write the ledger
 * } finally {
 *   await lock.release();
 * }
 * ```
 */
export async function acquireFileLock(lockPath: string, options: FileLockOptions): Promise<FileLock> {
  const token = randomUUID();
  const owner: LockOwner = { pid: process.pid, host: hostname(), token, since: Date.now() };
  const text = JSON.stringify(owner);
  const mine = `${lockPath}.${process.pid}.${token}`;
  await writeFile(mine, text, { mode: 0o600, flag: 'wx' });
  const deadline = performance.now() + options.timeoutMs;
  let backoff = 1;
  try {
    for (;;) {
      try {
        await link(mine, lockPath);
        return { release: () => releaseLock(lockPath, text, options.ledgerPath) };
      } catch (error) {
        if (codeOf(error) !== 'EEXIST') throw error;
      }
      const holder = await readHolder(lockPath);
      if (holder && (await isStale(lockPath, holder.owner))) {
        await breakLock(lockPath, holder.text, token);
        continue;
      }
      if (performance.now() >= deadline) throw lockTimeout(lockPath, options, holder?.owner);
      await sleep(1 + Math.random() * backoff);
      backoff = Math.min(backoff * 2, MAX_BACKOFF_MS);
    }
  } finally {
    await unlink(mine).catch(() => undefined);
  }
}

async function releaseLock(lockPath: string, text: string, ledgerPath: string): Promise<void> {
  const current = await readFile(lockPath, 'utf8').catch(() => undefined);
  if (current !== text) {
    throw new FileLedgerError({
      problem: 'lock_lost',
      path: ledgerPath,
      message: `fileStore: the lock ${lockPath} was removed or taken by someone else while this process held it, so the last change to the ledger may not have been exclusive. Nothing more is paid on its strength; the next operation verifies the ledger again.`,
    });
  }
  await unlink(lockPath);
}

/** The lock file's text and owner (undefined owner when it does not parse); undefined when there is no lock file. */
async function readHolder(lockPath: string): Promise<{ text: string; owner: LockOwner | undefined } | undefined> {
  let text: string;
  try {
    text = await readFile(lockPath, 'utf8');
  } catch (error) {
    if (codeOf(error) === 'ENOENT') return undefined;
    throw error;
  }
  return { text, owner: parseOwner(text) };
}

function parseOwner(text: string): LockOwner | undefined {
  try {
    const value = JSON.parse(text) as Record<string, unknown>;
    const { pid, host, token, since } = value;
    if (Number.isSafeInteger(pid) && (pid as number) > 0 && typeof host === 'string' && typeof token === 'string' && typeof since === 'number') {
      return { pid: pid as number, host, token, since };
    }
  } catch {
    // not ours
  }
  return undefined;
}

async function isStale(lockPath: string, owner: LockOwner | undefined): Promise<boolean> {
  if (owner === undefined) {
    const info = await stat(lockPath).catch(() => undefined);
    return info !== undefined && Date.now() - info.mtimeMs > UNREADABLE_STALE_MS;
  }
  if (owner.host !== hostname() || owner.pid === process.pid) return false;
  return !isAlive(owner.pid);
}

/** Whether a process with this pid exists (EPERM: it exists but belongs to another user). */
function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return codeOf(error) === 'EPERM';
  }
}

/**
 * Moves a stale lock aside (rename is atomic: of several processes breaking the same lock, one
 * wins). If what was moved is not the stale lock that was examined (it was replaced meanwhile by
 * a live one), puts it back when the place is still free.
 */
async function breakLock(lockPath: string, staleText: string, token: string): Promise<void> {
  const aside = `${lockPath}.stale.${token}`;
  try {
    await rename(lockPath, aside);
  } catch (error) {
    if (codeOf(error) === 'ENOENT') return;
    throw error;
  }
  const moved = await readFile(aside, 'utf8').catch(() => undefined);
  if (moved !== staleText) await link(aside, lockPath).catch(() => undefined);
  await unlink(aside).catch(() => undefined);
}

function lockTimeout(lockPath: string, options: FileLockOptions, owner: LockOwner | undefined): FileLedgerError {
  const who = owner ? `process ${owner.pid} on ${owner.host} (alive) since ${new Date(owner.since).toISOString()}` : 'an unknown owner';
  return new FileLedgerError({
    problem: 'lock_timeout',
    path: options.ledgerPath,
    message:
      `fileStore: could not take the lock ${lockPath} within ${options.timeoutMs} ms: it is held by ${who}. Nothing is paid. ` +
      'If that process hangs, stop it; if no process is using the ledger, delete the lock file.',
  });
}

function codeOf(error: unknown): unknown {
  return typeof error === 'object' && error !== null ? (error as { code?: unknown }).code : undefined;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
