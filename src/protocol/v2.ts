import { paymentRequiredV2, paymentRequirementsV2 } from './schemas.js';
import { toChallengeIssues } from './issues.js';
import { parseAccepts } from './parseAccepts.js';
import { deepFreeze } from '../internal/freeze.js';
import { encodeBase64Json } from './codec.js';
import type { ChallengeIssue } from '../errors/InvalidChallengeError.js';
import type { Challenge } from './challenge.js';

/** Name of the v2 challenge header. */
export const PAYMENT_REQUIRED_HEADER = 'PAYMENT-REQUIRED';
/** Name of the v2 payment header. */
export const PAYMENT_SIGNATURE_HEADER = 'PAYMENT-SIGNATURE';
/** Name of the v2 settlement header. */
export const PAYMENT_RESPONSE_HEADER = 'PAYMENT-RESPONSE';
/** Key of the sign-in extension in a v2 challenge's `extensions` (CAIP-122 "Sign-In-With-X"). */
export const SIGN_IN_WITH_X = 'sign-in-with-x';
/** Request header that carries a signed sign-in (base64 JSON). */
export const SIGN_IN_WITH_X_HEADER = 'SIGN-IN-WITH-X';

/** Result of reading a challenge object. */
export type ParseChallengeResult = { ok: true; challenge: Challenge } | { ok: false; issues: ChallengeIssue[] };

/** Validates a decoded v2 `PaymentRequired` and turns it into the model. The input is frozen. */
export function parseChallengeV2(value: unknown, source: 'header' | 'body'): ParseChallengeResult {
  const top = paymentRequiredV2.safeParse(value);
  if (!top.success) return { ok: false, issues: toChallengeIssues(top.error.issues) };
  // An auth-only route offers nothing to pay, only a sign-in (`sign-in-with-x`).
  if (top.data.accepts.length === 0 && top.data.extensions?.[SIGN_IN_WITH_X] === undefined) {
    return { ok: false, issues: [{ path: 'accepts', message: 'too small (minimum 1)' }] };
  }
  const raw = deepFreeze(value as Record<string, unknown>);
  const parsed = parseAccepts(raw['accepts'] as readonly unknown[], paymentRequirementsV2, (r) => ({
    scheme: r.scheme,
    network: r.network,
    wireNetwork: r.network,
    amountField: 'amount',
    amount: r.amount,
    asset: r.asset,
    payTo: r.payTo,
    maxTimeoutSeconds: r.maxTimeoutSeconds,
    extra: r.extra,
  }));
  if (!parsed.ok) return parsed;
  return {
    ok: true,
    challenge: Object.freeze({
      version: 2,
      source,
      error: top.data.error,
      resource: raw['resource'] as Readonly<Record<string, unknown>> | undefined,
      options: parsed.options,
      extensions: raw['extensions'] as Readonly<Record<string, unknown>> | undefined,
    }),
  };
}

/**
 * Encodes the v2 `PAYMENT-SIGNATURE` value:
 * `base64({x402Version:2, resource, accepted, payload, extensions})`, with `accepted` the
 * chosen requirement exactly as received and `extensions` echoed as received (plus the client's
 * `payment-identifier` id when the server advertised that extension: see `attachPaymentIdentifier`).
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
