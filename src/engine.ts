import type { Address } from 'viem';
import { readChallenge } from './protocol/read.js';
import { readBody } from './protocol/readBody.js';
import { decodeBase64Json, parseJsonBytes } from './protocol/codec.js';
import { encodePaymentV1, X_PAYMENT_HEADER } from './protocol/v1.js';
import { encodePaymentV2, PAYMENT_REQUIRED_HEADER, PAYMENT_SIGNATURE_HEADER } from './protocol/v2.js';
import { attachPaymentIdentifier, newPaymentId } from './protocol/paymentIdentifier.js';
import { selectQuote, type Quote } from './select.js';
import { signExactEvm, type AuthorizationRef } from './schemes/exactEvm.js';
import { attachPayment, readSettlement, sealPayment, type Payment, type Settlement } from './receipt.js';
import { unixSeconds } from './internal/clock.js';
import { createCircuitBreaker, type BreakerTicket } from './internal/circuitBreaker.js';
import { createPayeePins } from './internal/payeePins.js';
import { createPricePins } from './internal/pricePins.js';
import { transportAllowed } from './internal/transport.js';
import { sendPaid } from './internal/sendPaid.js';
import { redact } from './internal/redact.js';
import { inertText } from './internal/inert.js';
import { Budget } from './budget/budget.js';
import { isX402Error } from './errors/X402Error.js';
import { WalletError } from './errors/WalletError.js';
import { PaymentRejectedError } from './errors/PaymentRejectedError.js';
import { SettlementUnknownError } from './errors/SettlementUnknownError.js';
import { InsecureTransportError } from './errors/InsecureTransportError.js';
import { BudgetUnavailableError } from './errors/BudgetUnavailableError.js';
import type { SpendAuthorization } from './budget/store.js';
import type { RequestReplay } from './requestReplay.js';
import type { Challenge } from './protocol/challenge.js';
import { createPrepayTerms } from './prepayTerms.js';
import { reconcilePayments, type ReconciledPayment } from './budget/reconcilePayments.js';
import type { ResolvedOptions } from './options.js';
import type { Wallet } from './wallets/types.js';

/** The payment loop shared by every door (fetch, ky, CLI): one 402 in, one paid answer out. */
export interface Engine {
  /** The budget this engine reserves in. */
  readonly budget: Budget;
  /**
   * Pays for a 402 answer to `replay` and returns the paid answer, with its payment attached.
   * Signs at most once; never pays again in the same call.
   */
  pay(response: Response, replay: RequestReplay, fetchImpl: typeof fetch): Promise<Response>;
  /**
   * With opt-in prepay: when terms for this place are remembered and still pass the budget,
   * sends the request with a payment at once and returns the answer; otherwise undefined
   * (send the request the usual way).
   */
  prepay(replay: RequestReplay, fetchImpl: typeof fetch): Promise<Response | undefined>;
  /** With `options.reconcile`: asks the chain about the failed and unknown payments of the store's last hour (see {@link reconcilePayments}); one at a time. */
  reconcile(): Promise<ReconciledPayment[]>;
}

/** How many settlement transactions are remembered to spot a receipt replayed from another payment. */
const REMEMBERED_TRANSACTIONS = 10_000;

/** Methods a resend may repeat without the server's help (RFC 9110 §9.2.2); others need a payment id. */
const IDEMPOTENT_METHODS = new Set(['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE', 'TRACE']);

