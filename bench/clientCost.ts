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
  /** The transport alone: the 402 and a 200 answered as late as a settled payment, nothing signed; measured in the same rotation, when asked for. */
  readonly floorWait?: ClientCost;
  /** The same plus one signature: the least a client making two exchanges per payment spends, when asked for. */
  readonly floorSigned?: ClientCost;
  /** One late 200 and one signature: the least a prepaid (one-exchange) payment costs, when asked for. */
  readonly floorPrepaid?: ClientCost;
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
 * round; with `extra.prepay`, also x402-autopay with opt-in prepay, and with the `extra` floors
 * (see `clientProcess.ts`) what any client spends at least, in the same rotation.
 */
export async function measureClientCost(
  transport: string,
  autopayClient: RemoteClient,
  referenceClient: RemoteClient,
  { rounds = QUICK ? 10 : 20, perRound = QUICK ? 10 : 15, warmup = QUICK ? 50 : 100 }: ClientCostSettings = {},
  extra: Floors & { prepay?: RemoteClient } = {},
): Promise<ClientCostResult> {
  const clients = [autopayClient, referenceClient, ...[extra.prepay, extra.floorWait, extra.floorSigned, extra.floorPrepaid].filter((c): c is RemoteClient => c !== undefined)];
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
    ...(extra.floorWait ? { floorWait: cost(extra.floorWait) } : {}),
    ...(extra.floorSigned ? { floorSigned: cost(extra.floorSigned) } : {}),
    ...(extra.floorPrepaid ? { floorPrepaid: cost(extra.floorPrepaid) } : {}),
    ...(extra.prepay ? { prepay: cost(extra.prepay) } : {}),
  };
}

/** The floor clients (see `clientProcess.ts`), measured beside the paying ones. */
export interface Floors {
  readonly floorWait?: RemoteClient;
  readonly floorSigned?: RemoteClient;
  readonly floorPrepaid?: RemoteClient;
}

/** Starts the three floor clients against a server URL. */
export async function startFloors(serverUrl: string): Promise<Required<Floors>> {
  const [floorWait, floorSigned, floorPrepaid] = await Promise.all((['floorWait', 'floorSigned', 'floorPrepaid'] as const).map((which) => startRemoteClient(which, serverUrl)));
  return { floorWait: floorWait!, floorSigned: floorSigned!, floorPrepaid: floorPrepaid! };
}

/** Stops the floor clients. */
export async function stopFloors(floors: Floors): Promise<void> {
  await Promise.all(Object.values(floors).map((c: RemoteClient) => c.stop()));
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
  for (const floor of [result.floorWait, result.floorSigned, result.floorPrepaid]) if (floor) rows.push(row(floor));
  return [
    table(['client', 'wall / paid request', 'process CPU / paid request', 'main thread CPU', 'requests'], rows),
    `x402-autopay / @x402/fetch: wall ${formatRatio(result.wallRatio)}, process CPU ${formatRatio(result.cpuRatio)}${main}`,
    ...(result.prepay ? [`x402-autopay with prepay / @x402/fetch: wall ${formatRatio(result.prepay.wallMs / result.reference.wallMs)}, process CPU ${formatRatio(result.prepay.cpuMs / result.reference.cpuMs)}`] : []),
    ...(result.floorWait
      ? [`the two HTTP exchanges alone (the 200 as late as a settlement) cost ${formatRatio(result.floorWait.cpuMs / result.reference.cpuMs)} of the reference's CPU per paid request`]
      : []),
    ...(result.floorSigned
      ? [`with one signature, ${formatRatio(result.floorSigned.cpuMs / result.reference.cpuMs)}: the least any client spends with two exchanges per payment`]
      : []),
    ...(result.floorPrepaid
      ? [`one exchange and one signature, ${formatRatio(result.floorPrepaid.cpuMs / result.reference.cpuMs)}: the least a prepaid call spends`]
      : []),
  ].join('\n');
}

if (import.meta.url === `file://${process.argv[1]}`) {
  console.log('in-process transport (the libraries alone):');
  console.log(formatClientCost(await runClientCost('in-process')));
  const server = await startPaidServerProcess();
  const extra = await startFloors(server.url);
  const prepay = await startRemoteClient('prepay', server.url);
  try {
    console.log('\nofficial x402 v2 server in a child process, loopback HTTP:');
    const autopay = await startRemoteClient('autopay', server.url);
    const reference = await startRemoteClient('reference', server.url);
    console.log(formatClientCost(await measureClientCost('http', autopay, reference, {}, { ...extra, prepay })));
    await Promise.all([autopay.stop(), reference.stop()]);
  } finally {
    await Promise.all([stopFloors(extra), prepay.stop()]);
    await server.stop();
  }
}
