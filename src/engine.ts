import type { Address } from 'viem';
import { readChallenge } from './protocol/read.js';
import { readBody } from './protocol/readBody.js';
import { decodeBase64Json, parseJsonBytes } from './protocol/codec.js';
import { encodePaymentV1, X_PAYMENT_HEADER } from './protocol/v1.js';
import { encodePaymentV2, PAYMENT_REQUIRED_HEADER, PAYMENT_SIGNATURE_HEADER } from './protocol/v2.js';
import { selectQuote, type Quote } from './select.js';
import { signExactEvm } from './schemes/exactEvm.js';
import { attachPayment, readSettlement, type Payment, type Settlement } from './receipt.js';
import { unixSeconds } from './internal/clock.js';
import { createPolicy } from './budget/policy.js';
import { createLedger, type Ledger } from './budget/ledger.js';
import { WalletError } from './errors/WalletError.js';
import { PaymentRejectedError } from './errors/PaymentRejectedError.js';
import { SettlementUnknownError } from './errors/SettlementUnknownError.js';
import type { RequestReplay } from './requestReplay.js';
import type { ResolvedOptions } from './options.js';
import type { Wallet } from './wallets/types.js';

/** The payment loop shared by every door (fetch, ky, CLI): one 402 in, one paid answer out. */
export interface Engine {
  /** The ledger this engine reserves in. */
  readonly ledger: Ledger;
  /**
   * Pays for a 402 answer to `replay` and returns the paid answer, with its payment attached.
   * Signs at most once; never pays again in the same call.
   */
  pay(response: Response, replay: RequestReplay, fetchImpl: typeof fetch): Promise<Response>;
}

/** Builds the engine from a wallet and resolved options. */
export function createEngine(wallet: Wallet, options: ResolvedOptions): Engine {
  const policy = createPolicy(options);
  const ledger = createLedger(policy, options.clock);

  async function pay(response: Response, replay: RequestReplay, fetchImpl: typeof fetch): Promise<Response> {
    const url = response.url || replay.url;
    const challenge = await readChallenge(response, url, {
      maxBodyBytes: options.maxChallengeBytes,
      maxHeaderBytes: options.maxHeaderBytes,
      versions: options.versions,
    });
    const quote = selectQuote(challenge, { url, assets: options.assets, networks: options.networks, check: policy.check });

    let payer: Address;
    try {
      payer = await wallet.getAddress();
    } catch (cause) {
      throw new WalletError({ url, operation: 'address', cause });
    }
    const reservation = ledger.reserve(quote);
    let header: { name: string; value: string };
    let validBefore: bigint;
    try {
      const signed = await signExactEvm({
        quote,
        wallet,
        from: payer,
        nowSeconds: unixSeconds(options.clock),
        maxAuthSeconds: options.maxAuthSeconds,
      });
      validBefore = signed.validBefore;
      header =
        challenge.version === 2
          ? {
              name: PAYMENT_SIGNATURE_HEADER,
              value: encodePaymentV2({ challenge, accepted: quote.option.wire, payload: signed.payload, extensions: challenge.extensions }),
            }
          : { name: X_PAYMENT_HEADER, value: encodePaymentV1({ option: quote.option, payload: signed.payload }) };
    } catch (cause) {
      reservation.release();
      throw new WalletError({ url, operation: 'sign', cause });
    }

    if (replay.signal?.aborted) {
      reservation.release();
      throw replay.signal.reason;
    }
    const [input, init] = replay.paid(url, { [header.name]: header.value });
    reservation.markSent();
    let paid: Response;
    try {
      paid = await fetchImpl(input, init);
    } catch (cause) {
      if (provablyNotSent(cause)) {
        reservation.release();
        throw cause;
      }
      reservation.settle('unknown');
      throw new SettlementUnknownError({ url, quote, validBefore, cause });
    }

    const settlement = readSettlement(paid.headers, quote, payer);
    const payment = toPayment(quote, payer, settlement);
    if (paid.status === 402) {
      const reason = settlement.reason ?? (await refusalReason(paid, options.maxChallengeBytes)) ?? 'no reason given';
      reservation.settle(settlement.status === 'settled' ? 'settled' : settlement.status, settlement.transaction);
      const failed: Payment = { ...payment, status: settlement.status === 'settled' ? 'settled' : settlement.status, reason };
      throw new PaymentRejectedError({ url, reason, response: paid, payment: failed, validBefore });
    }
    reservation.settle(settlement.status, settlement.transaction);
    if (paid.status >= 500 && settlement.status !== 'settled') {
      throw new SettlementUnknownError({ url, quote, validBefore, response: paid });
    }
    attachPayment(paid, payment);
    return paid;
  }

  return { ledger, pay };
}

/** Connection errors that happen before any byte of the request leaves (Node/undici codes). */
const NOT_SENT_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'ERR_INVALID_URL']);

function provablyNotSent(error: unknown): boolean {
  for (let e = error, depth = 0; typeof e === 'object' && e !== null && depth < 4; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && NOT_SENT_CODES.has(code)) return true;
    e = (e as { cause?: unknown }).cause;
  }
  return false;
}

function toPayment(quote: Quote, payer: Address, settlement: Settlement): Payment {
  return {
    status: settlement.status,
    amount: quote.amount,
    asset: quote.option.asset,
    network: quote.network,
    payTo: quote.payTo,
    payer,
    ...(settlement.transaction ? { transaction: settlement.transaction } : {}),
    ...(settlement.reason ? { reason: settlement.reason } : {}),
    quote,
  };
}

/** The reason a server gave in a 402 to the paid request: new `PAYMENT-REQUIRED` error, or v1 body `error`. */
async function refusalReason(response: Response, maxBytes: number): Promise<string | undefined> {
  const header = response.headers.get(PAYMENT_REQUIRED_HEADER);
  if (header !== null) {
    const decoded = decodeBase64Json(header.trim(), 16 * 1024);
    const error = decoded.ok ? errorField(decoded.value) : undefined;
    if (error) return error;
  }
  const body = await readBody(response.clone().body, maxBytes, response.headers.get('content-length'));
  if (!body.ok || body.bytes.byteLength === 0) return undefined;
  const json = parseJsonBytes(body.bytes);
  return json.ok ? errorField(json.value) : undefined;
}

function errorField(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const error = (value as Record<string, unknown>)['error'];
  return typeof error === 'string' && error !== '' ? error.slice(0, 500) : undefined;
}