/** A resend is made only while the authorization lives this long yet: the server must still verify and settle it. */
const RESEND_MIN_VALIDITY_SECONDS = 10n;

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
  const prices = createPricePins(hardening.pinPrices);
  const creditedTransactions = new Set<string>();
  const prepayTerms = options.prepay ? createPrepayTerms(options.prepay, options.clock) : undefined;
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

  async function pay(response: Response, replay: RequestReplay, fetchImpl: typeof fetch): Promise<Response> {
    const url = response.url || replay.url;
    try {
      return await payOnce(response, replay, fetchImpl, url);
    } catch (error) {
      if (isX402Error(error) && error.moneyMoved === 'no') {
        emit('denied', { type: 'denied', url, host: safeHost(url), code: error.code, message: error.shortMessage });
      }
      throw error;
    }
  }

  async function payOnce(response: Response, replay: RequestReplay, fetchImpl: typeof fetch, url: string): Promise<Response> {
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
      return await payAdmitted(response, replay, fetchImpl, url, ticket);
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
  ): Promise<Response> {
    const challenge = await readChallenge(response, url, {
      maxBodyBytes: options.maxChallengeBytes,
      maxHeaderBytes: options.maxHeaderBytes,
      versions: options.versions,
      timeoutMs: hardening.challengeTimeoutMs,
    });
    const payer = await payerAddress(url);
    const quote = selectQuote(challenge, { url, assets: options.assets, payer, check: (q) => policyCheck(q, replay) });
    return payQuote({ challenge, quote, payer, replay, fetchImpl, url, ticket, prepaid: false, refusedPrepayment });
  }

  async function payerAddress(url: string): Promise<Address> {
    try {
      return await wallet.getAddress();
    } catch (cause) {
      throw new WalletError({ url, operation: 'address', cause });
    }
  }

  function policyCheck(q: Quote, replay: RequestReplay) {
    return budget.check(q, replay.url) ?? pins.refusal(q) ?? prices.refusal(q, replay.method);
  }

  async function prepay(replay: RequestReplay, fetchImpl: typeof fetch): Promise<Response | undefined> {
    const url = replay.url;
    const challenge = prepayTerms?.recall(replay.method, url);
    if (!challenge || !transportAllowed(url, hardening.allowInsecureHttp)) return undefined;
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
        quote = selectQuote(challenge, { url, assets: options.assets, payer, check: (q) => policyCheck(q, replay) });
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
  }): Promise<Response> {
    const { challenge, quote, payer, replay, fetchImpl, url, ticket } = args;
    const reservation = await budget.reserve(quote);
    let unpin = (): void => undefined;
    // Until the header is sent, any failure releases the reservation: nothing could be settled.
    const releaseAndThrow = async (error: unknown): Promise<never> => {
      unpin();
      await reservation.release().catch((cause: unknown) => {
        emit('error', { type: 'error', url, message: `could not release a reservation: ${String(cause)}` });
      });
      throw error;
    };
    let header: { name: string; value: string } | undefined;
    let signature = '';
    let authorization: AuthorizationRef | undefined;
    let paymentId: string | undefined;
    try {
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
      }).catch((cause: unknown) => {
        throw new WalletError({ url, operation: 'sign', cause });
      });
      authorization = signed.authorization;
      signature = signed.payload.signature;
      if (challenge.version === 2) {
        // One id per logical request, added to a copy: the frozen challenge is never changed.
        const attached = attachPaymentIdentifier(challenge.extensions, newPaymentId());
        paymentId = attached.paymentId;
        header = {
          name: PAYMENT_SIGNATURE_HEADER,
          value: encodePaymentV2({ challenge, accepted: quote.option.wire, payload: signed.payload, extensions: attached.extensions }),
        };
      } else {
        header = { name: X_PAYMENT_HEADER, value: encodePaymentV1({ option: quote.option, payload: signed.payload }) };
      }
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

    const [input, init] = replay.paid(url, { [header.name]: header.value });
    const sent: AuthorizationRef = authorization;
    const record = (status: 'settled' | 'failed' | 'unknown', transaction?: string) => {
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
        authorization: sent,
      });
      return reservation.settle(status, transaction, whereOf(sent)).catch((cause: unknown) => {
        emit('error', { type: 'error', url, message: `could not record the payment outcome: ${String(cause)}` });
      });
    };
    // An ambiguous answer is met by sending the same request again, with the same header (one
    // authorization, one nonce, one payment id): the chain settles it once at most (THREATS F2).
    const repeatable = IDEMPOTENT_METHODS.has(replay.method) || paymentId !== undefined;
    const outcome = await sendPaid({
      send: (signal) => fetchImpl(input, { ...init, signal }),
      callerSignal: replay.signal,
      timeoutMs: hardening.paidRequestTimeoutMs,
      resend: repeatable && hardening.resend,
      stillValid: () => sent.validBefore - unixSeconds(options.clock) >= RESEND_MIN_VALIDITY_SECONDS,
      unanswered: (response) => response.status >= 500 && readSettlement(response.headers, quote, payer).status !== 'settled',
      onResend: (sends, reason) =>
        emit('resend', { type: 'resend', url, host: quote.host, reason, sends, ...(paymentId ? { paymentId } : {}), authorization: sent }),
    });
    if (outcome.kind === 'not_sent') return releaseAndThrow(outcome.cause);
    if (outcome.kind === 'unknown') {
      ticket.failed();
      const status = outcome.response ? readSettlement(outcome.response.headers, quote, payer) : undefined;
      await record(status?.status ?? 'unknown', status?.transaction);
      throw new SettlementUnknownError({ url, quote, authorization: sent, paymentId, reason: outcome.reason, cause: outcome.cause, response: outcome.response, sends: outcome.sends });
    }
    const paid = outcome.response;
    if (paid.status === 402 && outcome.sends > 1) {
      // Refused after an earlier send got no usable answer: that send may have been settled (the
      // nonce is then used). Never read as a refusal, and never paid again.
      if (args.prepaid) prepayTerms?.forget(replay.method, url);
      ticket.failed();
      await record('unknown');
      throw new SettlementUnknownError({ url, quote, authorization: sent, paymentId, reason: 'refused_after_resend', response: paid, sends: outcome.sends });
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
    const payment = toPayment(quote, payer, sent, settlement, paymentId, args.prepaid, args.refusedPrepayment);
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
      const reason = inertText(scrub(given, [header.value, signature]), 300);
      await record(settlement.status, settlement.transaction);
      throw new PaymentRejectedError({ url, reason, response: paid, payment: sealPayment({ ...payment, reason }) });
    }
    await record(settlement.status, settlement.transaction);
    // Only a 2xx delivered what was paid for; a redirect or another refusal counts against the host.
    if (paid.status >= 200 && paid.status < 300) {
      ticket.succeeded();
      if (settlement.status === 'settled' && sameUrl(url, replay.url)) prepayTerms?.remember(replay.method, url, challenge, quote);
    } else ticket.failed();
    attachPayment(paid, payment);
    return paid;
  }

  const reconcile = (): Promise<ReconciledPayment[]> => {
    const checker = options.reconcile;
    if (!checker) return Promise.reject(new TypeError("budget.reconcile() needs the reconcile option, e.g. reconcile: chainChecker({ 'eip155:8453': publicClient })."));
    const run = reconciling.catch(() => undefined).then(() => reconcilePayments(options.store, checker, options.clock()));
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
