import { isX402Error } from '../errors/X402Error.js';

/** Exit codes of the `x402-autopay` command (documented in docs/cli.md and in `--help`). */
export const EXIT = Object.freeze({
  /** Done: the answer was printed (paid or free), the quote or the report shown. */
  ok: 0,
  /** Any other error: network failure, invalid challenge, wallet or file error. */
  error: 1,
  /** Bad input: unknown command or flag, missing URL, bad amount, missing or malformed key. */
  usage: 2,
  /** Refused by the budget or the policy before anything was signed: nothing was paid. */
  refused: 3,
  /** The server rejected the payment (`payment_rejected`): money may have moved. */
  rejected: 4,
  /** The payment was sent but its outcome is unknown (`settlement_unknown`): money may have moved. */
  unknown: 5,
});

/** Error codes that mean "this client refused to pay" (nothing was signed). */
const REFUSED = new Set([
  'budget_exceeded',
  'no_acceptable_option',
  'approval_denied',
  'budget_unavailable',
  'payee_changed',
  'circuit_open',
  'insecure_transport',
  'request_blocked',
  'duplicate_request',
]);

/** The help text of the exit codes, shared by every `--help`. */
export const EXIT_CODES_HELP = `Exit codes:
  0  success: the answer was printed (paid or free), or the quote/report shown
  1  other error (network, invalid 402 challenge, wallet, ledger file)
  2  bad input (usage, flags, amounts, missing or malformed key)
  3  refused by the budget or policy; nothing was paid (budget_exceeded,
     no_acceptable_option, approval_denied, budget_unavailable, payee_changed,
     circuit_open, insecure_transport, request_blocked, duplicate_request)
  4  rejected by the server (payment_rejected); money may have moved
  5  outcome unknown (settlement_unknown); money may have moved`;

/** The exit code for an error thrown while paying. */
export function exitCodeOf(error: unknown): number {
  if (!isX402Error(error)) return EXIT.error;
  if (REFUSED.has(error.code)) return EXIT.refused;
  if (error.code === 'payment_rejected') return EXIT.rejected;
  if (error.code === 'settlement_unknown') return EXIT.unknown;
  return EXIT.error;
}
