/**
 * Throughput of paid calls with 1, 16 and 64 in flight: x402-autopay against the reference
 * client, each in its own process, paying the official x402 v2 server (child process, verifying
 * facilitator, no chain) over loopback HTTP, round by round alternating which goes first.
 * Paid requests per second: the median over rounds. On one machine the server (which recovers
 * two signatures per payment) shares the cores with the client, so the ratio says whether the
 * client holds the server back, not what a server farm would do.
 */
import { startRemoteClient, type RemoteClient } from './support/clientPool.js';
import { startPaidServerProcess } from './support/paidServer.js';
import { formatRatio, median, QUICK, table } from './support/stats.js';

export const CONCURRENCY = [1, 16, 64] as const;

export interface ThroughputResult {
  readonly concurrency: number;
  /** Median paid requests per second. */
  readonly autopay: number;
  readonly reference: number;
  /** autopay / reference. */
  readonly ratio: number;
}

/** Measures both clients (already started, paying the same server) at each concurrency. */
export async function measureThroughput(
  autopay: RemoteClient,
  reference: RemoteClient,
  { rounds = QUICK ? 3 : 5, seconds = QUICK ? 0.6 : 1.2 }: { rounds?: number; seconds?: number } = {},
): Promise<ThroughputResult[]> {
  const out: ThroughputResult[] = [];
  for (const concurrency of CONCURRENCY) {
    // Size the rounds from a first short run so each lasts about `seconds`.
    const probe = await autopay.concurrent(concurrency * 4, concurrency);
    await reference.concurrent(concurrency * 4, concurrency);
    const count = Math.max(concurrency * 2, Math.round(((concurrency * 4) / probe.wallMs) * 1000 * seconds));
    const rates = new Map<RemoteClient, number[]>([
      [autopay, []],
      [reference, []],
    ]);
    for (let round = 0; round < rounds; round++) {
      for (const client of round % 2 === 0 ? [autopay, reference] : [reference, autopay]) {
        const r = await client.concurrent(count, concurrency);
        rates.get(client)!.push((count / r.wallMs) * 1000);
      }
    }
    const a = median(rates.get(autopay)!);
    const b = median(rates.get(reference)!);
    out.push({ concurrency, autopay: a, reference: b, ratio: a / b });
  }
  return out;
}

/** Starts the server and both clients, measures, stops everything. */
export async function runThroughput(settings?: { rounds?: number; seconds?: number }): Promise<ThroughputResult[]> {
  const server = await startPaidServerProcess();
  const autopay = await startRemoteClient('autopay', server.url);
  const reference = await startRemoteClient('reference', server.url);
  try {
    return await measureThroughput(autopay, reference, settings);
  } finally {
    await Promise.all([autopay.stop(), reference.stop()]);
    await server.stop();
  }
}

export function formatThroughput(results: readonly ThroughputResult[]): string {
  return table(
    ['paid calls in flight', 'x402-autopay (req/s)', '@x402/fetch (req/s)', 'autopay / reference'],
    results.map((r) => [String(r.concurrency), r.autopay.toFixed(0), r.reference.toFixed(0), formatRatio(r.ratio)]),
  );
}

if (import.meta.url === `file://${process.argv[1]}`) {
  console.log(formatThroughput(await runThroughput()));
}
