/**
 * `npm run bench`: every benchmark of the performance issue, then a summary of the targets.
 *
 *   npm run bench                  full run (about 4 minutes on a quiet 2-core machine)
 *   npm run bench -- --quick       fewer rounds and a 100,000-payment file ledger, about 1 minute (BENCH_QUICK=1 works too)
 *   npm run bench -- --json out.json   also write the results as JSON
 *
 * Figures are medians, and every comparison is a ratio measured in the same run against its
 * baseline (the reference client, or the 10-payment ledger), the two alternating or
 * interleaved, because this kind of machine is small and noisy. What each part measures is
 * described at the top of its file: clientCost.ts, throughput.ts, stores.ts, size.ts.
 */
import { writeFileSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import { formatClientCost, measureClientCost, runClientCost, startFloors, stopFloors, type ClientCost, type ClientCostResult } from './clientCost.js';
import { formatStores, runStores, type StoreResults } from './stores.js';
import { formatSize, runSize, type SizeResult } from './size.js';
import { formatThroughput, measureThroughput, type ThroughputResult } from './throughput.js';
import { formatPrepay, runPrepay, type PrepayResult } from './prepay.js';
import { startRemoteClient } from './support/clientPool.js';
import { startPaidServerProcess } from './support/paidServer.js';
import { formatRatio, QUICK, table } from './support/stats.js';

/** The targets. */
export const TARGETS = { clientCpuRatio: 0.6, bundleRatio: 0.5, storeRatio: 1.2, prepayLatencyRatio: 0.6 } as const;

const started = performance.now();
const load = () => loadavg().map((l) => l.toFixed(1)).join(' ');
const section = (title: string) => console.log(`\n=== ${title} ===`);
console.log(`x402-autopay benchmarks${QUICK ? ' (quick mode)' : ''}: Node ${process.version}, ${availableParallelism()} CPUs, load average ${load()}`);

section('Bundle size');
const size: SizeResult = await runSize();
console.log(formatSize(size));

section('Client cost per paid request, in-process transport (the libraries alone, no socket)');
const inProcess: ClientCostResult = await runClientCost('in-process');
console.log(formatClientCost(inProcess));

section('Client cost per paid request: official x402 v2 server (child process, verifying facilitator, no chain), loopback HTTP');
const server = await startPaidServerProcess();
let http: ClientCostResult;
let throughput: ThroughputResult[];
try {
  const autopay = await startRemoteClient('autopay', server.url);
  const reference = await startRemoteClient('reference', server.url);
  const floors = await startFloors(server.url);
  const prepay = await startRemoteClient('prepay', server.url);
  try {
    http = await measureClientCost('http', autopay, reference, {}, { ...floors, prepay });
    await Promise.all([stopFloors(floors), prepay.stop()]);
    console.log(formatClientCost(http));
    section('Throughput: paid calls in flight at once (same server, same clients)');
    throughput = await measureThroughput(autopay, reference);
    console.log(formatThroughput(throughput));
  } finally {
    await Promise.all([autopay.stop(), reference.stop(), stopFloors(floors), prepay.stop()]);
  }
  const counts = await server.counts();
  if (counts.refused > 0) throw new Error(`the facilitator refused ${counts.refused} payments`);
  console.log(`(the facilitator verified ${counts.verify} payments and settled ${counts.settle}, refusing none)`);
} finally {
  await server.stop();
}

section('Prepay: latency of a paid call to a place already paid, server adding 20 ms per response');
const prepay: PrepayResult = await runPrepay();
console.log(formatPrepay(prepay));

section('Check-and-reserve per store, by past payments in the ledger (one every 20 min)');
const stores: StoreResults[] = await runStores();
console.log(formatStores(stores));

section('Targets');
const verdict = (ok: boolean | undefined) => (ok === undefined ? 'not measured' : ok ? 'MET' : 'NOT MET');
// Three decimals, so that a ratio just over its goal does not print as equal to it.
const ratio3 = (r: number) => (Number.isFinite(r) ? `${r.toFixed(3)}×` : 'n/a');
const rows: string[][] = [
  ['client CPU per paid request, x402-autopay / @x402/fetch (HTTP)', `≤ ${TARGETS.clientCpuRatio}×`, ratio3(http.cpuRatio), verdict(http.cpuRatio <= TARGETS.clientCpuRatio)],
  ...(http.prepay
    ? [
        [
          '  the same, x402-autopay with opt-in prepay (repeated calls: one round trip)',
          `≤ ${TARGETS.clientCpuRatio}×`,
          ratio3(http.prepay.cpuMs / http.reference.cpuMs),
          verdict(http.prepay.cpuMs / http.reference.cpuMs <= TARGETS.clientCpuRatio),
        ],
      ]
    : []),
  ['prepaid call latency / usual two-round-trip call (+20 ms per response)', `≤ ${TARGETS.prepayLatencyRatio}×`, ratio3(prepay.ratio), verdict(prepay.ratio <= TARGETS.prepayLatencyRatio)],
  ['bundle, import { wrapFetch } / reference (min + gzip)', `≤ ${TARGETS.bundleRatio}×`, ratio3(size.ratio), verdict(size.ratio <= TARGETS.bundleRatio)],
];
for (const s of stores) {
  const largest = s.results.at(-1);
  const label = `check-and-reserve, ${s.store} store, ${largest ? largest.size.toLocaleString('en-US') : '1,000,000'} vs 10 past payments`;
  rows.push([label, `≤ ${TARGETS.storeRatio}×`, s.ratio === undefined ? (s.skipped ?? 'n/a') : ratio3(s.ratio), verdict(s.ratio === undefined ? undefined : s.ratio <= TARGETS.storeRatio)]);
}
console.log(table(['target', 'goal', 'measured', 'verdict'], rows));
// What no client can go under: are the CPU targets within reach at all on this machine?
for (const [floor, flow] of [
  [http.floorSigned, 'with two exchanges per payment (the usual 402, then the paid retry)'],
  [http.floorPrepaid, 'with one exchange per payment (a prepaid call)'],
] as const) {
  if (!floor) continue;
  const r = floor.cpuMs / http.reference.cpuMs;
  console.log(
    `The least any client spends ${flow}, the HTTP exchanges and one signature with nothing parsed or checked: ${ratio3(r)} of the reference's CPU` +
      (r > TARGETS.clientCpuRatio ? ` — above the ${TARGETS.clientCpuRatio}× target, which no such client can meet on this machine.` : '.'),
  );
}
const floorRows: [string, ClientCost][] = [];
for (const [label, floor] of [
  ['floor: the two HTTP exchanges alone (the 200 as late as a settlement) vs the reference\'s paid request, CPU', http.floorWait],
  ['floor: the same and one signature', http.floorSigned],
  ['floor, prepaid: one late 200 and one signature', http.floorPrepaid],
] as const) {
  if (floor) floorRows.push([label, floor]);
}
console.log('\nFor information (not targets):');
console.log(
  table(
    ['comparison', 'x402-autopay / @x402/fetch'],
    [
      ['client CPU per paid request, in-process transport', formatRatio(inProcess.cpuRatio)],
      ['wall time per paid request, in-process transport', formatRatio(inProcess.wallRatio)],
      ['wall time per paid request, HTTP', formatRatio(http.wallRatio)],
      ...floorRows.map(([label, floor]) => [label, formatRatio(floor.cpuMs / http.reference.cpuMs)]),
      ...throughput.map((t) => [`throughput with ${t.concurrency} paid call${t.concurrency > 1 ? 's' : ''} in flight`, formatRatio(t.ratio)]),
    ],
  ),
);
console.log(`\n${((performance.now() - started) / 1000).toFixed(0)} s in all; load average now ${load()}.`);

const jsonAt = process.argv.indexOf('--json');
if (jsonAt !== -1 && process.argv[jsonAt + 1]) {
  const plain = (value: unknown) => JSON.parse(JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v)));
  writeFileSync(process.argv[jsonAt + 1]!, `${JSON.stringify(plain({ quick: QUICK, node: process.version, size, inProcess, http, throughput, prepay, stores, targets: TARGETS }), null, 2)}\n`);
}
