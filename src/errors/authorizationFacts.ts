import type { AuthorizationRef } from '../schemes/exactEvm.js';

/**
 * The fact lines an error shows about a signed authorization: who signed it, its nonce and until
 * when it can be settled (what to look up on chain; never the signature).
 */
export function authorizationFacts(authorization: AuthorizationRef): Record<string, string> {
  return {
    payer: authorization.from,
    nonce: authorization.nonce,
    'authorization valid until': new Date(Number(authorization.validBefore) * 1000).toISOString(),
  };
}
