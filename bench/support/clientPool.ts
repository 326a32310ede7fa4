import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { ClientReply, ClientRequest } from './clientProcess.js';

/** A client running in its own process (see `clientProcess.ts`). */
export interface RemoteClient {
  readonly name: string;
  /** `count` paid requests one after the other. */
  sequential(count: number): Promise<{ walls: number[]; wallMs: number; cpuMicros: number; systemMicros: number; mainThreadMicros: number | undefined }>;
  /** `count` paid requests, `concurrency` in flight at a time. */
  concurrent(count: number, concurrency: number): Promise<{ wallMs: number; cpuMicros: number; systemMicros: number }>;
  stop(): Promise<void>;
}

/** The display names of the clients. */
export const CLIENT_NAMES = {
  autopay: 'x402-autopay',
  prepay: 'x402-autopay, prepay: true',
  reference: '@x402/fetch',
  floorWait: 'floor: the 402 and a 200 as late as a settlement, nothing signed',
  floorSigned: 'floor: the same and one signature',
  floorPrepaid: 'floor, prepaid: one late 200 and one signature',
} as const;

/** Starts a client process paying `target` (a server URL, or `in-process` for the stub transport). */
export async function startRemoteClient(which: keyof typeof CLIENT_NAMES, target: string): Promise<RemoteClient> {
  const entry = fileURLToPath(new URL('./clientProcess.ts', import.meta.url));
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', entry, which, target], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const waiting = new Map<number, { resolve: (r: ClientReply) => void; reject: (e: Error) => void }>();
  let ids = 0;
  child.on('message', (message) => {
    const reply = message as ClientReply;
    const pending = waiting.get(reply.id);
    if (!pending) return;
    waiting.delete(reply.id);
    if (reply.error) pending.reject(new Error(`${which} client: ${reply.error}`));
    else pending.resolve(reply);
  });
  child.once('exit', (code) => {
    for (const pending of waiting.values()) pending.reject(new Error(`${which} client exited with ${String(code)}`));
    waiting.clear();
  });
  const call = (request: (ClientRequest extends infer R ? (R extends unknown ? Omit<R, 'id'> : never) : never) | undefined, id = ++ids): Promise<ClientReply> =>
    new Promise((resolve, reject) => {
      waiting.set(id, { resolve, reject });
      if (request) child.send({ ...request, id });
    });
  await call(undefined, 0); // ready
  return {
    name: CLIENT_NAMES[which],
    async sequential(count) {
      const r = await call({ op: 'sequential', count });
      return { walls: r.walls!, wallMs: r.wallMs!, cpuMicros: r.cpuMicros!, systemMicros: r.systemMicros!, mainThreadMicros: r.mainThreadMicros };
    },
    async concurrent(count, concurrency) {
      const r = await call({ op: 'concurrent', count, concurrency });
      return { wallMs: r.wallMs!, cpuMicros: r.cpuMicros!, systemMicros: r.systemMicros! };
    },
    async stop() {
      if (child.connected) child.disconnect();
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(timer);
    },
  };
}
