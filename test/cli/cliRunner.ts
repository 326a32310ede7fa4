/** Helpers of the CLI tests: run the BUILT `dist/cli.js` in a child process with a temp home. */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect } from 'vitest';

export const CLI = join(import.meta.dirname, '../../dist/cli.js');

/** What one run printed and how it ended. */
export interface CliRun {
  readonly code: number | null;
  readonly stdout: string;
  readonly stdoutBytes: Buffer;
  readonly stderr: string;
}

/** Every output of every run of this file, for the "no key ever printed" check. */
const outputs: string[] = [];

/**
 * Runs `node dist/cli.js …args` with exactly `env` (plus PATH; no variable of this process
 * leaks in, so no real home, XDG dir or key is ever used), optionally feeding `input` on stdin.
 */
export function runCli(args: readonly string[], env: Record<string, string | undefined>, input?: string): Promise<CliRun> {
  if (!existsSync(CLI)) throw new Error('dist/cli.js is missing: run `npm run build` first');
  return new Promise((resolve, reject) => {
    const clean: Record<string, string> = { PATH: process.env['PATH'] ?? '' };
    for (const [k, v] of Object.entries(env)) if (v !== undefined) clean[k] = v;
    const child = spawn(process.execPath, [CLI, ...args], { env: clean, stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.on('data', (c: Buffer) => err.push(c));
    child.on('error', reject);
    child.on('close', (code) => {
      const stdoutBytes = Buffer.concat(out);
      const run = { code, stdout: stdoutBytes.toString('utf8'), stdoutBytes, stderr: Buffer.concat(err).toString('utf8') };
      outputs.push(run.stdout, run.stderr);
      resolve(run);
    });
    child.stdin.end(input ?? '');
  });
}

/** After all runs of the file: none of `keys` (with or without 0x, any case) was ever printed. */
export function expectKeysNeverPrinted(keys: () => readonly string[]): void {
  afterAll(() => {
    const secrets = keys().flatMap((k) => [k.toLowerCase(), k.toLowerCase().replace(/^0x/, '')]);
    expect(outputs.length).toBeGreaterThan(0);
    for (const text of outputs) {
      for (const secret of secrets) expect(text.toLowerCase().includes(secret), 'a private key was printed').toBe(false);
    }
  });
}

/** A fresh temp directory, removed after the file's tests. */
export async function tempDir(dirs: string[]): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'x402-cli-'));
  dirs.push(dir);
  return dir;
}

/** Removes the temp directories. */
export async function removeDirs(dirs: string[]): Promise<void> {
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
}
