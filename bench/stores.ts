/**
 * Check-and-reserve cost per spend store (memory, file, Redis) with 10, 10,000 and 1,000,000
 * past payments in the ledger.
 *
 * Every ledger has the same shape of history: one payment of $0.01 every 20 minutes, each
 * reserved and settled, the last one a minute ago; only how far back the history goes differs
 * (10 payments: the last 3 hours; 1,000,000: since 1988). The budget is that of an agent with
 * hourly and daily caps and payment counts per minute and per day: four windowed counters per
 * check. A ledger whose cost grew with its history would show it between 10 and 1,000,000.
 *
 * The timed operation is `store.reserve(...)` (the atomic check of every window and the
 * reservation of one more $0.01 payment, a minute after the last one). Each timed reservation
 * is then released (not timed), so the windows stay exactly as filled however many samples are
 * taken: the 10-payment ledger is still a 10-payment ledger at the last sample. Medians of all
 * samples (tinybench), the sizes interleaved round by round.
 *
 * Filling the ledgers: the memory store pays its history through its own `reserve`/`settle`
 * with its clock moved along; the file store's files are written in its format by
 * `support/fileLedgerWriter.ts` (and fsynced); the store's first operation (which verifies the
 * journal's last 256 KiB, or all of a shorter one) is timed and shown apart;
 * Redis gets the keys its scripts would have left (counters of the current windows, the last
 * `maxRecords` records, the reservations not yet expired, the sequence), checked against the
 * store's own `usage()` before timing.
 *
 *   npx tsx bench/stores.ts [--quick] [--only memory|file|redis[,…]]
 */
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Bench } from 'tinybench';
import type { Redis } from 'ioredis';
import type { CounterCheck, ReserveRequest, SpendStore } from '../src/index.js';
import { loadAutopay } from './support/autopay.js';
import { formatDuration, formatRatio, median, QUICK, table } from './support/stats.js';
import { REDIS_SERVER_BIN, startRedisServer } from '../test/support/redisServer.js';
import { connectRedis } from '../test/support/redisClient.js';
import { emptyLedgerState, reserveIn, settleIn, usageIn } from '../src/budget/ledgerState.js';
import { CLOCK_JUMP_GRACE_SECONDS } from '../src/budget/windows.js';

/** One payment every 20 minutes: a million of them reach back to 1988. */
export const SPACING_MS = 20 * 60_000;
export const SIZES = [10, 10_000, 1_000_000] as const;

/**
 * The counters `Budget` checks for `{ perRequest: '0.10', hourly: '100', daily: '1000',
 * maxPayments: { perMinute: 1000, perDay: 100000 } }` and a $0.01 payment (rolling windows):
 * limits high enough that the timed reservations are never refused.
 */
export const CHECKS: readonly CounterCheck[] = [
  { key: 'global|USD|rolling:3600', window: { kind: 'rolling', seconds: 3600 }, amount: 10_000n, limit: 100_000_000n },
  { key: 'global|USD|rolling:86400', window: { kind: 'rolling', seconds: 86400 }, amount: 10_000n, limit: 1_000_000_000n },
  { key: 'global|count|rolling:60', window: { kind: 'rolling', seconds: 60 }, amount: 1n, limit: 1_000n },
  { key: 'global|count|rolling:86400', window: { kind: 'rolling', seconds: 86400 }, amount: 1n, limit: 100_000n },
];

export const RECORD: ReserveRequest['record'] = {
  host: 'api.example.com',
  payee: '0xa0Ee7A142d267C1f36714E4a8F75612F20a79720',
  amount: '10000',
  asset: '0x036CbD53842c5426634e7929541eC2318f3dCF7e',
  network: 'eip155:84532',
};

const paymentId = (i: number) => `pay_${i.toString(16).padStart(24, '0')}`;
const transactionOf = (i: number) => `0x${i.toString(16).padStart(64, '0')}`;

/** A store filled with a history, and how to time one more payment in it. */
interface Prepared {
  readonly size: number;
  readonly store: SpendStore;
  /** How long filling took, and the first operation (the file store's opening verification), ms. */
  readonly fillMs: number;
  readonly firstOpMs: number;
  close(): Promise<void>;
}

