import { paymentRequiredV1, paymentRequirementsV1 } from './schemas.js';
import { toChallengeIssues } from './issues.js';
import { parseAtomic } from '../internal/amount.js';
import { deepFreeze } from '../internal/freeze.js';
import { encodeBase64Json } from './codec.js';
import { v1NetworkToCaip2 } from './networks.js';
import type { ChallengeIssue } from '../errors/InvalidChallengeError.js';
import type { PaymentOption } from './challenge.js';
import type { ParseChallengeResult } from './v2.js';

/** Name of the v1 payment header. */
export const X_PAYMENT_HEADER = 'X-PAYMENT';
/** Name of the v1 settlement header. */
export const X_PAYMENT_RESPONSE_HEADER = 'X-PAYMENT-RESPONSE';

/** Validates a v1 402 JSON body and turns it into the model. The input is frozen. */
export function parseChallengeV1(value: unknown): ParseChallengeResult {
  const top = paymentRequiredV1.safeParse(value);
  if (!top.success) return { ok: false, issues: toChallengeIssues(top.error.issues) };
  const raw = deepFreeze(value as Record<string, unknown>);
  const accepts = raw['accepts'] as readonly unknown[];
  const issues: ChallengeIssue[] = [];
  const options: PaymentOption[] = [];
  accepts.forEach((entry, index) => {
    const parsed = paymentRequirementsV1.safeParse(entry);
    if (!parsed.success) {
      issues.push(...toChallengeIssues(parsed.error.issues, ['accepts', index]));
      return;
    }
    const amount = parseAtomic(parsed.data.maxAmountRequired);
    if (amount === undefined) {
      issues.push({ path: `accepts.${index}.maxAmountRequired`, message: 'larger than uint256' });
      return;
    }
    options.push({
      index,
      scheme: parsed.data.scheme,
      network: v1NetworkToCaip2(parsed.data.network),
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
      version: 1,
      source: 'body',
      error: top.data.error,
      resource: undefined,
      options: Object.freeze(options.map((o) => Object.freeze(o))),
      extensions: undefined,
    }),
  };
}

/** Encodes the v1 `X-PAYMENT` value: `base64({x402Version:1, scheme, network, payload})`. */
export function encodePaymentV1(args: { option: PaymentOption; payload: unknown }): string {
  return encodeBase64Json({
    x402Version: 1,
    scheme: args.option.scheme,
    network: args.option.wireNetwork,
    payload: args.payload,
  });
}
