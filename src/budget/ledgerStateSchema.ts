import * as z from 'zod/mini';
import { toChallengeIssues } from '../protocol/issues.js';
import { LEDGER_STATE_VERSION } from './ledgerState.js';

/** Keys of stored maps; `__proto__` is never a key this library writes. */
export const mapKey = z.string().check(
  z.minLength(1),
  z.maxLength(1024),
  z.refine((key) => key !== '__proto__', 'must not be __proto__'),
);
/** A non-negative decimal integer string, as stored amounts are. */
export const decimal = z.string().check(z.regex(/^(0|[1-9][0-9]{0,99})$/, 'must be a non-negative decimal integer string'));

/** The schema of a stored `LedgerState` (src/budget/ledgerState.ts), shared by the file and browser stores. */
export const ledgerStateSchema = z.strictObject({
  version: z.literal(LEDGER_STATE_VERSION),
  counters: z.record(mapKey, z.record(z.string().check(z.regex(/^-?(0|[1-9][0-9]{0,15})$/, 'must be a bucket index')), decimal)),
  pending: z.record(
    mapKey,
    z.strictObject({
      time: z.number().check(z.int()),
      adds: z.array(z.strictObject({ key: mapKey, bucket: z.number().check(z.int()), amount: decimal })),
    }),
  ),
});

/** A parse result: the value, or why it is not acceptable. */
export type Parsed<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly why: string };

/**
 * Parses stored ledger JSON against a schema. A `__proto__` key anywhere is refused before the
 * schema runs (the schema's copy would silently drop it, losing a counter).
 *
 * @example
 * ```ts
 * import { parseStoredJson, ledgerStateSchema } from './ledgerStateSchema.js';
 * const parsed = parseStoredJson(text, ledgerStateSchema);
 * if (!parsed.ok) throw new Error(`corrupt ledger: ${parsed.why}`);
 * ```
 */
export function parseStoredJson<T>(text: string, schema: z.ZodMiniType<T>): Parsed<T> {
  let json: unknown;
  let proto = false;
  try {
    json = JSON.parse(text, (name, value: unknown) => {
      if (name === '__proto__') proto = true;
      return value;
    });
  } catch {
    return { ok: false, why: 'it is not valid JSON' };
  }
  if (proto) return { ok: false, why: 'it has a "__proto__" key' };
  const parsed = z.safeParse(schema, json);
  if (!parsed.success) {
    const issue = toChallengeIssues(parsed.error.issues)[0];
    return { ok: false, why: `it does not have the expected shape (${issue ? `${issue.path || '(root)'}: ${issue.message}` : 'unexpected shape'})` };
  }
  return { ok: true, value: parsed.data };
}
