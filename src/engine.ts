import type { Address, Hex } from 'viem';
import { readChallenge } from './protocol/read.js';
import { readBody } from './protocol/readBody.js';
import { decodeBase64Json, parseJsonBytes } from './protocol/codec.js';
import { encodePaymentV1, X_PAYMENT_HEADER } from './protocol/v1.js';
import { encodePaymentV2, PAYMENT_REQUIRED_HEADER, PAYMENT_SIGNATURE_HEADER, SIGN_IN_WITH_X } from './protocol/v2.js';
import { attachPaymentIdentifier, keyedPaymentId, newPaymentId } from './protocol/paymentIdentifier.js';
import { selectQuote, type Quote } from './select.js';
import { authorizationLifetime, signExactEvm, type AuthorizationRef } from './schemes/exactEvm.js';
import { randomBytes, toHex } from './internal/random.js';
import { attachPayment, readSettlement, sealPayment, type Payment, type Settlement } from './receipt.js';
import { unixSeconds } from './internal/clock.js';
import { createCircuitBreaker, type BreakerTicket } from './internal/circuitBreaker.js';
import { createPayeePins } from './internal/payeePins.js';
import { createPricePins } from './internal/pricePins.js';
import { transportAllowed } from './internal/transport.js';
import { sendPaid } from './internal/sendPaid.js';
import { deliveryProblem, type DeliveryProblem } from './internal/deliveryProblem.js';
import { createIdempotencyKeys, type KeyedCall } from './internal/idempotencyKeys.js';
import { createBalances, type BalanceView } from './internal/balances.js';
import { redact } from './internal/redact.js';
import { inertText } from './internal/inert.js';
import { Budget, type Reservation } from './budget/budget.js';
import { isX402Error } from './errors/X402Error.js';
import { WalletError } from './errors/WalletError.js';
import { PaymentRejectedError } from './errors/PaymentRejectedError.js';
import { SettlementUnknownError } from './errors/SettlementUnknownError.js';
import { DuplicateRequestError, type DuplicateRequestState } from './errors/DuplicateRequestError.js';
import { InsecureTransportError } from './errors/InsecureTransportError.js';
import { BudgetUnavailableError } from './errors/BudgetUnavailableError.js';
import type { SpendAuthorization, SpendRecord } from './budget/store.js';
import type { RequestReplay } from './requestReplay.js';
import type { Challenge, PaymentOption } from './protocol/challenge.js';
import { createPrepayTerms } from './prepayTerms.js';
import type { SignInRunner } from './signInWithX.js';
import { reconcilePayments, type ReconciledPayment, type ReconcileOptions } from './budget/reconcilePayments.js';
import { authorizationOf } from './budget/authorizationOf.js';
import { freeDeadClaim } from './budget/freeDeadClaim.js';
import type { ResolvedOptions } from './options.js';
import type { Wallet } from './wallets/types.js';

/** The payment loop shared by every door (fetch, ky, CLI): one 402 in, one paid answer out. */
export interface Engine {
  /** The budget this engine reserves in. */
  readonly budget: Budget;
  /**
   * Pays for a 402 answer to `replay` and returns the paid answer, with its payment attached.
   * Signs at most once; never pays again in the same call. `fetchImpl` sends the paid request;
   * `unpaidFetch` (default `fetchImpl`) sends a sign-in (the `signIn` option), which pays nothing.
   */
  pay(response: Response, replay: RequestReplay, fetchImpl: typeof fetch, unpaidFetch?: typeof fetch): Promise<Response>;
  /**
   * With opt-in prepay: when terms for this place are remembered and still pass the budget,
   * sends the request with a payment at once and returns the answer; otherwise undefined
   * (send the request the usual way).
   */
  prepay(replay: RequestReplay, fetchImpl: typeof fetch): Promise<Response | undefined>;
  /** With `options.reconcile`: asks the chain about the failed and unknown payments of the store's last hour (and settled ones, with `receipts`; see {@link reconcilePayments}); one at a time. */
  reconcile(reconcileOptions?: ReconcileOptions): Promise<ReconciledPayment[]>;
}

