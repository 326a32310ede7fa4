/**
 * One process of a budget burst: `calls` concurrent paid calls to one URL through wrapFetch with
 * a given store, counting outcomes. Run in-process through {@link burst}, or as a child process:
 *   node --import tsx test/support/burstWorker.ts '<json BurstSpec>'
 * which prints one JSON line of {@link BurstOutcome}.
 */
import { pathToFileURL } from 'node:url';
import { privateKeyToAccount } from 'viem/accounts';
import { DuplicateRequestError, wrapFetch, getPayment, isX402Error, memoryStore, type SpendStore } from '../../src/index.js';
import type { Hex } from 'viem';

/** Which store a burst process uses. */
export type StoreSpec =
  | { kind: 'memory' }
  | { kind: 'file'; path: string }
  /** `timeoutMs`: the store's per-operation timeout (default: the store's own). */
  | { kind: 'redis'; url: string; prefix: string; timeoutMs?: number };

/** What one burst process does. */
export interface BurstSpec {
  url: string;
  key: Hex;
  calls: number;
  daily: string;
  store: StoreSpec;
  /** When set, every call carries this `Idempotency-Key` (one logical request, many deliveries). */
  idempotencyKey?: string;
}

/** What one burst process saw. */
export interface BurstOutcome {
  paid: number;
  budgetExceeded: number;
  /** Calls refused as a repeat of a keyed call (`duplicate_request`), by state. */
  duplicates: Record<string, number>;
  /** Codes (or messages) of any other outcome: must be empty. */
  other: string[];
  /** Settlement transactions of the paid calls. */
  transactions: string[];
}

/** Builds a store from its spec (file and Redis stores are loaded only when asked for). */
export async function openStore(spec: StoreSpec): Promise<{ store: SpendStore; close: () => Promise<void> }> {
  if (spec.kind === 'memory') return { store: memoryStore(), close: async () => undefined };
  if (spec.kind === 'file') {
    const { fileStore } = await import('../../src/node/index.js');
    return { store: fileStore(spec.path), close: async () => undefined };
  }
  const [{ redisStore }, { Redis }] = await Promise.all([import('../../src/redis/index.js'), import('ioredis')]);
  // With the offline queue off, a command sent before the connection is ready fails: connect first.
  const client = new Redis(spec.url, { maxRetriesPerRequest: 1, enableOfflineQueue: false, lazyConnect: true });
  await client.connect();
  return { store: redisStore(client, { prefix: spec.prefix, ...(spec.timeoutMs ? { timeoutMs: spec.timeoutMs } : {}) }), close: async () => void client.disconnect() };
}

/**
 * The global fetch with at most `sockets` requests on the wire at once. All the burst's calls are
 * in flight in the SDK together (they race for the budget); only the sockets are pooled, so a
 * loaded 2-core machine does not drop a thousand simultaneous connections.
 */
function pooledFetch(sockets: number): typeof fetch {
  let active = 0;
  const waiting: (() => void)[] = [];
  return (async (input: RequestInfo | URL, init?: RequestInit) => {
    if (active >= sockets) await new Promise<void>((resolve) => waiting.push(resolve));
    active++;
    try {
      return await fetch(input, init);
    } finally {
      active--;
      waiting.shift()?.();
    }
  }) as typeof fetch;
}

/** Runs `spec.calls` concurrent paid calls and counts the outcomes. */
export async function burst(spec: BurstSpec): Promise<BurstOutcome> {
  const { store, close } = await openStore(spec.store);
  const paidFetch = wrapFetch(pooledFetch(128), privateKeyToAccount(spec.key), { budget: { daily: spec.daily, perRequest: '0.10' }, store });
  const outcome: BurstOutcome = { paid: 0, budgetExceeded: 0, duplicates: {}, other: [], transactions: [] };
  const init = spec.idempotencyKey === undefined ? undefined : { headers: { 'Idempotency-Key': spec.idempotencyKey } };
  await Promise.all(
    Array.from({ length: spec.calls }, async () => {
      try {
        const response = await paidFetch(spec.url, init);
        const payment = getPayment(response);
        if (response.status === 200 && payment?.status === 'settled') {
          outcome.paid++;
          outcome.transactions.push(payment.transaction!);
        } else outcome.other.push(`HTTP ${response.status} ${payment?.status}`);
      } catch (error) {
        if (isX402Error(error) && error.code === 'budget_exceeded') outcome.budgetExceeded++;
        else if (error instanceof DuplicateRequestError) outcome.duplicates[error.state] = (outcome.duplicates[error.state] ?? 0) + 1;
        else outcome.other.push(isX402Error(error) ? error.code : String(error));
      }
    }),
  );
  await close();
  return outcome;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const outcome = await burst(JSON.parse(process.argv[2] ?? '{}') as BurstSpec);
  // Exit only once the line is handed to the pipe (keep-alive sockets would hold the process open).
  process.stdout.write(`${JSON.stringify(outcome)}\n`, () => process.exit(0));
}