/** Result for one store and one ledger size. */
export interface StoreResult {
  readonly store: string;
  readonly size: number;
  /** Median check-and-reserve, ms. */
  readonly medianMs: number;
  readonly samples: number;
  readonly fillMs: number;
  readonly firstOpMs: number;
}

/** Results of one store: each size, and 1,000,000 (or the largest) against 10. */
export interface StoreResults {
  readonly store: string;
  readonly results: StoreResult[];
  /** Why the store was not measured, if it was not. */
  readonly skipped?: string;
  /** Largest size's median over the smallest's. */
  readonly ratio?: number;
}

/** Times `reserve` on prepared stores of several sizes, interleaved: `rounds` benches, the task order rotating. */
async function timeReserves(prepared: readonly Prepared[], { rounds, time }: { rounds: number; time: number }): Promise<Map<number, number[]>> {
  const samples = new Map<number, number[]>(prepared.map((p) => [p.size, []]));
  let next = 0;
  for (let round = 0; round < rounds; round++) {
    const bench = new Bench({ time, iterations: 10, warmupTime: Math.min(50, time / 4), warmupIterations: 5, retainSamples: true, throws: true });
    const order = prepared.map((_, i) => prepared[(i + round) % prepared.length]!);
    for (const p of order) {
      let id = '';
      bench.add(
        String(p.size),
        async () => {
          await p.store.reserve({ id, checks: CHECKS, record: RECORD });
        },
        {
          beforeEach() {
            id = `bench_${(next++).toString(16).padStart(20, '0')}`;
          },
          async afterEach() {
            // Undo it, so that the ledger is the same at every sample.
            await p.store.release(id);
          },
        },
      );
    }
    await bench.run();
    for (const task of bench.tasks) {
      const result = task.result;
      if (result.state !== 'completed') throw new Error(`stores bench: task ${task.name} ended ${result.state}`);
      samples.get(Number(task.name))!.push(...(result.latency.samples ?? []));
    }
  }
  return samples;
}

async function measure(name: string, prepared: Prepared[], settings: { rounds: number; time: number }): Promise<StoreResults> {
  try {
    const samples = await timeReserves(prepared, settings);
    const results = prepared.map((p) => ({
      store: name,
      size: p.size,
      medianMs: median(samples.get(p.size)!),
      samples: samples.get(p.size)!.length,
      fillMs: p.fillMs,
      firstOpMs: p.firstOpMs,
    }));
    return { store: name, results, ratio: results.at(-1)!.medianMs / results[0]!.medianMs };
  } finally {
    for (const p of prepared) await p.close();
  }
}

/** The memory store, its history paid through its own reserve and settle, the clock moved along. */
async function memoryStores(sizes: readonly number[]): Promise<Prepared[]> {
  const { memoryStore } = (await loadAutopay()).index;
  const out: Prepared[] = [];
  for (const size of sizes) {
    const last = Date.now() - 60_000;
    let now = last - (size - 1) * SPACING_MS;
    const store = memoryStore({ clock: () => now });
    const start = performance.now();
    for (let i = 0; i < size; i++, now += SPACING_MS) {
      const id = paymentId(i);
      await store.reserve({ id, checks: CHECKS, record: RECORD });
      await store.settle(id, 'settled', transactionOf(i));
    }
    now = last + 60_000;
    out.push({ size, store, fillMs: performance.now() - start, firstOpMs: 0, close: async () => undefined });
  }
  return out;
}

/** The file store, its files written in its format; the first operation (the opening verification) is timed apart. */
async function fileStores(sizes: readonly number[]): Promise<Prepared[]> {
  const { node, ledgerWriter } = await loadAutopay();
  const dir = join(tmpdir(), `x402-autopay-bench-${process.pid}`);
  const out: Prepared[] = [];
  for (const size of sizes) {
    const path = join(dir, `ledger-${size}.json`);
    const last = Date.now() - 60_000;
    const start = performance.now();
    await ledgerWriter.writeFileLedger({ path, payments: size, spacingMs: SPACING_MS, lastMs: last, checks: CHECKS, record: RECORD });
    const fillMs = performance.now() - start;
    const now = last + 60_000;
    const store = node.fileStore(path, { clock: () => now });
    const first = performance.now();
    // The first operation of a store object also verifies the journal's end: a read, timed apart.
    await store.usage(CHECKS);
    const firstOpMs = performance.now() - first;
    out.push({ size, store, fillMs, firstOpMs, close: () => rm(dir, { recursive: true, force: true }) });
  }
  return out;
}

