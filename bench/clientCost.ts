/**
 * Client-side cost of one paid request: x402-autopay against the reference client
 * (`@x402/fetch`), paying the same route in the same run, alternating. Each client runs in a
 * process of its own and reports its own process CPU (user + system, fetch and undici
 * included), so neither the server's work nor the other client's garbage is counted.
 *
 * Two transports:
 * - `http`: the official x402 v2 server (`@x402/express`) with a facilitator that verifies every
 *   signature but settles without a chain, in a child process, over loopback HTTP;
 * - `in-process`: a stub fetch answering what that server answers, without a socket: what the
 *   client library itself costs, with the transport out of the picture.
 *
 * Per client: the median wall time of a paid request (402, sign, paid retry, body read) and the
 * median over rounds of the process CPU per paid request.
 */
import { startRemoteClient, type RemoteClient } from './support/clientPool.js';
import { startPaidServerProcess } from './support/paidServer.js';
import { formatDuration, formatRatio, median, QUICK, table } from './support/stats.js';

/** Measured cost of one client. */
export interface ClientCost {
  readonly name: string;
  /** Median wall time of a paid request, ms. */
  readonly wallMs: number;
  /** Median (over rounds) process CPU per paid request, ms. */
  readonly cpuMs: number;
  /** CPU of the main (JavaScript) thread per paid request, over all rounds, ms (Linux only; 10 ms ticks, so a mean, not a median). */
  readonly mainThreadMs: number | undefined;
  readonly requests: number;
}

/** Result of {@link runClientCost}: both clients and the ratios autopay / reference. */
export interface ClientCostResult {
  readonly transport: string;
  readonly autopay: ClientCost;
  readonly reference: ClientCost;
  readonly wallRatio: number;
  readonly cpuRatio: number;
  /** The transport alone (two plain requests, the 402 and a 200), measured in the same rotation, when asked for. */
  readonly floor?: ClientCost;
  /** The same, the 200 answered as late as a settled payment, when asked for. */
  readonly floorWait?: ClientCost;
  /** x402-autopay with opt-in prepay (a repeated paid call pays with its first request), when asked for. */
  readonly prepay?: ClientCost;
}

export interface ClientCostSettings {
  /** Rounds; in each, every client makes `perRound` sequential paid requests (the order alternates). */
  readonly rounds?: number;
  readonly perRound?: number;
  /** Paid requests per client before measuring (JIT, connection pool). */
  readonly warmup?: number;
}

/**
 * Measures both clients (already started, paying the same target), the order rotating round by
 * round; with `extra.floor`, also the transport alone (`extra.floorWait`: with a settlement's
 * wait), and with `extra.prepay`, x402-autopay with opt-in prepay, in the same rotation.
 */
export async function measureClientCost(
  transport: string,
  autopayClient: RemoteClient,
  referenceClient: RemoteClient,
  { rounds = QUICK ? 10 : 20, perRound = QUICK ? 10 : 15, warmup = QUICK ? 50 : 100 }: ClientCostSettings = {},
  extra: { floor?: RemoteClient; floorWait?: RemoteClient; prepay?: RemoteClient } = {},
): Promise<ClientCostResult> {
  const clients = [autopayClient, referenceClient, ...[extra.prepay, extra.floor, extra.floorWait].filter((c): c is RemoteClient => c !== undefined)];
  const walls = new Map<RemoteClient, number[]>(clients.map((c) => [c, []]));
  const cpus = new Map<RemoteClient, number[]>(clients.map((c) => [c, []]));
  const mains = new Map<RemoteClient, number[]>(clients.map((c) => [c, []]));
  for (const client of clients) await client.sequential(warmup);
  for (let round = 0; round < rounds; round++) {
    const rotated = clients.map((_, i) => clients[(i + round) % clients.length]!);
    for (const client of round % 2 === 0 ? rotated : rotated.reverse()) {
      const r = await client.sequential(perRound);
      walls.get(client)!.push(...r.walls);
      cpus.get(client)!.push(r.cpuMicros / 1000 / perRound);
      if (r.mainThreadMicros !== undefined) mains.get(client)!.push(r.mainThreadMicros / 1000);
    }
  }
  const cost = (client: RemoteClient): ClientCost => ({
    name: client.name,
    wallMs: median(walls.get(client)!),
    cpuMs: median(cpus.get(client)!),
    mainThreadMs: mains.get(client)!.length === rounds ? mains.get(client)!.reduce((a, b) => a + b, 0) / walls.get(client)!.length : undefined,
    requests: walls.get(client)!.length,
  });
  const autopay = cost(autopayClient);
  const reference = cost(referenceClient);
  return {
    transport,
    autopay,
    reference,
    wallRatio: autopay.wallMs / reference.wallMs,
    cpuRatio: autopay.cpuMs / reference.cpuMs,
    ...(extra.floor ? { floor: cost(extra.floor) } : {}),
    ...(extra.floorWait ? { floorWait: cost(extra.floorWait) } : {}),
    ...(extra.prepay ? { prepay: cost(extra.prepay) } : {}),
  };
}

