import { linkedDeadline } from './deadline.js';
import type { SettlementUnknownReason } from '../errors/SettlementUnknownError.js';

/** How an ambiguous paid request is sent again: at most `times` more sends, `delayMs` apart. */
export interface ResendSettings {
  readonly times: number;
  readonly delayMs: number;
}

/** How the paid request ended, after every send it was allowed. */
export type PaidSendResult =
  /** Not one byte left: the reservation can be released (only ever the first send). */
  | { readonly kind: 'not_sent'; readonly cause: unknown }
  /** An answer that says something (anything but a 5xx without a settled receipt). */
  | { readonly kind: 'answered'; readonly response: Response; readonly sends: number }
  /** No usable answer to the last send: the payment may have been settled. */
  | {
      readonly kind: 'unknown';
      readonly reason: Exclude<SettlementUnknownReason, 'refused_after_resend'>;
      readonly sends: number;
      readonly cause?: unknown;
      readonly response?: Response;
    };

/** What {@link sendPaid} needs: how to send, for how long, and when a resend is allowed. */
export interface SendPaidArgs {
  /** Sends the paid request once, with the same header every time. */
  readonly send: (signal: AbortSignal) => Promise<Response>;
  /** The caller's signal; an abort is never answered with a resend. */
  readonly callerSignal: AbortSignal | undefined;
  /** Most ms to wait for each answer's headers. */
  readonly timeoutMs: number;
  /** Resend settings, or false when this request is never sent twice. */
  readonly resend: ResendSettings | false;
  /** Checked before each resend: whether the authorization still lives long enough to be settled. */
  readonly stillValid: () => boolean;
  /** Whether an answer is as good as none (a 5xx without a settled receipt). */
  readonly unanswered: (response: Response) => boolean;
  /** Told before each resend, with how many sends were made and why the last one is unknown. */
  readonly onResend: (sends: number, reason: 'timeout' | 'network' | 'server_error') => void;
}

/**
 * Sends a signed payment and, when the answer is ambiguous (a timeout, a connection that fails
 * after sending, a 5xx without a settled receipt), sends the very same request again: the same
 * header, so the same authorization and nonce, which the chain settles at most once (THREATS
 * F2, G4). Nothing is signed here. A send the caller aborted is never repeated.
 *
 * @example
 * ```ts
 * import { sendPaid } from './sendPaid.js';
 * const result = await sendPaid({
 *   send: (signal) => fetch(url, { headers: { 'PAYMENT-SIGNATURE': header }, signal }),
 *   callerSignal: undefined,
 *   timeoutMs: 120_000,
 *   resend: { times: 1, delayMs: 500 },
 *   stillValid: () => true,
 *   unanswered: (r) => r.status >= 500,
 *   onResend: () => undefined,
 * });
 * ```
 */
export async function sendPaid(args: SendPaidArgs): Promise<PaidSendResult> {
  const { callerSignal, resend } = args;
  for (let sends = 1; ; sends++) {
    const deadline = linkedDeadline(callerSignal, args.timeoutMs);
    let unknown: { reason: Exclude<SettlementUnknownReason, 'refused_after_resend'>; cause?: unknown; response?: Response };
    try {
      const response = await args.send(deadline.signal);
      if (!args.unanswered(response)) return { kind: 'answered', response, sends };
      unknown = { reason: 'server_error', response };
    } catch (cause) {
      // Only the first send can prove that nothing left: an earlier one may have arrived.
      if (sends === 1 && !deadline.timedOut && provablyNotSent(cause)) return { kind: 'not_sent', cause };
      unknown = { reason: deadline.timedOut ? 'timeout' : callerSignal?.aborted ? 'aborted' : 'network', cause };
    } finally {
      deadline.clear();
    }
    if (unknown.reason === 'aborted' || !resend || sends > resend.times || !args.stillValid()) return { kind: 'unknown', sends, ...unknown };
    unknown.response?.body?.cancel().catch(() => undefined);
    args.onResend(sends, unknown.reason);
    if (!(await pause(resend.delayMs, callerSignal))) return { kind: 'unknown', sends, reason: 'aborted', cause: callerSignal?.reason };
  }
}

/** Waits `ms`; false when the caller aborts first. */
function pause(ms: number, signal: AbortSignal | undefined): Promise<boolean> {
  if (signal?.aborted) return Promise.resolve(false);
  return new Promise((resolve) => {
    const done = (value: boolean) => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      resolve(value);
    };
    const onAbort = () => done(false);
    const timer = setTimeout(() => done(true), ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * Errors that happen before any byte of the request leaves: connection errors (Node/undici
 * codes), and `request_blocked`, thrown by `guardAddresses` before it lets a request go.
 */
const NOT_SENT_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'ERR_INVALID_URL', 'request_blocked']);

function provablyNotSent(error: unknown): boolean {
  for (let e = error, depth = 0; typeof e === 'object' && e !== null && depth < 4; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && NOT_SENT_CODES.has(code)) return true;
    e = (e as { cause?: unknown }).cause;
  }
  return false;
}