/**
 * What the Redis scripts leave behind after `size` payments `SPACING_MS` apart, the last at
 * `lastMs`, except the counters' running sums (as an older version would have left them): the
 * first reservation, in the warm-up before any timing, scans each counter once and stores them.
 */
async function fillRedis(redis: Redis, prefix: string, size: number, lastMs: number, nowMs: number, maxRecords: number): Promise<void> {
  const timeOf = (i: number) => lastMs - (size - 1 - i) * SPACING_MS;
  const exec = async (pipeline: ReturnType<Redis['pipeline']>) => {
    for (const [error] of (await pipeline.exec()) ?? []) if (error) throw error;
  };
  // Counters: only the payments of the last 40 hours can still be in a bucket (the longest window
  // plus the grace is 26 hours); they are added up with the shared arithmetic.
  const state = emptyLedgerState();
  const recent = Math.ceil((40 * 3_600_000) / SPACING_MS);
  for (let i = Math.max(0, size - recent); i < size; i++) {
    reserveIn(state, { id: paymentId(i), checks: CHECKS, record: RECORD }, timeOf(i));
    settleIn(state, paymentId(i), false);
  }
  usageIn(state, CHECKS, nowMs); // drops the buckets no window counts any more, as the scripts do
  const counters = redis.pipeline();
  for (const check of CHECKS) {
    const buckets = state.counters[check.key];
    if (!buckets || Object.keys(buckets).length === 0) continue;
    counters.hset(`${prefix}c:${check.key}`, buckets);
    if (check.window.kind !== 'total') counters.expire(`${prefix}c:${check.key}`, check.window.seconds + CLOCK_JUMP_GRACE_SECONDS + 60);
  }
  await exec(counters);
  // The report keeps the newest maxRecords records; reservation ids are remembered for a day.
  let batch = redis.pipeline();
  let inBatch = 0;
  for (let i = Math.max(0, size - maxRecords); i < size; i++) {
    const time = timeOf(i);
    const id = paymentId(i);
    batch.hset(`${prefix}records`, id, JSON.stringify({ ...RECORD, id, time, status: 'settled', transaction: transactionOf(i) }));
    batch.zadd(`${prefix}report`, time, `${String(i + 1).padStart(16, '0')}:${id}`);
    const left = Math.floor((time + 86_400_000 - nowMs) / 1000);
    if (left > 0) {
      batch.hset(`${prefix}r:${id}`, { time: String(time), status: 'settled' });
      batch.expire(`${prefix}r:${id}`, left);
    }
    if (++inBatch === 1000) {
      await exec(batch);
      batch = redis.pipeline();
      inBatch = 0;
    }
  }
  batch.set(`${prefix}seq`, String(size));
  await exec(batch);
}

/** The Redis store on a private redis-server, its keys filled as its scripts would have left them, then checked. */
async function redisStores(sizes: readonly number[]): Promise<Prepared[] | string> {
  if (REDIS_SERVER_BIN === undefined) return 'skipped (no redis-server)';
  const { redisStore } = (await loadAutopay()).redis;
  const server = await startRedisServer();
  const redis = await connectRedis(server.url);
  const serverNow = async () => {
    const [seconds, micros] = await redis.time();
    return Number(seconds) * 1000 + Math.floor(Number(micros) / 1000);
  };
  const out: Prepared[] = [];
  try {
    for (const size of sizes) {
      const prefix = `bench:${size}:`;
      const maxRecords = 10_000;
      const start = performance.now();
      const nowMs = await serverNow();
      const lastMs = nowMs - 60_000;
      await fillRedis(redis, prefix, size, lastMs, nowMs, maxRecords);
      const fillMs = performance.now() - start;
      const store = redisStore(redis, { prefix, maxRecords });
      // The store must read the history as the shared arithmetic counts it.
      const state = emptyLedgerState();
      for (let i = Math.max(0, size - 200); i < size; i++) {
        reserveIn(state, { id: paymentId(i), checks: CHECKS, record: RECORD }, lastMs - (size - 1 - i) * SPACING_MS);
        settleIn(state, paymentId(i), false);
      }
      const [used, checkedAt] = [await store.usage(CHECKS), await serverNow()];
      const expected = usageIn(state, CHECKS, checkedAt);
      if (used.join() !== expected.join()) {
        throw new Error(`stores bench: the Redis ledger of ${size} reads ${used.join('/')} where ${expected.join('/')} was written; the Redis store's format changed, update bench/stores.ts`);
      }
      const report = await store.report({ limit: 2 });
      if (report.length !== Math.min(2, size) || report.at(-1)?.id !== paymentId(size - 1)) throw new Error('stores bench: the Redis report does not read the filled records');
      out.push({ size, store, fillMs, firstOpMs: 0, close: async () => undefined });
    }
  } catch (error) {
    redis.disconnect();
    await server.close();
    throw error;
  }
  const last = out.at(-1)!;
  out[out.length - 1] = {
    ...last,
    close: async () => {
      redis.disconnect();
      await server.close();
    },
  };
  return out;
}

