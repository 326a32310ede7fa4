/**
 * A benchmark client in a process of its own, driven over IPC by `clientPool.ts`, so that the
 * process CPU it reports is this client's alone: not the server's, and not the garbage of the
 * other client being collected during its turn.
 *
 *   node --import tsx bench/support/clientProcess.ts <autopay|prepay|reference|floorWait|floorSigned|floorPrepaid> <server URL | in-process>
 *
 * Messages in: `{ id, op: 'sequential', count }` (paid requests one after the other: wall time of
 * each, process CPU of all) and `{ id, op: 'concurrent', count, concurrency }` (count paid
 * requests, `concurrency` at a time: total wall time and CPU). Out: `{ id, ...result }`.
 */
import { readFileSync } from 'node:fs';
import { keccak256, numberToHex } from 'viem';
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts';
import { autopayClient, paidRequest, referenceClient } from './clients.js';
import { stubPaidServerFetch, STUB_PAY_TO, STUB_USDC } from './stubFetch.js';

export type ClientRequest =
  | { readonly id: number; readonly op: 'sequential'; readonly count: number }
  | { readonly id: number; readonly op: 'concurrent'; readonly count: number; readonly concurrency: number };

export interface ClientReply {
  readonly id: number;
  readonly error?: string;
  /** Wall time of each request (sequential), ms. */
  readonly walls?: number[];
  /** Total wall time, ms. */
  readonly wallMs?: number;
  /** Process CPU (user + system) over the whole operation, µs. */
  readonly cpuMicros?: number;
  /** System part of it, µs. */
  readonly systemMicros?: number;
  /** CPU of the main (JavaScript) thread alone, µs, where the platform tells it (Linux; 10 ms ticks). */
  readonly mainThreadMicros?: number;
}

/** User + system CPU of this process's main thread, µs, from /proc (Linux); undefined elsewhere. */
function mainThreadCpu(): number | undefined {
  try {
    const stat = readFileSync(`/proc/self/task/${process.pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // Fields 14 and 15 of stat (utime, stime), counted from the state field (3): indices 11 and 12.
    return ((Number(fields[11]) + Number(fields[12])) * 1_000_000) / 100;
  } catch {
    return undefined;
  }
}

function since(start: number | undefined): number | undefined {
  const end = mainThreadCpu();
  return start === undefined || end === undefined ? undefined : end - start;
}

/**
 * How long the bench server's paid answer takes beyond a plain one (the official middleware
 * verifying and settling through the verifying facilitator): about 9 ms on a 2-core machine,
 * the paid request's median wall time minus the plain exchanges'.
 */
const SETTLEMENT_WAIT_MS = 9;

const [which, target] = process.argv.slice(2);
const account = privateKeyToAccount(generatePrivateKey());
const inProcess = target === 'in-process';
const url = inProcess ? 'https://api.example.com/weather' : `${target}/weather`;
const transport = inProcess ? stubPaidServerFetch({ payTo: STUB_PAY_TO, usdc: STUB_USDC, payer: account.address }) : fetch;
/** The floors: what any client must spend for a paid request, doing nothing a client could skip. */
const FLOORS = {
  floorWait: { exchanges: 2, sign: false },
  floorSigned: { exchanges: 2, sign: true },
  floorPrepaid: { exchanges: 1, sign: true },
} as const;
const floor = FLOORS[which as keyof typeof FLOORS];
const client =
  which === 'reference'
    ? referenceClient(account, transport)
    : floor
      ? transportFloor(transport, floor)
      : await autopayClient(account, transport, { prepay: which === 'prepay' });

/**
 * Not a paying client: the least any Node client spends on a paid request, with nothing parsed
 * or checked and no header built. With `exchanges: 2`, the 402 and then a 200; with 1, the 200
 * alone (a prepaid call). The 200 comes as late as a settled payment's (a Node client spends
 * CPU while it waits, too). With `sign`, one secp256k1 signature by the same viem account
 * between them, over a fresh 32-byte digest (no typed-data encoding): the one step of a payment
 * no client can skip.
 */
function transportFloor(transportFetch: typeof fetch, { exchanges, sign }: { exchanges: 1 | 2; sign: boolean }) {
  if (inProcess) throw new Error('the floors are measured over HTTP only');
  const paid = url.replace(/\/weather$/, `/free?delayMs=${SETTLEMENT_WAIT_MS}`);
  let signed = 0;
  return {
    name: which!,
    fetch: (async (input: RequestInfo | URL) => {
      if (exchanges === 2) {
        const first = await transportFetch(input);
        await first.arrayBuffer();
        if (first.status !== 402) throw new Error(`expected a 402, got ${first.status}`);
      }
      if (sign) await account.sign({ hash: keccak256(numberToHex(++signed, { size: 32 })) });
      return transportFetch(paid);
    }) as typeof fetch,
  };
}

async function handle(request: ClientRequest): Promise<ClientReply> {
  if (request.op === 'sequential') {
    const walls: number[] = [];
    const main = mainThreadCpu();
    const cpu = process.cpuUsage();
    const start = performance.now();
    for (let i = 0; i < request.count; i++) {
      const t = performance.now();
      await paidRequest(client, url);
      walls.push(performance.now() - t);
    }
    const wallMs = performance.now() - start;
    const d = process.cpuUsage(cpu);
    return { id: request.id, walls, wallMs, cpuMicros: d.user + d.system, systemMicros: d.system, mainThreadMicros: since(main) };
  }
  let next = 0;
  const worker = async () => {
    while (next < request.count) {
      next++;
      await paidRequest(client, url);
    }
  };
  const main = mainThreadCpu();
  const cpu = process.cpuUsage();
  const start = performance.now();
  await Promise.all(Array.from({ length: Math.min(request.concurrency, request.count) }, worker));
  const wallMs = performance.now() - start;
  const d = process.cpuUsage(cpu);
  return { id: request.id, wallMs, cpuMicros: d.user + d.system, systemMicros: d.system, mainThreadMicros: since(main) };
}

process.on('message', (message) => {
  const request = message as ClientRequest;
  handle(request).then(
    (reply) => process.send!(reply),
    (error: unknown) => process.send!({ id: request.id, error: error instanceof Error ? (error.stack ?? error.message) : String(error) }),
  );
});
process.on('disconnect', () => process.exit(0));
process.send!({ id: 0 });