/** A signed payment as it was sent: everything needed to send it again and to record its outcome. */
interface SentPayment {
  readonly quote: Quote;
  readonly payer: Address;
  /** The URL paid (that answered 402), and the method of the call. */
  readonly url: string;
  readonly method: string;
  /** The payment header, exactly as sent: a bearer token until `validBefore`, never logged. */
  readonly header: { readonly name: string; readonly value: string };
  readonly signature: string;
  readonly authorization: AuthorizationRef;
  readonly paymentId: string | undefined;
  readonly reservation: Reservation;
  /** For a call with an `Idempotency-Key`: the digest of its body, which a later call with the key must match. */
  readonly bodyDigest?: string;
}

/** How many settlement transactions are remembered to spot a receipt replayed from another payment. */
const REMEMBERED_TRANSACTIONS = 10_000;

/** Methods a resend may repeat without the server's help (RFC 9110 §9.2.2); others need a payment id. */
const IDEMPOTENT_METHODS = new Set(['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE', 'TRACE']);

/** A resend is made only while the authorization lives this long yet: the server must still verify and settle it. */
const RESEND_MIN_VALIDITY_SECONDS = 10n;

/**
 * Seconds added to the latest `validBefore` planned at reservation, for the moments between
 * reserving and signing besides the approval (store round trips, pins, a busy event loop).
 */
const PLAN_SLACK_SECONDS = 30n;

/**
 * How far back the store's report is searched for the payment holding a key claim: the claim's
 * rolling day, one bucket of it (5 minutes) and the clock grace of the windows (2 hours).
 */
const CLAIM_SEARCH_MS = (86_400 + 300 + 7_200) * 1000;

/**
 * Builds the engine from a wallet and resolved options. Per engine (one wrapped fetch) it keeps
 * the payee pinned for each host, a circuit breaker per host, and the settlement transactions
 * already credited.
 *
 * @example
 * ```ts
 * import { createEngine } from './engine.js';
 * const options = resolveOptions({ budget: { perRequest: '0.05' } });
 * const engine = createEngine(toWallet(account, options.assets), options);
 * const paid = await engine.pay(response402, replay, fetch);
 * ```
 */
