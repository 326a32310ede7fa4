import * as z from 'zod/mini';
import { getAddress, type Hex } from 'viem';
import { encodeBase64Json } from './codec.js';
import { SIGN_IN_WITH_X } from './v2.js';
import { toChallengeIssues } from './issues.js';
import { evmChainId } from './networks.js';
import { siweFieldProblem, SIWE_LIMITS, type SiweFields } from '../wallets/siweMessage.js';
import type { ChallengeIssue } from '../errors/InvalidChallengeError.js';
import type { Challenge } from './challenge.js';

/** A `notBefore` this far ahead of the local clock is still signed (clock skew); later, it is not. */
const NOT_BEFORE_SKEW_MS = 60_000;

const text = (max: number) => z.string().check(z.maxLength(max));
const signInExtension = /* @__PURE__ */ z.looseObject({
  info: z.looseObject({
    domain: text(261),
    uri: text(SIWE_LIMITS.uri),
    version: text(8),
    nonce: text(SIWE_LIMITS.nonce),
    issuedAt: text(64),
    expirationTime: z.optional(text(64)),
    notBefore: z.optional(text(64)),
    statement: z.optional(text(SIWE_LIMITS.statement)),
    requestId: z.optional(text(SIWE_LIMITS.requestId)),
    resources: z.optional(z.array(text(SIWE_LIMITS.uri)).check(z.maxLength(SIWE_LIMITS.resources))),
  }),
  supportedChains: z.array(z.looseObject({ chainId: text(128), type: text(32) })).check(z.maxLength(32)),
});

/**
 * What a challenge's sign-in extension allows:
 * - `none`: the challenge offers no sign-in;
 * - `refused`: it offers one that must not be signed, so the whole challenge is refused:
 *   bound to another site than the one that answered (`siwx_domain_mismatch`, a relayed login,
 *   THREATS D4), or breaking the EIP-4361 grammar (`malformed`: a line break could forge a line);
 * - `unusable`: a sign-in this wallet cannot make now (no EVM chain, expired, not yet valid),
 *   with why; the call pays as it would without it;
 * - `offer`: the fields to sign, all but the address, with an expiry of at most `maxSeconds`.
 */
export type SignInOffer =
  | { readonly kind: 'none' }
  | { readonly kind: 'refused'; readonly reason: 'siwx_domain_mismatch' | 'malformed'; readonly issues: readonly ChallengeIssue[] }
  | { readonly kind: 'unusable'; readonly why: string }
  | { readonly kind: 'offer'; readonly network: string; readonly fields: Omit<SiweFields, 'address'> };

/**
 * Reads the `sign-in-with-x` extension of a v2 challenge answered at `url` into what may be
 * signed. The sign-in must name the very origin that answered (its `domain` is that host and
 * port, its `uri` is on that origin); it is made on the first EVM chain offered for EIP-191
 * signatures that the budget's networks admit; its expiry is the server's or `maxSeconds` from
 * now, whichever comes first, so a leaked sign-in header is as short-lived as a payment.
 */
export function readSignInOffer(
  challenge: Challenge,
  url: string,
  ctx: { readonly nowMs: number; readonly maxSeconds: number; readonly networkAllowed: (network: string) => boolean },
): SignInOffer {
  const raw = challenge.version === 2 ? challenge.extensions?.[SIGN_IN_WITH_X] : undefined;
  if (raw === undefined) return { kind: 'none' };
  const prefix = ['extensions', SIGN_IN_WITH_X];
  const parsed = signInExtension.safeParse(raw);
  if (!parsed.success) return { kind: 'refused', reason: 'malformed', issues: toChallengeIssues(parsed.error.issues, prefix) };
  const { info, supportedChains } = parsed.data;
  const at = `${prefix.join('.')}.info`;
  const answered = new URL(url);
  if (info.domain.toLowerCase() !== answered.host) {
    return mismatch(`${at}.domain`, `names ${JSON.stringify(info.domain.slice(0, 64))}, but ${answered.host} answered: a sign-in for another site`);
  }
  let uriOrigin: string | undefined;
  try {
    uriOrigin = new URL(info.uri).origin;
  } catch {
    uriOrigin = undefined;
  }
  if (uriOrigin !== answered.origin) {
    return mismatch(`${at}.uri`, `is not on ${answered.origin}, the origin that answered: a sign-in for another site`);
  }
  const chain = supportedChains.find((c) => c.type === 'eip191' && evmChainId(c.chainId) !== undefined && ctx.networkAllowed(c.chainId));
  if (!chain) return { kind: 'unusable', why: 'it offers no EVM chain with EIP-191 signatures that budget.networks admits' };
  const latest = ctx.nowMs + ctx.maxSeconds * 1000;
  const serverExpiry = info.expirationTime === undefined ? undefined : Date.parse(info.expirationTime);
  const fields: Omit<SiweFields, 'address'> = {
    domain: info.domain,
    uri: info.uri,
    version: info.version,
    chainId: evmChainId(chain.chainId)!,
    nonce: info.nonce,
    issuedAt: info.issuedAt,
    // The shorter of the server's expiry and ours (the verifier reads the expiry from the
    // signed message; a server that sets none would otherwise get a sign-in valid forever).
    expirationTime: serverExpiry !== undefined && serverExpiry <= latest ? info.expirationTime : new Date(latest).toISOString(),
    // An empty statement, request id or resource list is no statement, id or list.
    ...(info.statement ? { statement: info.statement } : {}),
    ...(info.notBefore !== undefined ? { notBefore: info.notBefore } : {}),
    ...(info.requestId ? { requestId: info.requestId } : {}),
    ...(info.resources?.length ? { resources: info.resources } : {}),
  };
  // The address only needs to be well formed here; the wallet's own is put in when signing.
  const problem = siweFieldProblem({ ...fields, address: '0x0000000000000000000000000000000000000000' });
  if (problem !== undefined) {
    const [field, message] = problem.split(': ', 2) as [string, string];
    return { kind: 'refused', reason: 'malformed', issues: [{ path: `${at}.${field}`, message: message ?? problem }] };
  }
  if (serverExpiry !== undefined && serverExpiry <= ctx.nowMs) return { kind: 'unusable', why: 'it has expired' };
  if (info.notBefore !== undefined && Date.parse(info.notBefore) > ctx.nowMs + NOT_BEFORE_SKEW_MS) return { kind: 'unusable', why: 'it is not valid yet' };
  return { kind: 'offer', network: chain.chainId, fields };
}

function mismatch(path: string, message: string): SignInOffer {
  return { kind: 'refused', reason: 'siwx_domain_mismatch', issues: [{ path, message }] };
}

/**
 * Encodes the `SIGN-IN-WITH-X` header: base64 of the signed fields as JSON, with the CAIP-2
 * chain id, the signature type and the signature.
 */
export function encodeSignInHeader(offer: Extract<SignInOffer, { kind: 'offer' }>, address: string, signature: Hex): string {
  const { fields } = offer;
  return encodeBase64Json({
    domain: fields.domain,
    address: getAddress(address),
    statement: fields.statement,
    uri: fields.uri,
    version: fields.version,
    chainId: offer.network,
    type: 'eip191',
    nonce: fields.nonce,
    issuedAt: fields.issuedAt,
    expirationTime: fields.expirationTime,
    notBefore: fields.notBefore,
    requestId: fields.requestId,
    resources: fields.resources,
    signature,
  });
}