/**
 * Runs the three stores (or those named in `only`). `fileSizes` lets quick mode use a smaller
 * file ledger.
 */
export async function runStores(
  {
    sizes = SIZES,
    fileSizes = QUICK ? [10, 10_000, 100_000] : SIZES,
    rounds = QUICK ? 3 : 5,
    only,
  }: { sizes?: readonly number[]; fileSizes?: readonly number[]; rounds?: number; only?: readonly string[] } = {},
): Promise<StoreResults[]> {
  const out: StoreResults[] = [];
  const wanted = (store: string) => only === undefined || only.includes(store);
  if (wanted('memory')) out.push(await measure('memory', await memoryStores(sizes), { rounds, time: QUICK ? 100 : 200 }));
  if (wanted('file')) out.push(await measure('file', await fileStores(fileSizes), { rounds, time: QUICK ? 400 : 800 }));
  if (wanted('redis')) {
    const redis = await redisStores(sizes);
    out.push(typeof redis === 'string' ? { store: 'redis', results: [], skipped: redis } : await measure('redis', redis, { rounds, time: QUICK ? 200 : 400 }));
  }
  return out;
}

/** The stores named by `--only <store>[,<store>]` (repeatable) on the command line, or undefined for all. */
export function onlyStores(argv: readonly string[] = process.argv): string[] | undefined {
  const named = argv.flatMap((arg, i) => (arg === '--only' ? (argv[i + 1] ?? '').split(',') : arg.startsWith('--only=') ? arg.slice(7).split(',') : [])).filter((s) => s !== '');
  return named.length > 0 ? named : undefined;
}

const count = (n: number) => n.toLocaleString('en-US');

/** The results as a table. */
export function formatStores(all: readonly StoreResults[]): string {
  const rows: string[][] = [];
  for (const s of all) {
    if (s.skipped) {
      rows.push([s.store, '—', s.skipped, '', '', '', '']);
      continue;
    }
    const base = s.results[0]!;
    const middle = s.results[1];
    for (const r of s.results) {
      rows.push([
        s.store,
        count(r.size),
        formatDuration(r.medianMs),
        r === base ? '1.00×' : formatRatio(r.medianMs / base.medianMs),
        middle && r.size > middle.size ? formatRatio(r.medianMs / middle.medianMs) : '',
        String(r.samples),
        `${(r.fillMs / 1000).toFixed(1)} s${r.firstOpMs > 0 ? ` + first op ${r.firstOpMs >= 1000 ? `${(r.firstOpMs / 1000).toFixed(1)} s` : formatDuration(r.firstOpMs)}` : ''}`,
      ]);
    }
  }
  return [
    table(['store', 'past payments', 'check-and-reserve (median)', `vs ${count(SIZES[0])}`, `vs ${count(SIZES[1])}`, 'samples', 'fill'], rows),
    `The windows of the ${count(SIZES[0])}-payment ledger hold its ${count(SIZES[0])} payments; from ${count(SIZES[1])} on they hold the same 26 hours of payments,`,
    `so "vs ${count(SIZES[1])}" shows history alone, and "vs ${count(SIZES[0])}" history plus fuller windows.`,
  ].join('\n');
}

if (import.meta.url === `file://${process.argv[1]}`) {
  // `npx tsx bench/stores.ts [--quick] [--only file|memory|redis]`
  console.log(formatStores(await runStores({ only: onlyStores() })));
}