export function createEngine(wallet: Wallet, options: ResolvedOptions): Engine {
  const budget = new Budget(options.budget, options.assetLimits, options.store);
  const hardening = options.hardening;
  const breaker = createCircuitBreaker(hardening.breaker, options.clock);
  const allowedPayees = options.budget.payees?.allow;
  const pins = createPayeePins(hardening.pinPayees, (payTo) => allowedPayees?.includes(payTo.toLowerCase()) ?? false);
  const prices = createPricePins(hardening.pinPrices, options.clock);
  const creditedTransactions = new Set<string>();
  const prepayTerms = options.prepay ? createPrepayTerms(options.prepay, options.clock) : undefined;
  const keys = createIdempotencyKeys<SentPayment>(options.clock);
  const checker = options.reconcile;
  const balances =
    options.checkBalance && checker?.balanceOf
      ? createBalances({
          balanceOf: (network, token, owner) => checker.balanceOf!(network, token, owner),
          blockTime: checker.blockTime ? (network) => checker.blockTime!(network) : undefined,
          clock: options.clock,
          maxAuthSeconds: options.maxAuthSeconds,
        })
      : undefined;
  const balancesFor = (challenge: Challenge, payer: Address, url: string) =>
    balances?.view(challenge.options, payer, (message) => emit('error', { type: 'error', url, message }));
  let reconciling: Promise<unknown> = Promise.resolve();
  const emit = <K extends keyof typeof options.on>(name: K, event: Parameters<NonNullable<(typeof options.on)[K]>>[0]) => {
    try {
      const result: unknown = (options.on[name] as ((e: typeof event) => unknown) | undefined)?.(event);
      // An async listener's rejection would otherwise be an unhandled rejection (fatal in Node).
      if (typeof (result as PromiseLike<unknown> | undefined)?.then === 'function') Promise.resolve(result).catch(() => undefined);
    } catch {
      // A listener must never change what the client does.
    }
  };

  async function pay(response: Response, replay: RequestReplay, fetchImpl: typeof fetch, unpaidFetch: typeof fetch = fetchImpl): Promise<Response> {
    const url = response.url || replay.url;
    try {
      return await payOnce(response, replay, fetchImpl, url, unpaidFetch);
    } catch (error) {
      if (isX402Error(error) && error.moneyMoved === 'no') {
        emit('denied', { type: 'denied', url, host: safeHost(url), code: error.code, message: error.shortMessage });
      }
      throw error;
    }
  }

  async function payOnce(response: Response, replay: RequestReplay, fetchImpl: typeof fetch, url: string, unpaidFetch: typeof fetch): Promise<Response> {
    if (!transportAllowed(url, hardening.allowInsecureHttp)) {
      discard(response);
      throw new InsecureTransportError({ url });
    }
    let ticket: BreakerTicket;
    try {
      ticket = breaker.admit(url);
    } catch (error) {
      discard(response);
      throw error;
    }
    try {
      return await payAdmitted(response, replay, fetchImpl, url, ticket, undefined, unpaidFetch);
    } finally {
      // No-op when the attempt already reported how it ended.
      ticket.abandon();
    }
  }

  async function payAdmitted(
    response: Response,
    replay: RequestReplay,
    fetchImpl: typeof fetch,
    url: string,
    ticket: BreakerTicket,
    refusedPrepayment?: Payment,
    unpaidFetch: typeof fetch = fetchImpl,
  ): Promise<Response> {
    const read = (answer: Response) =>
      readChallenge(answer, url, {
        maxBodyBytes: options.maxChallengeBytes,
        maxHeaderBytes: options.maxHeaderBytes,
        versions: options.versions,
        timeoutMs: hardening.challengeTimeoutMs,
      });
    let challenge = await read(response);
    // Opt-in: sign in first where the server offers it (never after a prepayment was sent).
    if (options.signIn && !refusedPrepayment) {
      const next = await (options.signIn as SignInRunner).run(challenge, url, replay, unpaidFetch, {
        wallet,
        budget,
        nowMs: options.clock(),
        maxAuthSeconds: options.maxAuthSeconds,
        read,
        emit: (event) => emit('signIn', event),
      });
      if ('answer' in next) return next.answer;
      challenge = next.challenge;
    }
    const payer = await payerAddress(url);
    const idempotencyKey = replay.idempotencyKey();
    const key = idempotencyKey === undefined ? undefined : `${originOf(url)} ${keyedPaymentId(idempotencyKey)}`;
    let claimInStore = true;
    if (key !== undefined && idempotencyKey !== undefined) {
      const earlier = keys.claim(key);
      if (earlier !== undefined) {
        const again = await payAgain(earlier, { key, idempotencyKey, challenge, replay, fetchImpl, url, ticket });
        if (again.kind === 'answered') return again.response;
        // The earlier payment is dead: this call pays anew, holding the key. Where the store could
        // not give the earlier one back (older than its pending TTL), the key stays claimed there
        // by it, so this payment does not claim it again.
        claimInStore = again.keyFreed;
      }
    }
    let quote: Quote;
    try {
      const view = await balancesFor(challenge, payer, url);
      quote = selectQuote(challenge, { url, assets: options.assets, payer, check: (q) => policyCheck(q, replay, view) });
    } catch (error) {
      if (key !== undefined) keys.forget(key);
      throw error;
    }
    return payQuote({ challenge, quote, payer, replay, fetchImpl, url, ticket, prepaid: false, refusedPrepayment, key, idempotencyKey, claimInStore });
  }

  /**
   * A call whose `Idempotency-Key` was used before (THREATS F1): the earlier payment is sent
   * again, as it was, while it can still be settled and fits this call; a payment known to be
   * dead (expired unused on chain) is given back and `dead` returned (pay anew, the key held
   * in flight by this call; `keyFreed` says whether the store gave it back, and with it the
   * key's claim); anything else is a {@link DuplicateRequestError}. Never signs. (Tagged, not
   * told apart by `instanceof Response`: the caller's fetch may answer with another realm's
   * Response, e.g. the `undici` package's.)
   */
  async function payAgain(
    earlier: KeyedCall<SentPayment>,
    args: { key: string; idempotencyKey: string; challenge: Challenge; replay: RequestReplay; fetchImpl: typeof fetch; url: string; ticket: BreakerTicket },
  ): Promise<{ readonly kind: 'answered'; readonly response: Response } | { readonly kind: 'dead'; readonly keyFreed: boolean }> {
    const { key, idempotencyKey, url } = args;
    const refuse = (state: DuplicateRequestState, reason?: string): never => {
      throw new DuplicateRequestError({
        url,
        key: idempotencyKey,
        state,
        ...(earlier.kind === 'in_flight' ? {} : { authorization: earlier.payment.authorization, paymentId: earlier.payment.paymentId }),
        ...(reason ? { reason } : {}),
      });
    };
    if (earlier.kind === 'in_flight') return refuse('in_flight');
    if (earlier.kind === 'done') return refuse('paid');
    const sent = earlier.payment;
    const left = sent.authorization.validBefore - unixSeconds(options.clock);
    if (left >= RESEND_MIN_VALIDITY_SECONDS) {
      if (!sameUrl(url, sent.url) || args.replay.method !== sent.method) return refuse('conflict', `it was for ${sent.method} ${sent.url}`);
      if (!args.challenge.options.some((o) => sameTerms(o, sent.quote.option))) return refuse('conflict', 'the server now asks for other terms');
      if (sent.bodyDigest !== (await args.replay.bodyDigest())) return refuse('conflict', 'it was sent with another body');
      const request = args.replay.paid(url, { [sent.header.name]: sent.header.value });
      keys.set(key, { kind: 'in_flight' });
      const response = await deliver(sent, { replay: args.replay, fetchImpl: args.fetchImpl, ticket: args.ticket, prepaid: false, key, sentBefore: true, request });
      return { kind: 'answered', response };
    }
    if (left > 0n || !options.reconcile) return refuse('in_doubt');
    // This call asks the chain; a concurrent call with the key is in_flight meanwhile.
    keys.set(key, { kind: 'in_flight' });
    const check = await options.reconcile.check(sent.authorization).catch(() => undefined);
    if (check?.state === 'used') {
      await sent.reservation.settle('settled', undefined, whereOf(sent.authorization)).catch(() => undefined);
      keys.set(key, { kind: 'done', payment: sent });
      return refuse('paid');
    }
    if (check?.state !== 'expired') {
      keys.set(key, earlier);
      return refuse('in_doubt');
    }
    // Unused, and it never can be: the budget gets it back (THREATS G5), and this call pays anew
    // (the key stays in flight, held by this call).
    const gaveBack = await sent.reservation.release().catch(() => false);
    return { kind: 'dead', keyFreed: gaveBack !== false };
  }

  async function payerAddress(url: string): Promise<Address> {
    try {
      return await wallet.getAddress();
    } catch (cause) {
      throw new WalletError({ url, operation: 'address', cause });
    }
  }

  function policyCheck(q: Quote, replay: RequestReplay, balance: BalanceView | undefined) {
    return budget.check(q, replay.url) ?? pins.refusal(q) ?? prices.refusal(q, replay.method) ?? balance?.refusal(q);
  }

  async function prepay(replay: RequestReplay, fetchImpl: typeof fetch): Promise<Response | undefined> {
    const url = replay.url;
    const challenge = prepayTerms?.recall(replay.method, url);
    // A call with an Idempotency-Key pays the usual way: its earlier payment, if any, comes first.
    if (!challenge || !transportAllowed(url, hardening.allowInsecureHttp) || replay.idempotencyKey() !== undefined) return undefined;
    let ticket: BreakerTicket;
    try {
      ticket = breaker.admit(url);
    } catch {
      return undefined; // the usual flow reports the open breaker
    }
    try {
      const payer = await payerAddress(url);
      let quote: Quote;
      try {
        const view = await balancesFor(challenge, payer, url);
        quote = selectQuote(challenge, { url, assets: options.assets, payer, check: (q) => policyCheck(q, replay, view) });
      } catch {
        // The remembered terms no longer pass the policy: forget them; the usual flow decides.
        prepayTerms!.forget(replay.method, url);
        return undefined;
      }
      try {
        return await payQuote({ challenge, quote, payer, replay, fetchImpl, url, ticket, prepaid: true });
      } catch (error) {
        // A window of the budget refused it before anything was signed: the usual flow decides
        // on the server's current price.
        if (isX402Error(error) && error.code === 'budget_exceeded') {
          prepayTerms!.forget(replay.method, url);
          return undefined;
        }
        throw error;
      }
    } finally {
      ticket.abandon();
    }
  }

  async function payQuote(args: {
    challenge: Challenge;
    quote: Quote;
    payer: Address;
    replay: RequestReplay;
    fetchImpl: typeof fetch;
    url: string;
    ticket: BreakerTicket;
    prepaid: boolean;
    refusedPrepayment?: Payment | undefined;
    /** The call's `Idempotency-Key`, scoped (claimed in flight by the caller), and as written. */
    key?: string | undefined;
    idempotencyKey?: string | undefined;
    /** Whether the key is claimed in the store with this payment (default: whenever there is a key). */
    claimInStore?: boolean;
  }): Promise<Response> {
    const { challenge, quote, payer, replay, url, key } = args;
    let unpin = (): void => undefined;
    let reservation: Reservation | undefined;
    // Until the header is sent, any failure releases the reservation: nothing could be settled.
    const releaseAndThrow = async (error: unknown): Promise<never> => {
      unpin();
      if (key !== undefined) keys.forget(key);
      await reservation?.release().catch((cause: unknown) => {
        emit('error', { type: 'error', url, message: `could not release a reservation: ${String(cause)}` });
      });
      throw error;
    };
    let sent: SentPayment;
    let request: [input: RequestInfo | URL, init?: RequestInit];
    try {
      // A keyed call's body is remembered (as a digest): a later call with the key must match it.
      const bodyDigest = key === undefined ? undefined : await replay.bodyDigest();
      // The nonce, and the latest validBefore the signature may carry, are fixed before reserving
      // and kept in the record: a reservation left behind by a crash (before sending, perhaps
      // before signing) is given back by reconcile once the chain shows that nonce unused past
      // that time (THREATS H4, F3), without waiting for its window to end.
      const nonce = toHex(randomBytes(32));
      const latestValidBefore =
        unixSeconds(options.clock) + authorizationLifetime(quote, options.maxAuthSeconds) + BigInt(Math.ceil(budget.approvalMs(quote) / 1000)) + PLAN_SLACK_SECONDS;
      // A keyed call also claims its key in the store, with the limits: a payment made with it by
      // another process sharing the store (or before a restart) refuses this one (THREATS F1).
      const written = args.idempotencyKey;
      let holder: SpendRecord | undefined;
      const claim =
        key === undefined || written === undefined || args.claimInStore === false
          ? undefined
          : {
              digest: keyedPaymentId(key).slice(4),
              // A claim counts for a day, plus a bucket and the clock grace of the windows.
              sinceMs: options.clock() - CLAIM_SEARCH_MS,
              taken: (found: SpendRecord | undefined) => {
                holder = found;
                return new DuplicateRequestError({ url, key: written, state: 'claimed', ...(found?.authorization ? { authorization: authorizationOf(found) } : {}) });
              },
            };
      const planned = { from: payer, nonce, validBefore: latestValidBefore.toString() };
      reservation = await budget.reserve(quote, planned, claim).catch(async (error: unknown) => {
        // With the reconcile option, a claim held by a payment the chain shows expired unused (its
        // process died or gave up) is given back, and the key claimed once more: one process wins.
        const dead = holder && options.reconcile ? await freeDeadClaim(options.store, options.reconcile, holder) : false;
        if (!dead) throw error;
        return budget.reserve(quote, planned, claim);
      });
      await budget.approve(quote);
      // Check and pin the payee and the price in one synchronous step, right before signing.
      const unpinPayee = pins.claim(quote);
      try {
        const unpinPrice = prices.claim(quote, replay.method);
        unpin = () => {
          unpinPrice();
          unpinPayee();
        };
      } catch (error) {
        unpinPayee();
        throw error;
      }
      const signed = await signExactEvm({
        quote,
        wallet,
        from: payer,
        nowSeconds: unixSeconds(options.clock),
        maxAuthSeconds: options.maxAuthSeconds,
        nonce,
        validBeforeAtMost: latestValidBefore,
      }).catch((cause: unknown) => {
        throw new WalletError({ url, operation: 'sign', cause });
      });
      balances?.spend(quote, payer);
      let header: { name: string; value: string };
      let paymentId: string | undefined;
      if (challenge.version === 2) {
        // One id per logical request (from its Idempotency-Key, if any), added to a copy: the frozen challenge is never changed.
        const attached = attachPaymentIdentifier(challenge.extensions, args.idempotencyKey === undefined ? newPaymentId() : keyedPaymentId(args.idempotencyKey));
        paymentId = attached.paymentId;
        header = {
          name: PAYMENT_SIGNATURE_HEADER,
          value: encodePaymentV2({ challenge, accepted: quote.option.wire, payload: signed.payload, extensions: attached.extensions }),
        };
      } else {
        header = { name: X_PAYMENT_HEADER, value: encodePaymentV1({ option: quote.option, payload: signed.payload }) };
      }
      sent = { quote, payer, url, method: replay.method, header, signature: signed.payload.signature, authorization: signed.authorization, paymentId, reservation, ...(bodyDigest === undefined ? {} : { bodyDigest }) };
      request = replay.paid(url, { [header.name]: header.value });
      // Write-ahead (THREATS H4): before the header can leave, the ledger records the payment as
      // of unknown outcome, with where its authorization can be looked up. A crash from here on
      // leaves a record that a reconciliation can settle or give back; a store that cannot write
      // it stops the payment (nothing was sent, so the reservation is released).
      await reservation.settle('unknown', undefined, whereOf(signed.authorization)).catch((cause: unknown) => {
        throw new BudgetUnavailableError({ url, operation: 'record the payment before sending it', cause });
      });
      if (replay.signal?.aborted) throw replay.signal.reason;
    } catch (error) {
      return releaseAndThrow(error);
    }
    return deliver(sent, { ...args, sentBefore: false, challenge, onNotSent: releaseAndThrow, request });
  }

  /**
   * Sends a signed payment (again, with `sentBefore`: an earlier call of the same key sent it) and
   * reads the outcome into its reservation, the events and the answer.
   */
  async function deliver(
    sent: SentPayment,
    args: {
      replay: RequestReplay;
      fetchImpl: typeof fetch;
      ticket: BreakerTicket;
      prepaid: boolean;
      refusedPrepayment?: Payment | undefined;
      key?: string | undefined;
      /** An earlier call sent this very payment: nothing can be released, and a 402 is not a refusal. */
      sentBefore: boolean;
      /** The challenge just answered (its terms are remembered for prepay). */
      challenge?: Challenge;
      /** Gives the reservation back when the first send provably never left. */
      onNotSent?: (cause: unknown) => Promise<never>;
      /** The paid request: the call's request with the payment header (`replay.paid`). */
      request: [input: RequestInfo | URL, init?: RequestInit];
    },
  ): Promise<Response> {
    const [input, init] = args.request;
    const { replay, fetchImpl, ticket, key } = args;
    const { quote, payer, url, header, paymentId, reservation } = sent;
    const authorization = sent.authorization;
    const record = (status: 'settled' | 'failed' | 'unknown', transaction?: string, delivery?: DeliveryProblem) => {
      emit('payment', {
        type: 'payment',
        url,
        host: quote.host,
        payTo: quote.payTo,
        amount: quote.amount,
        asset: quote.option.asset,
        network: quote.network,
        status,
        ...(transaction ? { transaction } : {}),
        ...(delivery ? { delivery } : {}),
        authorization,
      });
      return reservation.settle(status, transaction, whereOf(authorization)).catch((cause: unknown) => {
        emit('error', { type: 'error', url, message: `could not record the payment outcome: ${String(cause)}` });
      });
    };
    // An ambiguous answer is met by sending the same request again, with the same header (one
    // authorization, one nonce, one payment id): the chain settles it once at most (THREATS F2).
    // While this runs the key stays in flight; after, its next call sends this payment again
    // (open) or is refused (done): never a second signature for one Idempotency-Key.
    let keyState: 'open' | 'done' | 'forget' = 'open';
    try {
      const repeatable = IDEMPOTENT_METHODS.has(replay.method) || paymentId !== undefined;
      const outcome = await sendPaid({
        send: (signal) => fetchImpl(input, { ...init, signal }),
        callerSignal: replay.signal,
        timeoutMs: hardening.paidRequestTimeoutMs,
        resend: repeatable && hardening.resend,
        stillValid: () => authorization.validBefore - unixSeconds(options.clock) >= RESEND_MIN_VALIDITY_SECONDS,
        unanswered: (response) => response.status >= 500 && readSettlement(response.headers, quote, payer).status !== 'settled',
        onResend: (sends, reason) => emit('resend', { type: 'resend', url, host: quote.host, reason, sends, ...(paymentId ? { paymentId } : {}), authorization }),
      });
      if (outcome.kind === 'not_sent' && !args.sentBefore && args.onNotSent) {
        keyState = 'forget';
        return await args.onNotSent(outcome.cause);
      }
      if (outcome.kind !== 'answered') {
        ticket.failed();
        const response = outcome.kind === 'unknown' ? outcome.response : undefined;
        const status = response ? readSettlement(response.headers, quote, payer) : undefined;
        await record(status?.status ?? 'unknown', status?.transaction);
        const reason = outcome.kind === 'unknown' ? outcome.reason : 'network';
        throw new SettlementUnknownError({ url, quote, authorization, paymentId, reason, cause: outcome.cause, response, sends: outcome.kind === 'unknown' ? outcome.sends : 1 });
      }
      const paid = outcome.response;
      if (paid.status === 402 && (outcome.sends > 1 || args.sentBefore)) {
        // Refused after an earlier send got no usable answer: that send may have been settled (the
        // nonce is then used). Never read as a refusal, and never paid again.
        if (args.prepaid) prepayTerms?.forget(replay.method, url);
        ticket.failed();
        await record('unknown');
        throw new SettlementUnknownError({ url, quote, authorization, paymentId, reason: 'refused_after_resend', response: paid, sends: outcome.sends });
      }

      let settlement: Settlement = readSettlement(paid.headers, quote, payer);
      if (settlement.status === 'settled' && settlement.transaction !== undefined) {
        // A receipt naming a transaction already credited to another payment proves nothing.
        const tx = settlement.transaction.toLowerCase();
        if (creditedTransactions.has(tx)) settlement = { status: 'unknown' };
        else {
          creditedTransactions.add(tx);
          if (creditedTransactions.size > REMEMBERED_TRANSACTIONS) creditedTransactions.delete(creditedTransactions.values().next().value as string);
        }
      }
      const payment = toPayment(quote, payer, authorization, settlement, paymentId, args.prepaid, args.refusedPrepayment);
      if (paid.status === 402 && args.prepaid) {
        // The server did not take the prepayment (price changed, or no prepayment accepted): forget
        // the terms and pay this call the usual way, within the budget; the receipt reports both.
        prepayTerms?.forget(replay.method, url);
        await record(settlement.status === 'settled' ? 'settled' : 'unknown', settlement.transaction);
        const refused = sealPayment({ ...payment, status: settlement.status === 'settled' ? 'settled' : 'unknown' });
        try {
          return await payAdmitted(paid, replay, fetchImpl, url, ticket, refused);
        } catch (error) {
          if (!isX402Error(error) || error.moneyMoved === 'maybe') throw error;
          // Nothing more was paid, but the prepayment was sent: say that money may have moved.
          throw new PaymentRejectedError({ url, reason: `prepayment refused; paying again was not possible (${error.code})`, response: paid, payment: refused });
        }
      }
      if (paid.status === 402) {
        ticket.failed();
        const given = settlement.reason ?? (await refusalReason(paid, options.maxChallengeBytes, hardening.challengeTimeoutMs)) ?? 'no reason given';
        const reason = inertText(scrub(given, [header.value, sent.signature]), 300);
        await record(settlement.status, settlement.transaction);
        throw new PaymentRejectedError({ url, reason, response: paid, payment: sealPayment({ ...payment, reason }) });
      }
      // Only a 2xx delivered what was paid for; a redirect or another refusal counts against the host.
      const delivered = paid.status >= 200 && paid.status < 300;
      // An empty answer, or an error page instead of what the 402 announced, is reported (F6): never paid again.
      const delivery = delivered ? deliveryProblem(paid, replay.method, quote, args.challenge) : undefined;
      await record(settlement.status, settlement.transaction, delivery);
      if (delivered) {
        ticket.succeeded();
        keyState = 'done';
        // A place that takes a sign-in is not prepaid while signIn is on: the sign-in is free.
        const signInPlace = options.signIn && args.challenge?.extensions?.[SIGN_IN_WITH_X] !== undefined;
        if (args.challenge && !signInPlace && settlement.status === 'settled' && sameUrl(url, replay.url)) prepayTerms?.remember(replay.method, url, args.challenge, quote);
      } else ticket.failed();
      attachPayment(paid, delivery ? { ...payment, delivery } : payment);
      return paid;
    } finally {
      if (key !== undefined) {
        if (keyState === 'forget') keys.forget(key);
        else keys.set(key, { kind: keyState, payment: sent });
      }
    }
  }

  const reconcile = (reconcileOptions: ReconcileOptions = {}): Promise<ReconciledPayment[]> => {
    const checker = options.reconcile;
    if (!checker) return Promise.reject(new TypeError("budget.reconcile() needs the reconcile option, e.g. reconcile: chainChecker({ 'eip155:8453': publicClient })."));
    if (typeof reconcileOptions !== 'object' || reconcileOptions === null || (reconcileOptions.receipts !== undefined && typeof reconcileOptions.receipts !== 'boolean')) {
      return Promise.reject(new TypeError('budget.reconcile(options): options.receipts must be true or false.'));
    }
    const run = reconciling.catch(() => undefined).then(() => reconcilePayments(options.store, checker, options.clock(), reconcileOptions));
    reconciling = run;
    return run;
  };

  return { budget, pay, prepay, reconcile };
}

