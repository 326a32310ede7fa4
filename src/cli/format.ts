import { formatUnits, USD_DECIMALS } from '../internal/amount.js';
import { inertText } from '../internal/inert.js';
import { DOCS_PATH, isX402Error } from '../errors/X402Error.js';
import type { Payment } from '../receipt.js';
import type { Quote } from '../select.js';

/** A USD amount for people, with at least 2 decimals: `0.01`, `0.005`, `1.00`. */
export function usdText(value: bigint, decimals: number): string {
  const text = formatUnits(value, decimals);
  const [whole, fraction = ''] = text.split('.');
  return `${whole}.${fraction.padEnd(2, '0')}`;
}

/** The price of a quote: `0.01 USD (0.01 USDC on eip155:8453)`, or the token amount alone for a non-USD token. */
export function priceText(quote: Quote): string {
  const tokens = `${formatUnits(quote.amount, quote.asset.decimals)} ${quote.asset.symbol} on ${quote.network}`;
  return quote.usd !== undefined ? `${usdText(quote.usd, USD_DECIMALS)} USD (${tokens})` : tokens;
}

/** The stderr line of a payment: what was paid, to whom, and how it ended. */
export function paymentLine(payment: Payment): string {
  const { quote } = payment;
  const outcome =
    payment.status === 'settled'
      ? `settled in transaction ${payment.transaction ?? '(none given)'}`
      : payment.status === 'failed'
        ? `the server reported that settlement failed (${inertText(payment.reason ?? 'no reason given', 200)}); it still counts against the budget`
        : 'settlement unknown (no usable receipt); it counts against the budget';
  const delivery = payment.delivery ? `\n${DELIVERY_WARNINGS[payment.delivery]} Nothing more was paid; keep this line (and the transaction) to dispute it with the seller.` : '';
  return `paid ${priceText(quote)} to ${payment.payTo} for ${quote.host} (x402 v${quote.version}): ${outcome}${delivery}`;
}

/** The warning line for a paid answer that does not look like a delivery (THREATS F6). */
const DELIVERY_WARNINGS: Readonly<Record<NonNullable<Payment['delivery']>, string>> = {
  empty: 'warning: the server answered the payment with no content (paid_no_delivery).',
  unexpected_type: 'warning: the server answered the payment with another content type than it announced, perhaps an error page (paid_no_delivery).',
};

/** CLI advice replacing the library's (which speaks of options objects). */
const CLI_HINTS: Readonly<Record<string, string>> = {
  budget_exceeded: 'Raise --max-per-request or --daily if this price is expected; otherwise nothing needs doing.',
  no_acceptable_option:
    '`x402-autopay quote <url>` lists every option and why it was refused; --network widens the allowed networks; a payer that holds less than the price (with --rpc) needs funds first.',
  insecure_transport: 'Use the https:// URL of the API (plain http is only paid on loopback hosts).',
  request_blocked:
    'The command never follows a redirect into a non-public address (or more than 5). Do not retry; if the address is yours, fetch its URL directly.',
  duplicate_request:
    'A payment was already made with this Idempotency-Key (-H), by an earlier run sharing the ledger (its nonce is above): `x402-autopay spend` lists it, and `x402-autopay reconcile --rpc <node URL>` tells whether it settled. Send a new key only to buy again.',
  budget_unavailable: 'Check the ledger file (--ledger); docs/budget.md says how to recover a corrupt ledger.',
  settlement_unknown:
    'Do not pay again yet. After the time above, `x402-autopay reconcile --rpc <node URL>` asks the chain: it gives the amount back to the budget if the authorization expired unused, and records it settled if it was used.',
  payment_rejected:
    'Do not retry blindly: the budget keeps this payment counted. After the time above, `x402-autopay reconcile --rpc <node URL>` gives it back if the chain shows it expired unused.',
};

/**
 * An error for stderr: for an x402 error its code, short message, fact lines, whether money
 * may have moved and what to do (never a payment header: the library keeps those out of its
 * errors); for anything else its message and the cause's.
 */
export function errorText(error: unknown): string {
  if (isX402Error(error)) {
    const lines = [`error ${error.code}: ${error.shortMessage}`];
    for (const [key, value] of Object.entries(error.details)) lines.push(`  ${key}: ${value}`);
    // The file ledger's own diagnosis (what was found, how to recover) is worth showing.
    if (error.cause instanceof Error && error.cause.name === 'FileLedgerError') lines.push(`  ledger: ${inertText(error.cause.message, 1000)}`);
    lines.push(
      error.moneyMoved === 'no'
        ? 'Money moved: no (nothing was sent that could be settled).'
        : 'Money moved: maybe (a signed payment reached the server and can be settled until it expires).',
    );
    const hint = CLI_HINTS[error.code] ?? error.hint;
    if (hint) lines.push(`What to do: ${hint}`);
    lines.push(`Docs: ${DOCS_PATH}#${error.code}`);
    return lines.join('\n');
  }
  const message = error instanceof Error ? error.message : String(error);
  const cause = error instanceof Error && error.cause instanceof Error ? error.cause : undefined;
  const causeText = cause ? ` (${[(cause as NodeJS.ErrnoException).code, cause.message].filter(Boolean).join(': ')})` : '';
  return `error: ${inertText(message, 500)}${inertText(causeText, 300)}`;
}

/** The status line and headers of a response, as `curl -i` shows them. */
export function headText(response: Response): string {
  const lines = [`HTTP/1.1 ${response.status} ${response.statusText}`.trimEnd()];
  response.headers.forEach((value, name) => {
    if (name === 'set-cookie') return;
    lines.push(`${name}: ${value}`);
  });
  for (const cookie of response.headers.getSetCookie()) lines.push(`set-cookie: ${cookie}`);
  return `${lines.join('\r\n')}\r\n\r\n`;
}

/** JSON for machines: bigints become decimal strings. */
export function toJson(value: unknown): string {
  return `${JSON.stringify(value, (_key, v: unknown) => (typeof v === 'bigint' ? v.toString() : v), 2)}\n`;
}

/** Left-aligned text columns (right-aligned where `right[i]`), two spaces apart. */
export function table(rows: readonly (readonly string[])[], right: readonly boolean[] = []): string {
  const widths: number[] = [];
  for (const row of rows) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, cell.length)));
  return rows
    .map((row) => row.map((cell, i) => (i === row.length - 1 && !right[i] ? cell : right[i] ? cell.padStart(widths[i]!) : cell.padEnd(widths[i]!))).join('  '))
    .join('\n');
}
