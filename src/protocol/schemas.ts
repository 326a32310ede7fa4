import * as z from 'zod/mini';

/** Most options a challenge may offer; a longer list is refused (a flood, THREATS A8). */
export const MAX_ACCEPTS = 32;
/** Longest signature lifetime a server may ask for before the request is refused as malformed. */
export const MAX_TIMEOUT_SECONDS = 7 * 24 * 3600;

/** A canonical atomic amount: digits only, no leading zeros (≤ uint256 is checked when converting). */
export const atomicString = z.string().check(z.regex(/^(0|[1-9][0-9]{0,77})$/, 'must be a decimal integer string of atomic units'));
const shortText = (max: number) => z.string().check(z.maxLength(max));
const id = z.string().check(z.minLength(1), z.maxLength(256));
const extra = z.optional(z.nullable(z.record(z.string(), z.unknown())));
const timeout = z.number().check(z.int(), z.gte(1), z.lte(MAX_TIMEOUT_SECONDS));

/** v2 `PaymentRequirements`. Unknown keys are allowed (and echoed untouched). */
export const paymentRequirementsV2 = z.looseObject({
  scheme: id,
  network: z.string().check(z.minLength(3), z.maxLength(128), z.includes(':')),
  amount: atomicString,
  asset: id,
  payTo: id,
  maxTimeoutSeconds: timeout,
  extra,
});

/** v2 `ResourceInfo`. */
export const resourceInfoV2 = z.looseObject({
  url: shortText(4096),
  description: z.optional(shortText(4096)),
  mimeType: z.optional(shortText(256)),
});

/**
 * v2 `PaymentRequired` (the decoded `PAYMENT-REQUIRED` header). `accepts` may be empty only when
 * the server offers a sign-in instead (checked in `parseChallengeV2`).
 */
export const paymentRequiredV2 = z.looseObject({
  x402Version: z.literal(2),
  error: z.optional(shortText(4096)),
  resource: z.optional(resourceInfoV2),
  accepts: z.array(z.unknown()).check(z.maxLength(MAX_ACCEPTS)),
  extensions: z.optional(z.record(z.string(), z.unknown())),
});

/** v1 `PaymentRequirements` (inside the 402 JSON body). */
export const paymentRequirementsV1 = z.looseObject({
  scheme: id,
  network: z.string().check(z.minLength(1), z.maxLength(128)),
  maxAmountRequired: atomicString,
  asset: id,
  payTo: id,
  resource: shortText(4096),
  description: z.optional(shortText(4096)),
  mimeType: z.optional(shortText(256)),
  outputSchema: z.optional(z.nullable(z.record(z.string(), z.unknown()))),
  maxTimeoutSeconds: timeout,
  extra,
});

/** v1 `PaymentRequirementsResponse` (the 402 JSON body). */
export const paymentRequiredV1 = z.looseObject({
  x402Version: z.literal(1),
  error: z.optional(shortText(4096)),
  accepts: z.array(z.unknown()).check(z.minLength(1), z.maxLength(MAX_ACCEPTS)),
});

/** `SettleResponse`, as carried by `PAYMENT-RESPONSE` / `X-PAYMENT-RESPONSE` (both versions). */
export const settleResponse = z.looseObject({
  success: z.boolean(),
  errorReason: z.optional(shortText(1024)),
  errorMessage: z.optional(shortText(1024)),
  payer: z.optional(shortText(256)),
  transaction: z.optional(shortText(256)),
  network: z.optional(shortText(128)),
  amount: z.optional(atomicString),
});
