import { getAddress, type Address } from 'viem';

/**
 * The fields of an EIP-4361 (Sign-In with Ethereum) message, as the x402 `sign-in-with-x`
 * extension carries them: strings exactly as they go into the message (dates in RFC 3339).
 */
export interface SiweFields {
  /** RFC 3986 authority asking for the sign-in: the host (and port) of the site. */
  readonly domain: string;
  /** The signing address. */
  readonly address: string;
  /** One line of text shown to the signer (ASCII, no line break). */
  readonly statement?: string | undefined;
  /** The resource the sign-in is for (an absolute URI). */
  readonly uri: string;
  /** Always `'1'`. */
  readonly version: string;
  /** EIP-155 chain id. */
  readonly chainId: number;
  /** The site's nonce: at least 8 letters and digits. */
  readonly nonce: string;
  /** When the message was issued (RFC 3339). */
  readonly issuedAt: string;
  /** When the sign-in stops being valid (RFC 3339). */
  readonly expirationTime?: string | undefined;
  /** When the sign-in starts being valid (RFC 3339). */
  readonly notBefore?: string | undefined;
  /** The site's id for this request. */
  readonly requestId?: string | undefined;
  /** Further URIs the sign-in refers to. */
  readonly resources?: readonly string[] | undefined;
}

/** The longest `statement`, URI and list of resources a message may carry (a bound, not a rule of EIP-4361). */
export const SIWE_LIMITS = { statement: 1024, uri: 2048, resources: 32, nonce: 128, requestId: 256 } as const;

// EIP-4361's grammar, as strict as the verifiers read it: a field that breaks it (a line break
// above all, which could forge a line of the message) is refused, never escaped.
const AUTHORITY = /^(?:[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(?::[0-9]{1,5})?$/;
const STATEMENT = /^[A-Za-z0-9\-._~:/?#[\]@!$&'()*+,;= ]+$/;
const NONCE = /^[A-Za-z0-9]{8,}$/;
const URI_CHARS = /^[A-Za-z][A-Za-z0-9+.-]*:[\x21-\x7e]+$/;
const REQUEST_ID = /^[A-Za-z0-9\-._~%!$&'()*+,;=:@]*$/;
const DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:Z|[+-]\d{2}:\d{2})$/;

/**
 * What is wrong with a message's fields, as `field: problem`; undefined when they make a valid
 * EIP-4361 message.
 */
export function siweFieldProblem(fields: SiweFields): string | undefined {
  const { domain, statement, uri, version, chainId, nonce, issuedAt, expirationTime, notBefore, requestId, resources } = fields;
  if (typeof domain !== 'string' || !AUTHORITY.test(domain) || domain.length > 261) return 'domain: must be a host name, with an optional port';
  if (statement !== undefined && (typeof statement !== 'string' || statement.length > SIWE_LIMITS.statement || !STATEMENT.test(statement))) {
    return `statement: must be one line of at most ${SIWE_LIMITS.statement} printable ASCII characters (EIP-4361)`;
  }
  if (!isUri(uri)) return `uri: must be an absolute URI of at most ${SIWE_LIMITS.uri} characters, without spaces`;
  if (version !== '1') return 'version: must be "1"';
  if (!Number.isSafeInteger(chainId) || chainId < 1) return 'chainId: must be a positive integer';
  if (typeof nonce !== 'string' || nonce.length > SIWE_LIMITS.nonce || !NONCE.test(nonce)) return 'nonce: must be at least 8 letters and digits';
  for (const [name, value] of [['issuedAt', issuedAt], ['expirationTime', expirationTime], ['notBefore', notBefore]] as const) {
    if (value === undefined && name !== 'issuedAt') continue;
    if (typeof value !== 'string' || !DATE_TIME.test(value) || !Number.isFinite(Date.parse(value))) return `${name}: must be an RFC 3339 date-time`;
  }
  if (requestId !== undefined && (typeof requestId !== 'string' || requestId === '' || requestId.length > SIWE_LIMITS.requestId || !REQUEST_ID.test(requestId))) {
    return 'requestId: must be URI path characters';
  }
  if (resources !== undefined && (!Array.isArray(resources) || resources.length === 0 || resources.length > SIWE_LIMITS.resources || !resources.every(isUri))) {
    return `resources: must be 1 to ${SIWE_LIMITS.resources} absolute URIs`;
  }
  return undefined;
}

/**
 * Writes the EIP-4361 message a wallet signs (EIP-191 `personal_sign`) to sign in with
 * Ethereum, line for line as the verifiers rebuild it from the same fields; the address is
 * checksummed. Throws a `TypeError` naming the first field that breaks the grammar: nothing is
 * ever escaped into a message.
 *
 * @example
 * ```ts
 * import { formatSiweMessage } from './siweMessage.js';
 * const message = formatSiweMessage({
 *   domain: 'api.example.com', address: '0x…', uri: 'https://api.example.com/report', version: '1',
 *   chainId: 8453, nonce: 'f0e1d2c3b4a59687', issuedAt: '2026-11-21T10:00:00.000Z',
 * });
 * ```
 */
export function formatSiweMessage(fields: SiweFields): string {
  const problem = siweFieldProblem(fields);
  if (problem !== undefined) throw new TypeError(`not a valid sign-in message: ${problem}`);
  const address: Address = getAddress(fields.address);
  let message = `${fields.domain} wants you to sign in with your Ethereum account:\n${address}\n\n`;
  message += fields.statement === undefined ? '\n' : `${fields.statement}\n\n`;
  message += `URI: ${fields.uri}\nVersion: ${fields.version}\nChain ID: ${fields.chainId}\nNonce: ${fields.nonce}\nIssued At: ${fields.issuedAt}`;
  if (fields.expirationTime !== undefined) message += `\nExpiration Time: ${fields.expirationTime}`;
  if (fields.notBefore !== undefined) message += `\nNot Before: ${fields.notBefore}`;
  if (fields.requestId !== undefined) message += `\nRequest ID: ${fields.requestId}`;
  if (fields.resources !== undefined) message += `\nResources:${fields.resources.map((r) => `\n- ${r}`).join('')}`;
  return message;
}

function isUri(value: unknown): boolean {
  if (typeof value !== 'string' || value.length > SIWE_LIMITS.uri || !URI_CHARS.test(value)) return false;
  try {
    new URL(value);
    return true;
  } catch {
    return false;
  }
}
