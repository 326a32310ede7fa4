/**
 * The cross-process lock of the file ledger: a dead owner's lock is taken over, a live owner's
 * lock times out and nothing is paid; processes and store objects sharing one ledger never
 * overspend between them.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { access, readFile, utimes, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { useMswServer } from '../support/msw.js';
import { expectNoPayment, expectPayment, fileStore, readLines, reserveRequest, useTempDirs } from '../support/fileLedger.js';

const server = useMswServer();
const tempDir = useTempDirs();
const children: ChildProcess[] = [];
afterEach(() => {
  for (const child of children.splice(0)) child.kill('SIGKILL');
});

const lockOf = (pid: number, host = hostname()) => JSON.stringify({ pid, host, token: 'someone-else', since: Date.now() - 1_000 });

/** A process that has exited (and been reaped): its pid is free. */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '']);
  await new Promise((resolve) => child.once('exit', resolve));
  return child.pid!;
}

/** A process that stays alive until the test ends. */
async function livePid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)']);
  children.push(child);
  await new Promise((resolve) => child.once('spawn', resolve));
  return child.pid!;
}

const exists = (path: string) => access(path).then(() => true, () => false);

describe('fileStore lock', () => {
  it('a lock left by a dead process is taken over at once, and the payment goes through', async () => {
    const path = join(await tempDir(), 'ledger.json');
    await writeFile(`${path}.lock`, lockOf(await deadPid()));
    // Waiting the lock out would fail the payment (lock_timeout): paying proves the takeover.
    await expectPayment(server, fileStore(path, { lockTimeoutMs: 5_000 }));
    expect(await exists(`${path}.lock`)).toBe(false);
    expect(await readLines(path)).toHaveLength(3); // reserve, write-ahead, outcome
  });

  it('a lock held by a live process times out: BudgetUnavailableError, nothing signed or sent', async () => {
    const path = join(await tempDir(), 'ledger.json');
    const pid = await livePid();
    const lock = lockOf(pid);
    await writeFile(`${path}.lock`, lock);
    const started = performance.now();
    const error = await expectNoPayment(server, fileStore(path, { lockTimeoutMs: 300 }));
    expect(performance.now() - started).toBeGreaterThanOrEqual(300);
    expect(error.problem).toBe('lock_timeout');
    expect(error.message).toContain(`process ${pid}`);
    expect(error.message).toContain('within 300 ms');
    // The holder's lock is left alone.
    expect(await readFile(`${path}.lock`, 'utf8')).toBe(lock);
    expect(await exists(path)).toBe(false);
  });

  it('a lock held by a process of another host is never taken over', async () => {
    const path = join(await tempDir(), 'ledger.json');
    await writeFile(`${path}.lock`, lockOf(await deadPid(), `not-${hostname()}`));
    const error = await expectNoPayment(server, fileStore(path, { lockTimeoutMs: 200 }));
    expect(error.problem).toBe('lock_timeout');
  });

  it('an unreadable lock file is waited for while recent, taken over once older than 5 s', async () => {
    const path = join(await tempDir(), 'ledger.json');
    await writeFile(`${path}.lock`, '');
    expect((await expectNoPayment(server, fileStore(path, { lockTimeoutMs: 200 }))).problem).toBe('lock_timeout');
    const old = new Date(Date.now() - 10_000);
    await utimes(`${path}.lock`, old, old);
    await expectPayment(server, fileStore(path, { lockTimeoutMs: 2_000 }));
  });

  it('a lock released while waiting is taken: the wait ends as soon as the holder is done', async () => {
    const path = join(await tempDir(), 'ledger.json');
    const pid = await livePid();
    await writeFile(`${path}.lock`, lockOf(pid));
    setTimeout(() => void import('node:fs/promises').then((fs) => fs.unlink(`${path}.lock`)), 150);
    await expectPayment(server, fileStore(path, { lockTimeoutMs: 5_000 }));
  });

  it('two store objects on one file in one process share one budget: 2 × 100 concurrent reservations under a limit of 50 accept exactly 50', async () => {
    const path = join(await tempDir(), 'ledger.json');
    const stores = [fileStore(path), fileStore(path)];
    const results = await Promise.all(stores.flatMap((store, s) => Array.from({ length: 100 }, (_, i) => store.reserve(reserveRequest(`pay_${s}_${i}`, 1n, 50n)))));
    expect(results.filter((r) => r.ok)).toHaveLength(50);
    expect(await fileStore(path).usage([reserveRequest('x').checks[0]!])).toEqual([50n]);
    expect(await fileStore(path).report()).toHaveLength(50);
  });

  it('4 processes × 60 concurrent reservations (each settled) under a limit of 100 accept exactly 100', async () => {
    const path = join(await tempDir(), 'ledger.json');
    const worker = join(import.meta.dirname, '../support/fileStoreWorker.ts');
    const run = () =>
      new Promise<{ ok: number; refused: number; errors: string[] }>((resolve, reject) => {
        const child = spawn(process.execPath, ['--import', 'tsx', worker, JSON.stringify({ path, calls: 60, limit: 100, settle: true })], { stdio: ['ignore', 'pipe', 'pipe'] });
        let out = '';
        let err = '';
        child.stdout.on('data', (d: Buffer) => (out += d.toString()));
        child.stderr.on('data', (d: Buffer) => (err += d.toString()));
        // 'close' (all output read), not 'exit' (output may still be in the pipe).
        child.on('close', (code) => (code === 0 ? resolve(JSON.parse(out.trim().split('\n').pop()!)) : reject(new Error(`worker exited ${code}: ${err}`))));
      });
    const outcomes = await Promise.all([run(), run(), run(), run()]);
    expect(outcomes.flatMap((o) => o.errors)).toEqual([]);
    expect(outcomes.reduce((sum, o) => sum + o.ok, 0)).toBe(100);
    expect(outcomes.reduce((sum, o) => sum + o.refused, 0)).toBe(140);
    const report = await fileStore(path).report();
    expect(report).toHaveLength(100);
    expect(report.every((r) => r.status === 'settled')).toBe(true);
    expect(await readLines(path)).toHaveLength(200);
  }, 60_000);
});
