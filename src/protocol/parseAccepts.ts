import { toChallengeIssues } from './issues.js';
import { parseAtomic } from '../internal/amount.js';
import { deepFreeze } from '../internal/freeze.js';
import type { ChallengeIssue } from '../errors/InvalidChallengeError.js';
import type { PaymentOption } from './challenge.js';

/** The fields each wire version maps onto a {@link PaymentOption}. */
export interface OptionFields {
  readonly scheme: string;
  readonly network: string | undefined;
  readonly wireNetwork: string;
  /** Name of the amount field on the wire, for issue paths. */
  readonly amountField: string;
  readonly amount: string;
  readonly asset: string;
  readonly payTo: string;
  readonly maxTimeoutSeconds: number;
  readonly extra: Readonly<Record<string, unknown>> | null | undefined;
}

interface Schema<T> {
  safeParse(value: unknown): { success: true; data: T } | { success: false; error: { issues: Parameters<typeof toChallengeIssues>[0] } };
}

/**
 * Validates every entry of `accepts` with the version's schema and maps it to a
 * {@link PaymentOption}; returns the options, or every issue found (paths `accepts.<i>.<field>`).
 */
export function parseAccepts<T>(
  accepts: readonly unknown[],
  schema: Schema<T>,
  fields: (data: T) => OptionFields,
): { ok: true; options: readonly PaymentOption[] } | { ok: false; issues: ChallengeIssue[] } {
  const issues: ChallengeIssue[] = [];
  const options: PaymentOption[] = [];
  accepts.forEach((entry, index) => {
    const parsed = schema.safeParse(entry);
    if (!parsed.success) {
      issues.push(...toChallengeIssues(parsed.error.issues, ['accepts', index]));
      return;
    }
    const f = fields(parsed.data);
    const amount = parseAtomic(f.amount);
    if (amount === undefined) {
      issues.push({ path: `accepts.${index}.${f.amountField}`, message: 'larger than uint256' });
      return;
    }
    options.push(
      Object.freeze({
        index,
        scheme: f.scheme,
        network: f.network,
        wireNetwork: f.wireNetwork,
        amount,
        asset: f.asset,
        payTo: f.payTo,
        maxTimeoutSeconds: f.maxTimeoutSeconds,
        // The validated object itself (frozen, inside `wire`), never a schema library's copy:
        // what selection checks is what is echoed.
        extra: rawExtra(entry, f.extra),
        wire: entry as Readonly<Record<string, unknown>>,
      }),
    );
  });
  return issues.length > 0 ? { ok: false, issues } : { ok: true, options: Object.freeze(options) };
}

/**
 * The requirement's own `extra` object, frozen, when the schema accepted one; undefined for null or
 * absent. The schema accepts nothing else there, so a validated object means the entry holds one.
 */
function rawExtra(entry: unknown, validated: OptionFields['extra']): Readonly<Record<string, unknown>> | undefined {
  return validated ? deepFreeze((entry as { extra: Record<string, unknown> }).extra) : undefined;
}
