import { bucketIndex, bucketSeconds, CLOCK_JUMP_GRACE_SECONDS, oldestCounted } from '../budget/windows.js';
import { PENDING_TTL_MS } from '../budget/ledgerState.js';
import type { CounterCheck, CounterWindow, ReserveResult, SpendAuthorization, SpendStore } from '../budget/store.js';
import type { RedisScriptClient } from './client.js';
import { createScriptRunner } from './runScript.js';
import { RESERVE_SCRIPT } from './reserveScript.js';
import { RELEASE_SCRIPT } from './releaseScript.js';
import { SETTLE_SCRIPT } from './settleScript.js';
import { USAGE_SCRIPT } from './usageScript.js';
import { REPORT_SCRIPT } from './reportScript.js';
import { parseSpendRecord, recordJson } from './spendRecordJson.js';
import { spendAuthorizationSchema } from '../budget/spendAuthorizationSchema.js';
import * as z from 'zod/mini';

/** Options of {@link redisStore}. */
export interface RedisStoreOptions {
  /**
   * Prefix of every key (default `'x402:'`). Processes that share a prefix share one budget.
   * With Redis Cluster, put a hash tag in it (e.g. `'{x402}:'`) so all the keys of a budget live
   * in one slot.
   */
  readonly prefix?: string;
  /** Milliseconds after which an operation rejects, so the payment is refused (default 2,000). */
  readonly timeoutMs?: number;
  /**
   * Most records `report()` returns, newest kept (default 10,000). Limits are unaffected.
   * A soft bound in Redis: so that a reservation does not pay for evicting a record every time,
   * the index may grow to `maxRecords + slack` records, slack being `floor(maxRecords / 64)`
   * (at least 1, at most 1,000: 156 for the default), before the oldest are dropped down to
   * `maxRecords` in one go; `report()` still returns at most the newest `maxRecords`.
   */
  readonly maxRecords?: number;
  /** Seconds a reservation id is remembered, so that a retried reserve counts once (default 86,400). */
  readonly reservationTtlSeconds?: number;
}

/** Amounts travel as decimal strings; the scripts add and compare them exactly up to this size. */
const MAX_DIGITS = 100;

/**
 * A spend store in Redis, for a fleet of agents on many machines sharing one budget. Each
 * check-and-reserve is one Lua script, so it is atomic across every process using the same
 * `prefix`; time comes from the Redis server, not from the hosts' clocks. Every error, malformed
 * reply or timeout rejects the operation, and a rejected reserve means no payment (fail closed).
 * Reservations are idempotent by id: a retried reserve (for example resent by the
 * client after a reconnect) counts once and answers with the first reservation's time, even
 * after it was settled; a reserve of a released id is refused, since that id's payment was
 * never sent and a new payment needs a new id. Amounts are exact at any size (decimal strings
 * in Lua, not doubles). A reserve that times out may still have been recorded: it then stays
 * counted, never signed (over-counting, the safe side).
 *
 * Keys, under `prefix`: `c:<counter>` (hash of bucket → amount; rolling and calendar counters
 * expire once idle, totals never), `r:<id>` (a reservation, kept `reservationTtlSeconds`),
 * `records` (hash of id → JSON record), `report` (sorted set indexing the records by time),
 * `seq`, and `format` (absent in format 1: a newer x402-autopay whose keys mean something else
 * writes its format number there, and this version then refuses every operation,
 * `newer_format`, instead of misreading the budget). The report stays readable by any Redis tool.
 *
 * Takes any client with promise-returning `eval` and `evalsha` (an ioredis `Redis` or `Cluster`);
 * this entry never imports ioredis. Configure the client to give up rather than queue while
 * disconnected (`enableOfflineQueue: false`, a small `maxRetriesPerRequest`) so that an outage
 * refuses payments at once instead of after `timeoutMs`; without the offline queue, connect
 * before the first payment (`lazyConnect: true` and `await redis.connect()`).
 *
 * @example
 * ```ts
 * import { Redis } from 'ioredis';
 * import { wrapFetch } from 'x402-autopay';
 * import { redisStore } from 'x402-autopay/redis';
 *
 * const redis = new Redis(process.env.REDIS_URL!, { maxRetriesPerRequest: 1, enableOfflineQueue: false, lazyConnect: true });
 * await redis.connect();
 * const paidFetch = wrapFetch(fetch, account, {
 *   budget: { daily: '20.00' },
 *   store: redisStore(redis, { prefix: 'x402:fleet-a:' }),
 * });
 * ```
 */