/** Starts both clients against `target` (a server URL or `in-process`), measures, stops them. */
export async function runClientCost(target: string, settings?: ClientCostSettings): Promise<ClientCostResult> {
  const autopay = await startRemoteClient('autopay', target);
  const reference = await startRemoteClient('reference', target);
  try {
    // In process a paid request takes about a millisecond: many more of them, and a longer warm-up (JIT).
    const inProcess = target === 'in-process';
    const defaults: ClientCostSettings = inProcess ? { rounds: QUICK ? 20 : 40, perRound: 50, warmup: 500 } : {};
    return await measureClientCost(inProcess ? 'in-process' : 'http', autopay, reference, { ...defaults, ...settings });
  } finally {
    await Promise.all([autopay.stop(), reference.stop()]);
  }
}

/** The result as a table. */
export function formatClientCost(result: ClientCostResult): string {
  const row = (c: ClientCost) => [c.name, formatDuration(c.wallMs), formatDuration(c.cpuMs), c.mainThreadMs === undefined ? 'n/a' : formatDuration(c.mainThreadMs), String(c.requests)];
  const main =
    result.autopay.mainThreadMs !== undefined && result.reference.mainThreadMs !== undefined
      ? `, main thread ${formatRatio(result.autopay.mainThreadMs / result.reference.mainThreadMs)}`
      : '';
  const rows = [row(result.autopay), row(result.reference)];
  if (result.prepay) rows.push(row(result.prepay));
  if (result.floor) rows.push(row({ ...result.floor, name: 'transport alone: the 402 and a 200, nothing paid' }));
  if (result.floorWait) rows.push(row({ ...result.floorWait, name: 'the same, the 200 as late as a settlement' }));
  return [
    table(['client', 'wall / paid request', 'process CPU / paid request', 'main thread CPU', 'requests'], rows),
    `x402-autopay / @x402/fetch: wall ${formatRatio(result.wallRatio)}, process CPU ${formatRatio(result.cpuRatio)}${main}`,
    ...(result.prepay ? [`x402-autopay with prepay / @x402/fetch: wall ${formatRatio(result.prepay.wallMs / result.reference.wallMs)}, process CPU ${formatRatio(result.prepay.cpuMs / result.reference.cpuMs)}`] : []),
    ...(result.floor
      ? [`the two HTTP exchanges alone cost ${formatRatio(result.floor.cpuMs / result.reference.cpuMs)} of the reference's CPU per paid request`]
      : []),
    ...(result.floorWait
      ? [`with a settlement's wait before the 200, ${formatRatio(result.floorWait.cpuMs / result.reference.cpuMs)}: what any Node client spends before parsing or signing anything`]
      : []),
  ].join('\n');
}

if (import.meta.url === `file://${process.argv[1]}`) {
  console.log('in-process transport (the libraries alone):');
  console.log(formatClientCost(await runClientCost('in-process')));
  const server = await startPaidServerProcess();
  const floor = await startRemoteClient('floor', server.url);
  const floorWait = await startRemoteClient('floorWait', server.url);
  const prepay = await startRemoteClient('prepay', server.url);
  try {
    console.log('\nofficial x402 v2 server in a child process, loopback HTTP:');
    const autopay = await startRemoteClient('autopay', server.url);
    const reference = await startRemoteClient('reference', server.url);
    console.log(formatClientCost(await measureClientCost('http', autopay, reference, {}, { floor, floorWait, prepay })));
    await Promise.all([autopay.stop(), reference.stop()]);
  } finally {
    await Promise.all([floor.stop(), floorWait.stop(), prepay.stop()]);
    await server.stop();
  }
}
