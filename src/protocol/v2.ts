import { paymentRequiredV2, paymentRequirementsV2 } from './schemas.js';
import { toChallengeIssues } from './issues.js';
import { parseAtomic } from '../internal/amount.js';
import { deepFreeze } from '../internal/freeze.js';
import { encodeBase64Json } from './codec.js';
import type { ChallengeIssue } from '../errors/InvalidChallengeError.js';
import type { Challenge, PaymentOption } from './challenge.js';

/** Name of the v2 challenge header. */
export const PAYMENT_REQUIRED_HEADER = 'PAYMENT-REQUIRED';
/** Name of the v2 payment header. */
export const PAYMENT_SIGNATURE_HEADER = 'PAYMENT-SIGNATURE';
/** Name of the v2 settlement header. */
export const PAYMENT_RESPONSE_HEADER = 'PAYMENT-RESPONSE';

/** Result of reading a challenge object. */
export type ParseChallengeResult = { ok: true; challenge: Challenge } | { ok: false; issues: ChallengeIssue[] };

/** Validates a decoded v2 `PaymentRequired` and turns it into the model. The input is frozen. */
export function parseChallengeV2(value: unknown, source: 'header' | 'body'): ParseChallengeResult {
  const top = paymentRequiredV2.safeParse(value);
  if (!top.success) return { ok: false, issues: toChallengeIssues(top.error.issues) };
  const raw = deepFreeze(value as Record<string, unknown>);
  const accepts = raw['accepts'] as readonly unknown[];
  const issues: ChallengeIssue[] = [];
  const options: PaymentOption[] = [];
  accepts.forEach((entry, index) => {
    const parsed = paymentRequirementsV2.safeParse(entry);
    if (!parsed.success) {
      issues.push(...toChallengeIssues(parsed.error.issues, ['accepts', index]));
      return;
    }
    const amount = parseAtomic(parsed.data.amount);
    if (amount === undefined) {
      issues.push({ path: `accepts.${index}.amount`, message: 'larger than uint256' });
      return;
    }
    options.push({
      index,
      scheme: parsed.data.scheme,
      network: parsed.data.network,
      wireNetwork: parsed.data.network,
      amount,
      asset: parsed.data.asset,
      payTo: parsed.data.payTo,
      maxTimeoutSeconds: parsed.data.maxTimeoutSeconds,
      extra: parsed.data.extra ?? undefined,
      wire: entry as Readonly<Record<string, unknown>>,
    });
  });
  if (issues.length > 0) return { ok: false, issues };
  return {
    ok: true,
    challenge: Object.freeze({
      version: 2,
      source,
      error: top.data.error,
      resource: raw['resource'] as Readonly<Record<string, unknown>> | undefined,
      options: Object.freeze(options.map((o) => Object.freeze(o))),
      extensions: raw['extensions'] as Readonly<Record<string, unknown>> | undefined,
    }),
  };
}

/**
 * Encodes the v2 `PAYMENT-SIGNATURE` value:
 * `base64({x402Version:2, resource, accepted, payload, extensions})`, with `accepted` the
 * chosen requirement exactly as received and `extensions` echoed as received.
 */
export function encodePaymentV2(args: {
  challenge: Challenge;
  accepted: Readonly<Record<string, unknown>>;
  payload: unknown;
  extensions?: Readonly<Record<string, unknown>> | undefined;
}): string {
  return encodeBase64Json({
    x402Version: 2,
    resource: args.challenge.resource,
    accepted: args.accepted,
    payload: args.payload,
    extensions: args.extensions,
  });
}
