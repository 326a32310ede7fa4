import type { Address, Hex } from 'viem';
import type { AuthorizationRef } from '../schemes/exactEvm.js';
import type { SpendRecord } from './store.js';

/**
 * A spend record's authorization (the one planned at reservation, or the one signed) as one to
 * look up on chain: the record's network and token, the payer, the nonce and `validBefore`.
 *
 * @param record - a spend record that has an `authorization`.
 * @returns the authorization to look up (frozen).
 * @throws TypeError when the record has none (records written before planned authorizations were kept).
 *
 * @example
 * ```ts
 * import { authorizationOf } from './authorizationOf.js';
 * const check = await checker.check(authorizationOf(record));
 * ```
 */
export function authorizationOf(record: SpendRecord): AuthorizationRef {
  if (!record.authorization) throw new TypeError(`the spend record ${record.id} has no authorization to look up`);
  const { from, nonce, validBefore } = record.authorization;
  return Object.freeze({ network: record.network, token: record.asset as Address, from: from as Address, nonce: nonce as Hex, validBefore: BigInt(validBefore) });
}
