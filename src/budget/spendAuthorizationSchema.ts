import * as z from 'zod/mini';

/**
 * The stored form of a {@link SpendAuthorization} (a spend record's `authorization`), for the
 * stores that read their records back from storage: an address, a 32-byte nonce and a decimal
 * `validBefore`, nothing else.
 */
export const spendAuthorizationSchema = z.strictObject({
  from: z.string().check(z.regex(/^0x[0-9a-fA-F]{40}$/, 'must be an address')),
  nonce: z.string().check(z.regex(/^0x[0-9a-fA-F]{64}$/, 'must be 32 bytes of hex')),
  validBefore: z.string().check(z.regex(/^(0|[1-9][0-9]{0,19})$/, 'must be unix seconds as a decimal string')),
});