export function redisStore(client: RedisScriptClient, options: RedisStoreOptions = {}): SpendStore {
  if (typeof client !== 'object' || client === null || typeof client.eval !== 'function' || typeof client.evalsha !== 'function') {
    throw new TypeError('redisStore: client must have eval() and evalsha() (an ioredis Redis or Cluster)');
  }
  const prefix = options.prefix ?? 'x402:';
  if (typeof prefix !== 'string') throw new TypeError('redisStore: options.prefix must be a string');
  const timeoutMs = positiveInteger(options.timeoutMs ?? 2_000, 'timeoutMs');
  const maxRecords = positiveInteger(options.maxRecords ?? 10_000, 'maxRecords');
  const reservationTtl = positiveInteger(options.reservationTtlSeconds ?? 86_400, 'reservationTtlSeconds');
  const run = createScriptRunner(client, timeoutMs);
  const keys = {
    counter: (check: Pick<CounterCheck, 'key'>) => `${prefix}c:${check.key}`,
    reservation: (id: string) => `${prefix}r:${id}`,
    records: `${prefix}records`,
    report: `${prefix}report`,
    seq: `${prefix}seq`,
    format: `${prefix}format`,
  };

  return {
    async reserve(request) {
      const id = requireId(request.id);
      const args = [id, recordJson(request.record), String(maxRecords), String(reservationTtl), String(CLOCK_JUMP_GRACE_SECONDS)];
      for (const check of request.checks) {
        const { width, span } = bucketsOf(check.window);
        args.push(String(width), String(span), String(ttlOf(check.window)), amountText(check.amount, `amount of ${check.key}`), amountText(check.limit, `limit of ${check.key}`));
      }
      const reply = await run(RESERVE_SCRIPT, [keys.reservation(id), keys.records, keys.report, keys.seq, ...request.checks.map(keys.counter), keys.format], args);
      return parseReserveReply(reply, request.checks.length);
    },

    async release(id) {
      const reply = await run(RELEASE_SCRIPT, [keys.reservation(requireId(id)), keys.records, keys.format], [id, String(PENDING_TTL_MS)]);
      return reply === 1;
    },

    async settle(id, status, transaction, authorization) {
      if (status !== 'settled' && status !== 'failed' && status !== 'unknown') throw new TypeError(`redisStore: unknown settlement status ${String(status)}`);
      await run(SETTLE_SCRIPT, [keys.reservation(requireId(id)), keys.records, keys.format], [id, status, transaction ?? '', authorizationJson(authorization)]);
    },

    async usage(checks) {
      if (checks.length === 0) return [];
      const args = checks.flatMap((check) => {
        const { width, span } = bucketsOf(check.window);
        return [String(width), String(span)];
      });
      const reply = await run(USAGE_SCRIPT, [...checks.map(keys.counter), keys.format], args);
      if (!Array.isArray(reply) || reply.length !== checks.length) throw new Error('redisStore: usage got a malformed reply');
      return reply.map((value) => decimal(value, 'usage'));
    },

    async report(query = {}) {
      const { since, limit } = query;
      if (since !== undefined && !Number.isFinite(since)) throw new TypeError('redisStore: report since must be a finite number of ms');
      if (limit !== undefined && !(Number.isSafeInteger(limit) && limit >= 0)) throw new TypeError('redisStore: report limit must be a non-negative integer');
      if (limit === 0) return [];
      // Redis may hold a few more than maxRecords (evicted in batches): the newest maxRecords are the report.
      const newest = Math.min(limit ?? maxRecords, maxRecords);
      const reply = await run(REPORT_SCRIPT, [keys.records, keys.report, keys.format], [since === undefined ? '-inf' : String(since), String(newest)]);
      if (!Array.isArray(reply)) throw new Error('redisStore: report got a malformed reply');
      return reply.map(parseSpendRecord);
    },
  };
}

/** Bucket width (0 for totals) and the number of buckets that count, from `windows.ts` itself. */
function bucketsOf(window: CounterWindow): { width: number; span: number } {
  if (window?.kind === 'total') return { width: 0, span: 0 };
  if ((window?.kind !== 'rolling' && window?.kind !== 'calendar') || ![60, 3600, 86400].includes(window.seconds)) {
    throw new TypeError(`redisStore: unknown counter window ${JSON.stringify(window)}`);
  }
  const someTime = 1_700_000_000;
  return { width: bucketSeconds(window), span: bucketIndex(window, someTime) - oldestCounted(window, someTime) + 1 };
}

/**
 * Seconds an idle counter is kept: its window, plus the clock-jump grace during which its
 * buckets are kept after they stop counting, plus a minute (totals never expire).
 */
function ttlOf(window: CounterWindow): number {
  return window.kind === 'total' ? 0 : window.seconds + CLOCK_JUMP_GRACE_SECONDS + 60;
}

function parseReserveReply(reply: unknown, checks: number): ReserveResult {
  if (Array.isArray(reply) && reply[0] === 'ok' && reply.length === 2) {
    const time = Number(decimal(reply[1], 'reserve time'));
    return { ok: true, time };
  }
  if (Array.isArray(reply) && reply[0] === 'exceeded' && reply.length === 3) {
    const failed = Number(decimal(reply[1], 'reserve index'));
    if (failed < checks) return { ok: false, failed, used: decimal(reply[2], 'reserve usage') };
  }
  throw new Error('redisStore: reserve got a malformed reply');
}

function decimal(value: unknown, what: string): bigint {
  if (typeof value !== 'string' || !/^(0|[1-9][0-9]*)$/.test(value) || value.length > 2 * MAX_DIGITS) throw new Error(`redisStore: ${what} got a malformed reply`);
  return BigInt(value);
}

function amountText(value: bigint, what: string): string {
  const text = typeof value === 'bigint' && value >= 0n ? value.toString() : '';
  if (text === '' || text.length > MAX_DIGITS) throw new RangeError(`redisStore: ${what} must be a non-negative bigint of at most ${MAX_DIGITS} digits`);
  return text;
}

function requireId(id: unknown): string {
  if (typeof id !== 'string' || id.length === 0 || id.length > 200) throw new TypeError('redisStore: a reservation id must be a non-empty string of at most 200 characters');
  return id;
}

function positiveInteger(value: number, name: string): number {
  if (!Number.isSafeInteger(value) || value <= 0) throw new TypeError(`redisStore: options.${name} must be a positive integer`);
  return value;
}

/** The authorization of a settle as the settle script stores it (checked here: the script trusts it), or '' for none. */
function authorizationJson(authorization: SpendAuthorization | undefined): string {
  if (authorization === undefined) return '';
  const { from, nonce, validBefore } = authorization;
  const checked = z.safeParse(spendAuthorizationSchema, { from, nonce, validBefore });
  if (!checked.success) throw new TypeError('redisStore: settle got a malformed authorization');
  return JSON.stringify(checked.data);
}