function safeHost(url: string): string {
  try {
    return new URL(url).hostname;
  } catch {
    return '';
  }
}

/** Lets go of a 402 that will not be read. */
function discard(response: Response): void {
  response.body?.cancel().catch(() => undefined);
}

/** Replaces every occurrence of a secret (the payment header, the signature) by a redacted form. */
function scrub(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const secret of secrets) if (secret.length >= 16 && out.includes(secret)) out = out.split(secret).join(redact(secret));
  return out;
}

/** What a spend record keeps of a sent authorization: where to look it up on chain (never the signature). */
function whereOf(authorization: AuthorizationRef): SpendAuthorization {
  return { from: authorization.from, nonce: authorization.nonce, validBefore: authorization.validBefore.toString() };
}

function toPayment(
  quote: Quote,
  payer: Address,
  authorization: AuthorizationRef,
  settlement: Settlement,
  paymentId: string | undefined,
  prepaid: boolean,
  refusedPrepayment: Payment | undefined,
): Payment {
  return {
    status: settlement.status,
    amount: quote.amount,
    asset: quote.option.asset,
    network: quote.network,
    payTo: quote.payTo,
    payer,
    ...(settlement.transaction ? { transaction: settlement.transaction } : {}),
    ...(paymentId ? { paymentId } : {}),
    ...(settlement.reason ? { reason: settlement.reason } : {}),
    ...(prepaid ? { prepaid: true } : {}),
    ...(refusedPrepayment ? { refusedPrepayment } : {}),
    quote,
    authorization,
  };
}

