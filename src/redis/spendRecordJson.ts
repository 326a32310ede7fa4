import * as z from 'zod/mini';
import type { SpendRecord } from '../budget/store.js';
import { spendAuthorizationSchema } from '../budget/spendAuthorizationSchema.js';

const text = z.string().check(z.maxLength(4096));

const recordSchema = z.object({
  id: text,
  time: z.number().check(z.int(), z.nonnegative()),
  host: text,
  payee: text,
  amount: z.string().check(z.regex(/^(0|[1-9][0-9]{0,99})$/, 'must be a non-negative decimal integer string')),
  asset: text,
  network: text,
  status: z.enum(['reserved', 'settled', 'failed', 'unknown', 'released']),
  transaction: z.optional(text),
  authorization: z.optional(spendAuthorizationSchema),
});

/**
 * Parses one report record as the scripts store it (a JSON object in the records hash);
 * throws on anything else, so a tampered report is never passed on as data.
 *
 * @example
 * ```ts
 * import { parseSpendRecord } from './spendRecordJson.js';
 * const record = parseSpendRecord('{"id":"pay_1","time":1750000000000,"host":"api.example.com",…}');
 * ```
 */
export function parseSpendRecord(json: unknown): SpendRecord {
  if (typeof json !== 'string') throw new Error('redisStore: a report record is not a string');
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch {
    throw new Error('redisStore: a report record is not valid JSON');
  }
  const parsed = z.safeParse(recordSchema, value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(`redisStore: a report record is malformed at ${issue?.path.join('.') || '(root)'}: ${issue?.message ?? 'invalid'}`);
  }
  const { transaction, authorization, ...rest } = parsed.data;
  return { ...rest, ...(transaction === undefined || transaction === '' ? {} : { transaction }), ...(authorization ? { authorization } : {}) };
}

/**
 * The record fields the reserve script stores as given (it adds id, time and status).
 *
 * @example
 * ```ts
 * import { recordJson } from './spendRecordJson.js';
 * const json = recordJson(request.record);
 * ```
 */
export function recordJson(record: Omit<SpendRecord, 'id' | 'time' | 'status' | 'transaction'>): string {
  const { authorization: a } = record;
  return JSON.stringify({
    host: record.host,
    payee: record.payee,
    amount: record.amount,
    asset: record.asset,
    network: record.network,
    ...(a ? { authorization: { from: a.from, nonce: a.nonce, validBefore: a.validBefore } } : {}),
  });
}
