import { readChallenge } from './protocol/read.js';
import { selectQuote, type Quote } from './select.js';
import { Budget } from './budget/budget.js';
import { transportAllowed } from './internal/transport.js';
import { isX402Error, type X402Error } from './errors/X402Error.js';
import { NoAcceptableOptionError } from './errors/NoAcceptableOptionError.js';
import { InsecureTransportError } from './errors/InsecureTransportError.js';
import type { ResolvedOptions } from './options.js';
import type { Challenge, PaymentOption } from './protocol/challenge.js';

/** What this client makes of one offered option. */
export interface OptionVerdict {
  /** The option as offered (validated, in the server's order). */
  readonly option: PaymentOption;
  /** The frozen quote this client would sign for it, when it can sign for it at all. */
  readonly quote: Quote | undefined;
  /** Why it would not be paid (not signable, or refused by the policy); undefined when acceptable. */
  readonly refusal: { readonly code: string; readonly message: string } | undefined;
}

/** The result of {@link inspectChallenge}. */
export interface ChallengeInspection {
  /** The URL that answered 402. */
  readonly url: string;
  /** The validated challenge. */
  readonly challenge: Challenge;
  /** One verdict per offered option, in the server's order. */
  readonly options: readonly OptionVerdict[];
  /** The option the engine would choose (the same selection, the same policy check); undefined when none. */
  readonly chosen: Quote | undefined;
  /** What a payment attempt would throw before signing, when nothing would be paid. */
  readonly refusal: X402Error | undefined;
}

/**
 * Reads a 402 answer and tells which options this client could pay and which one it would
 * choose — with the library's own reading (`readChallenge`), selection (`selectQuote`) and
 * stateless policy check (`Budget.check`: allow lists and per-request caps), as a fresh client
 * would. It reserves nothing and signs nothing: it never sees a wallet. Windowed limits
 * (hourly, daily, total) are only checked when paying, atomically in the store. Internal: used by
 * the CLI's `quote`; not part of the public API.
 *
 * @param response - the 402 answer (its body is read, bounded like the engine reads it).
 * @param requestUrl - the URL that was requested (host lists match it too).
 * @param options - resolved options (budget, declared assets, versions, limits).
 * @param payer - the paying address, when known (an option paying the payer itself is refused).
 *
 * @example
 * ```ts
 * import { inspectChallenge } from './inspectChallenge.js';
 * import { resolveOptions } from './options.js';
 * const inspection = await inspectChallenge(response402, url, resolveOptions({ budget: { perRequest: '0.05' } }));
 * console.log(inspection.chosen?.amount, inspection.options.map((o) => o.refusal?.code));
 * ```
 */
export async function inspectChallenge(
  response: Response,
  requestUrl: string,
  options: ResolvedOptions,
  payer?: string,
): Promise<ChallengeInspection> {
  const url = response.url || requestUrl;
  const challenge = await readChallenge(response, url, {
    maxBodyBytes: options.maxChallengeBytes,
    maxHeaderBytes: options.maxHeaderBytes,
    versions: options.versions,
    timeoutMs: options.hardening.challengeTimeoutMs,
  });
  const budget = new Budget(options.budget, options.assetLimits, options.store);
  const context = { url, assets: options.assets, ...(payer !== undefined ? { payer } : {}) };

  const verdicts = challenge.options.map((option): OptionVerdict => {
    let quote: Quote;
    try {
      // The same selection, one option at a time and without the policy: can it be signed at all?
      quote = selectQuote({ ...challenge, options: [option] }, { ...context, check: () => undefined });
    } catch (error) {
      if (!(error instanceof NoAcceptableOptionError)) throw error;
      const first = error.refusals[0];
      return { option, quote: undefined, refusal: first ? { code: first.code, message: first.message } : { code: error.code, message: error.shortMessage } };
    }
    const refused = budget.check(quote, requestUrl);
    return { option, quote, refusal: refused ? { code: refused.code, message: refused.message } : undefined };
  });

  let chosen: Quote | undefined;
  let refusal: X402Error | undefined;
  if (!transportAllowed(url, options.hardening.allowInsecureHttp)) {
    refusal = new InsecureTransportError({ url });
  } else {
    try {
      chosen = selectQuote(challenge, { ...context, check: (q) => budget.check(q, requestUrl) });
    } catch (error) {
      if (!isX402Error(error)) throw error;
      refusal = error;
    }
  }
  return { url, challenge, options: verdicts, chosen, refusal };
}
