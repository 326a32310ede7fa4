import { paymentRequiredV1, paymentRequirementsV1 } from './schemas.js';
import { toChallengeIssues } from './issues.js';
import { parseAccepts } from './parseAccepts.js';
import { deepFreeze } from '../internal/freeze.js';
import { encodeBase64Json } from './codec.js';
import { v1NetworkToCaip2 } from './networks.js';
import type { ParseChallengeResult } from './v2.js';
import type { PaymentOption } from './challenge.js';

/** Name of the v1 payment header. */
export const X_PAYMENT_HEADER = 'X-PAYMENT';
/** Name of the v1 settlement header. */
export const X_PAYMENT_RESPONSE_HEADER = 'X-PAYMENT-RESPONSE';

/** Validates a v1 402 JSON body and turns it into the model. The input is frozen. */
export function parseChallengeV1(value: unknown): ParseChallengeResult {
  const top = paymentRequiredV1.safeParse(value);
  if (!top.success) return { ok: false, issues: toChallengeIssues(top.error.issues) };
  const raw = deepFreeze(value as Record<string, unknown>);
  const parsed = parseAccepts(raw['accepts'] as readonly unknown[], paymentRequirementsV1, (r) => ({
    scheme: r.scheme,
    network: v1NetworkToCaip2(r.network),
    wireNetwork: r.network,
    amountField: 'maxAmountRequired',
    amount: r.maxAmountRequired,
    asset: r.asset,
    payTo: r.payTo,
    maxTimeoutSeconds: r.maxTimeoutSeconds,
    extra: r.extra,
  }));
  if (!parsed.ok) return parsed;
  return {
    ok: true,
    challenge: Object.freeze({
      version: 1,
      source: 'body',
      error: top.data.error,
      resource: undefined,
      options: parsed.options,
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
