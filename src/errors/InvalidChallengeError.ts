import { X402Error } from './X402Error.js';

/** One problem found in a 402 challenge: where (`path`) and what. */
export interface ChallengeIssue {
  /** Dotted path inside the decoded challenge, e.g. `accepts.0.amount`; empty for the whole value. */
  readonly path: string;
  /** What is wrong there. */
  readonly message: string;
}

/**
 * Why a challenge was refused before any option was considered: it breaks the format or the
 * schema (`malformed`), is larger than the bounds (`oversize`), says two different things
 * (`ambiguous`: duplicate keys, or header and body that disagree), is not x402 at all
 * (`not_x402`), did not arrive within `challengeTimeoutMs` (`timeout`), or, with the opt-in
 * `signIn` option, asks to sign in to another site than the one that answered
 * (`siwx_domain_mismatch`: a relayed login, THREATS D4).
 */
export type InvalidChallengeReason = 'malformed' | 'oversize' | 'ambiguous' | 'not_x402' | 'timeout' | 'siwx_domain_mismatch';

/**
 * The server's 402 could not be read as an x402 challenge: bad base64 or UTF-8, invalid JSON,
 * a schema violation, a body over the size bound or the time bound, duplicate keys, header
 * and body that disagree, or (with `signIn`) a sign-in offer for another site. Nothing was signed.
 *
 * @example
 * ```ts
 * import { InvalidChallengeError } from 'x402-autopay';
 * if (error instanceof InvalidChallengeError) console.log(error.issues, error.response?.status);
 * ```
 */
export class InvalidChallengeError extends X402Error {
  /** Every problem found, with its path. */
  readonly issues: readonly ChallengeIssue[];
  /** Finer reason than the code. */
  readonly reason: InvalidChallengeReason;
  /** The 402 response as received (its body, when it was read, is replayable from here). Not enumerable: logs stay small. */
  declare readonly response: Response | undefined;

  constructor(args: {
    reason: InvalidChallengeReason;
    issues: readonly ChallengeIssue[];
    url: string;
    response?: Response;
  }) {
    const first = args.issues[0];
    super(`The 402 from ${args.url} is not a valid x402 challenge (${args.reason}).`, {
      code: 'invalid_challenge',
      moneyMoved: 'no',
      details: {
        url: args.url,
        reason: args.reason,
        issues: args.issues.length,
        first: first ? `${first.path || '(root)'}: ${first.message}` : undefined,
      },
      hint:
        args.reason === 'siwx_domain_mismatch'
          ? 'The server asks this wallet to sign in to another site, as a phishing page would; nothing was signed or paid. Do not use this server, or turn signIn off to treat its sign-in offer as data.'
          : 'The server sent payment terms this client cannot trust; nothing was paid. Report it to the API owner.',
    });
    this.issues = args.issues;
    this.reason = args.reason;
    Object.defineProperty(this, 'response', { value: args.response, enumerable: false });
  }
}
