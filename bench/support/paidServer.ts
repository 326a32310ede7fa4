import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { Address } from 'viem';

/** The benchmark server, running in a child process. */
export interface PaidServerProcess {
  /** Base URL of the official x402 v2 server, e.g. `http://127.0.0.1:40123`. */
  readonly url: string;
  readonly payTo: Address;
  readonly usdc: Address;
  /** How many verify and settle calls the facilitator answered, and how many it refused. */
  counts(): Promise<{ verify: number; settle: number; refused: number }>;
  stop(): Promise<void>;
}

/**
 * Starts `paidServerProcess.ts` (official x402 v2 server + verifying, chain-less facilitator) in
 * a child process (through tsx) and waits for its URL.
 */
export async function startPaidServerProcess(): Promise<PaidServerProcess> {
  const entry = fileURLToPath(new URL('./paidServerProcess.ts', import.meta.url));
  const child = spawn(process.execPath, ['--import', 'tsx', entry], { stdio: ['pipe', 'pipe', 'inherit', 'ipc'] });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const lines = createInterface({ input: child.stdout! });
  const ready = await new Promise<{ url: string; payTo: Address; usdc: Address }>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the benchmark server did not start within 30 s')), 30_000);
    child.once('exit', (code) => reject(new Error(`the benchmark server exited with ${String(code)} before it was ready`)));
    lines.once('line', (line) => {
      clearTimeout(timer);
      resolve(JSON.parse(line) as { url: string; payTo: Address; usdc: Address });
    });
  });
  return {
    ...ready,
    counts: () =>
      new Promise((resolve) => {
        child.once('message', (m) => resolve((m as { counts: { verify: number; settle: number; refused: number } }).counts));
        child.send('counts');
      }),
    async stop() {
      child.stdin!.end();
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(timer);
    },
  };
}
