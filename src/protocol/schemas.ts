import { array, boolean, integer, literal, looseObject, nullable, optional, record, string } from './shape.js';

/** Most options a challenge may offer; a longer list is refused (a flood, THREATS A8). */
export const MAX_ACCEPTS = 32;
/** Longest signature lifetime a server may ask for before the request is refused as malformed. */
export const MAX_TIMEOUT_SECONDS = 7 * 24 * 3600;

/** A canonical atomic amount: digits only, no leading zeros (≤ uint256 is checked when converting). */
export const atomicString = string({ pattern: /^(0|[1-9][0-9]{0,77})$/, patternMessage: 'must be a decimal integer string of atomic units' });
const shortText = (max: number) => string({ max });
const id = string({ min: 1, max: 256 });
const extra = optional(nullable(record));
const timeout = integer(1, MAX_TIMEOUT_SECONDS);

/** v2 `PaymentRequirements`. Unknown keys are allowed (and echoed untouched). */
export const paymentRequirementsV2 = looseObject({
  scheme: id,
  network: string({ min: 3, max: 128, includes: ':' }),
  amount: atomicString,
  asset: id,
  payTo: id,
  maxTimeoutSeconds: timeout,
  extra,
});

/** v2 `ResourceInfo`. */
export const resourceInfoV2 = looseObject({
  url: shortText(4096),
  description: optional(shortText(4096)),
  mimeType: optional(shortText(256)),
});

/** v2 `PaymentRequired` (the decoded `PAYMENT-REQUIRED` header). */
export const paymentRequiredV2 = looseObject({
  x402Version: literal(2),
  error: optional(shortText(4096)),
  resource: optional(resourceInfoV2),
  accepts: array(1, MAX_ACCEPTS),
  extensions: optional(record),
});

/** v1 `PaymentRequirements` (inside the 402 JSON body). */
export const paymentRequirementsV1 = looseObject({
  scheme: id,
  network: string({ min: 1, max: 128 }),
  maxAmountRequired: atomicString,
  asset: id,
  payTo: id,
  resource: shortText(4096),
  description: optional(shortText(4096)),
  mimeType: optional(shortText(256)),
  outputSchema: optional(nullable(record)),
  maxTimeoutSeconds: timeout,
  extra,
});

/** v1 `PaymentRequirementsResponse` (the 402 JSON body). */
export const paymentRequiredV1 = looseObject({
  x402Version: literal(1),
  error: optional(shortText(4096)),
  accepts: array(1, MAX_ACCEPTS),
});

/** `SettleResponse`, as carried by `PAYMENT-RESPONSE` / `X-PAYMENT-RESPONSE` (both versions). */
export const settleResponse = looseObject({
  success: boolean,
  errorReason: optional(shortText(1024)),
  errorMessage: optional(shortText(1024)),
  payer: optional(shortText(256)),
  transaction: optional(shortText(256)),
  network: optional(shortText(128)),
  amount: optional(atomicString),
});