/** The origin of a URL (`https://host:port`), or the URL itself when it does not parse. */
function originOf(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return url;
  }
}

/** Whether a new 402's option asks for exactly what an earlier payment signed: scheme, network, token, payee and amount. */
function sameTerms(option: PaymentOption, signed: PaymentOption): boolean {
  return (
    option.scheme === signed.scheme &&
    option.network === signed.network &&
    option.amount === signed.amount &&
    option.asset.toLowerCase() === signed.asset.toLowerCase() &&
    option.payTo.toLowerCase() === signed.payTo.toLowerCase()
  );
}

/** Whether two URLs name the same place (the 402 came from the URL requested, not a redirect). */
function sameUrl(a: string, b: string): boolean {
  try {
    const x = new URL(a);
    const y = new URL(b);
    return x.origin === y.origin && x.pathname === y.pathname;
  } catch {
    return false;
  }
}

/** The reason a server gave in a 402 to the paid request: new `PAYMENT-REQUIRED` error, or v1 body `error`. */
async function refusalReason(response: Response, maxBytes: number, timeoutMs: number): Promise<string | undefined> {
  const header = response.headers.get(PAYMENT_REQUIRED_HEADER);
  if (header !== null) {
    const decoded = decodeBase64Json(header.trim(), 16 * 1024);
    const error = decoded.ok ? errorField(decoded.value) : undefined;
    if (error) return error;
  }
  const body = await readBody(response.clone().body, maxBytes, response.headers.get('content-length'), timeoutMs);
  if (!body.ok || body.bytes.byteLength === 0) return undefined;
  const json = parseJsonBytes(body.bytes);
  return json.ok ? errorField(json.value) : undefined;
}

function errorField(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const error = (value as Record<string, unknown>)['error'];
  return typeof error === 'string' && error !== '' ? error.slice(0, 2000) : undefined;
}
