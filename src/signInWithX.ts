import { readSignInOffer, encodeSignInHeader } from './protocol/signInOffer.js';
import { SIGN_IN_WITH_X_HEADER } from './protocol/v2.js';
import { formatSiweMessage } from './wallets/siweMessage.js';
import { InvalidChallengeError } from './errors/InvalidChallengeError.js';
import { WalletError } from './errors/WalletError.js';
import type { Budget } from './budget/budget.js';
import type { Challenge } from './protocol/challenge.js';
import type { RequestReplay } from './requestReplay.js';
import type { SignInEvent } from './events.js';
import type { Wallet } from './wallets/types.js';

/**
 * The sign-in step of the `signIn` option, made by {@link signInWithX}. Opaque: pass it to
 * `wrapFetch` (or `withPayment`) as it is.
 */
export interface SignInStep {
  /** Which sign-in this step makes: x402 v2 `sign-in-with-x` (CAIP-122, EIP-4361 on EVM chains). */
  readonly kind: 'sign-in-with-x';
}

/** What the step needs from the engine. Internal. */
export interface SignInContext {
  readonly wallet: Wallet;
  readonly budget: Budget;
  readonly nowMs: number;
  readonly maxAuthSeconds: number;
  /** Reads a 402 into a challenge, with the engine's bounds (throws `InvalidChallengeError`). */
  readonly read: (response: Response) => Promise<Challenge>;
  readonly emit: (event: SignInEvent) => void;
}

/** What the sign-in step leads to: an answer to return, or a challenge to pay. Internal. */
export type SignInOutcome = { readonly answer: Response } | { readonly challenge: Challenge };

/** The step as the engine runs it (the engine imports only this type, so an unused step adds no bytes). Internal. */
export interface SignInRunner extends SignInStep {
  /**
   * The server's answer to the signed-in request, or the challenge to pay (the first one, or the
   * 402 answering the sign-in). Tagged, not told apart by `instanceof Response`: the caller's
   * fetch may answer with another realm's Response (e.g. the `undici` package's).
   */
  run(challenge: Challenge, url: string, replay: RequestReplay, fetchImpl: typeof fetch, ctx: SignInContext): Promise<SignInOutcome>;
}

/**
 * Sign in instead of paying again (x402 v2 `sign-in-with-x`, CAIP-122), for the `signIn`
 * option. When a 402 offers a sign-in, the wallet first signs an EIP-4361 message (EIP-191
 * `personal_sign`: no money) and the request is sent again with the `SIGN-IN-WITH-X` header; a
 * server that knows this wallet already paid for the resource (or a route that asks only for
 * a sign-in) answers without a payment. If it answers 402 again, the call pays as usual,
 * within the budget.
 *
 * What it will sign: only a message it writes itself from the offer's checked fields, for the
 * wallet's own address. The sign-in must name the very origin that answered (its domain and
 * URI), or the 402 is refused whole (`invalid_challenge`, reason `siwx_domain_mismatch`: a
 * relayed login, THREATS D4); a field that breaks EIP-4361 (a line break that would forge a
 * line) is refused too (`malformed`). It signs in only to hosts `budget.hosts` admits, on a
 * chain `budget.networks` admits, for at most `maxAuthSeconds`. It needs a wallet that signs
 * messages (a viem account or `WalletClient`, an EIP-1193 provider, or a signer with
 * `signMessage`); with another, calls pay as usual. Not imported, it adds nothing to a bundle.
 *
 * @example
 * ```ts
 * import { wrapFetch, signInWithX } from 'x402-autopay';
 * import { privateKeyToAccount } from 'viem/accounts';
 * const paidFetch = wrapFetch(fetch, privateKeyToAccount(key), { signIn: signInWithX() });
 * await paidFetch('https://api.example.com/article'); // pays, once
 * await paidFetch('https://api.example.com/article'); // signs in: nothing paid
 * ```
 */
export function signInWithX(): SignInStep {
  const step: SignInRunner = { kind: 'sign-in-with-x', run: signInFirst };
  return Object.freeze(step);
}

/**
 * Runs on a 402 before anything is paid. Returns the server's answer when it is not a 402 (the
 * wallet was let in: nothing is paid), or the challenge to pay: the new 402's, or the first one
 * when no sign-in was made (none offered, none this wallet can make, the host not in
 * `budget.hosts`, the caller's request already signed in) or the signed-in request failed in
 * transit. Throws an `InvalidChallengeError` when the offer must not be signed, and a
 * `WalletError` when the wallet does not sign; nothing is paid then.
 */
async function signInFirst(challenge: Challenge, url: string, replay: RequestReplay, fetchImpl: typeof fetch, ctx: SignInContext): Promise<SignInOutcome> {
  const offer = readSignInOffer(challenge, url, { nowMs: ctx.nowMs, maxSeconds: ctx.maxAuthSeconds, networkAllowed: (n) => ctx.budget.admitsNetwork(n) });
  if (offer.kind === 'refused') throw new InvalidChallengeError({ reason: offer.reason, issues: offer.issues, url });
  const { wallet } = ctx;
  const signMessage = wallet.signMessage;
  if (offer.kind !== 'offer' || !signMessage || !ctx.budget.admitsHost(url) || replay.hasHeader(SIGN_IN_WITH_X_HEADER)) return { challenge };
  let address: string;
  let header: string;
  try {
    address = await wallet.getAddress();
  } catch (cause) {
    throw new WalletError({ url, operation: 'address', cause });
  }
  try {
    // The only text this SDK ever has a wallet sign: written here, from checked fields.
    header = encodeSignInHeader(offer, address, await signMessage(formatSiweMessage({ ...offer.fields, address })));
  } catch (cause) {
    throw new WalletError({ url, operation: 'sign_in', cause });
  }
  if (replay.signal?.aborted) throw replay.signal.reason;
  const event = { type: 'sign_in', url, host: new URL(url).hostname, address, network: offer.network } as const;
  let answer: Response;
  try {
    answer = await fetchImpl(...replay.paid(url, { [SIGN_IN_WITH_X_HEADER]: header }));
  } catch (error) {
    if (replay.signal?.aborted) throw error;
    // Nothing was paid and the first 402 still stands (a browser's CORS refusal of the header
    // lands here too): pay it as if no sign-in had been offered.
    ctx.emit({ ...event, granted: false });
    return { challenge };
  }
  ctx.emit({ ...event, granted: answer.status !== 402, status: answer.status });
  return answer.status === 402 ? { challenge: await ctx.read(answer) } : { answer };
}
