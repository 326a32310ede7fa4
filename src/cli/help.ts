import { EXIT_CODES_HELP } from './exitCodes.js';

const LEDGER_HELP = `  --ledger <path>             the spend ledger file, shared by every run and process
                              (default: $XDG_STATE_HOME/x402-autopay/ledger.json,
                              else ~/.local/state/x402-autopay/ledger.json)`;

const BUDGET_HELP = `Budget (USD amounts; they apply to known USD stablecoins such as USDC):
  --max-per-request <usd>     most one payment may cost (default 0.10)
  --daily <usd|unlimited>     most paid per rolling 24 h, counted in the ledger (default 1.00)
  --network <caip2>           pay only on this network, e.g. eip155:8453 (repeatable;
                              default: any network of a known stablecoin)
  --assets <file>             a JSON array declaring other tokens to pay (network, address,
                              decimals, EIP-712 name and version, symbol, and either
                              "usdPegged": true or limits in whole tokens: perRequest, daily…);
                              see docs/cli.md`;

const REQUEST_HELP = `Request (as in curl):
  -X, --request <method>      HTTP method (default GET, or POST with -d)
  -H, --header <'Name: value'>
                              a request header (repeatable)
  -d, --data <text|@file|@->  the request body, sent as is (@file reads a file, @- stdin);
                              content-type application/x-www-form-urlencoded unless -H sets one`;

/** `x402-autopay --help`. */
export const MAIN_HELP = `x402-autopay: pay for HTTP resources over x402 (v1 and v2), within a budget.

Usage:
  x402-autopay fetch [options] <url>   fetch a URL like curl, paying a 402 within the budget
  x402-autopay quote [options] <url>   show the payment options of a URL and the one that
                                       would be chosen; pays nothing, signs nothing
  x402-autopay spend [options]         the spend report of the ledger (per day, host, payee)
  x402-autopay reconcile --rpc <url>   ask the chain about failed and unknown payments; give
                                       back to the budget those that expired unused
  x402-autopay help <command>          help of a command (or: <command> --help)
  x402-autopay --version

The payer's key comes from the X402_PRIVATE_KEY environment variable or --key-file <path>
(a file holding 0x + 64 hex digits). It is never printed.

${EXIT_CODES_HELP}

Docs: docs/cli.md`;

/** `x402-autopay fetch --help`. */
export const FETCH_HELP = `Usage: x402-autopay fetch [options] <url>

Fetches <url> like curl. When the server answers 402 Payment Required (x402 v1 or v2), pays the
cheapest acceptable option within the budget, recorded in the ledger, and sends the request once
more with the payment. The body goes to stdout (or to -o <file>); what was paid goes to stderr.
Any HTTP answer other than an unpaid 402 exits 0, as curl does without --fail.
Redirects are followed (at most 5), but only to public addresses: a redirect to loopback, a
private network or link-local (cloud metadata) is refused (request_blocked, exit 3), unless it
stays on the origin of the URL given and that URL's host is an IP address or localhost.

${REQUEST_HELP}
  -o, --output <file>         write the body to <file> instead of stdout
  -i, --include               print the status line and headers before the body

${BUDGET_HELP}
${LEDGER_HELP}
  --rpc <url>                 a JSON-RPC node (repeatable, one per network): the payer's token
                              balance is read before signing, and an option it cannot cover is
                              refused (insufficient_balance, exit 3), so nothing is signed that
                              could never settle
  --sign-in                   where the 402 offers it (x402 sign-in-with-x), first sign in
                              with the key (an EIP-4361 message: no money) and send the request
                              again: a server that knows this wallet paid for the resource
                              answers without a payment; else it is paid as usual

Key:
  --key-file <path>           the payer's private key, in a file (0x + 64 hex digits);
                              should be mode 600 (a warning is printed otherwise)
  X402_PRIVATE_KEY            the payer's private key, when --key-file is not given
  The key is never printed, not even in errors.

  -h, --help                  this help

${EXIT_CODES_HELP}

Examples:
  X402_PRIVATE_KEY=0x… x402-autopay fetch https://api.example.com/weather
  x402-autopay fetch --key-file ~/.config/x402/key --max-per-request 0.05 --daily 2 \\
    -X POST -H 'content-type: application/json' -d '{"q":"rain?"}' https://api.example.com/ask`;

/** `x402-autopay quote --help`. */
export const QUOTE_HELP = `Usage: x402-autopay quote [options] <url>

Sends the request once, without payment, and when the server answers 402 shows every payment
option it offers, whether this client could pay it (and why not), and the one that fetch would
choose with its price in USD. Pays nothing, signs nothing, and needs no key. The budget flags
are checked as fetch checks them; when the ledger exists, what is left of its limits is shown.
Note that the request itself is sent: a route that needs no payment answers it for real.

${REQUEST_HELP}
  --json                      print the result as JSON (amounts as strings)

${BUDGET_HELP}
${LEDGER_HELP}

  -h, --help                  this help

${EXIT_CODES_HELP}
  quote exits 0 when an option would be paid (or no payment is asked), 3 when none would be.

Example:
  x402-autopay quote https://api.example.com/weather`;

/** `x402-autopay spend --help`. */
export const SPEND_HELP = `Usage: x402-autopay spend [options]

The spend report of the ledger that fetch writes: payments grouped per UTC day, host and payee,
with USD totals for known stablecoins (other tokens in atomic units, or in whole tokens when
declared with --assets). Spent = signed: payments that settled, failed or ended unknown all
count; released reservations (never sent) do not.

Options:
${LEDGER_HELP}
  --assets <file>             the token declarations fetch was given (see fetch --help): USD
                              stablecoins among them count in USD, others show in whole tokens
  --since <date>              only payments from this date or time on (e.g. 2025-06-01,
                              or 2025-06-01T12:00:00Z)
  --json                      print the report as JSON (amounts as strings), with every record

  -h, --help                  this help

${EXIT_CODES_HELP}

Example:
  x402-autopay spend --json | jq '.total.usd'`;

/** `x402-autopay reconcile --help`. */
export const RECONCILE_HELP = `Usage: x402-autopay reconcile --rpc <url> [options]

Asks the chain about the payments of the ledger's last hour whose outcome was failed or unknown
(a rejection, a timeout, a reset connection), and about reservations a crashed run left behind
before sending (once the latest time a signature for them could be valid has passed): for each,
the token's authorizationState of its payer and nonce, at the finalized block. One whose authorization expired unused never moved
money: its amount is given back to the budget. One that was used is recorded as settled. One
that can still be settled stays counted (run this again after its "valid until"). Signs nothing,
sends no payment, needs no key.

Options:
  --rpc <url>                 a JSON-RPC node (http or https) of a network paid on; it is
                              asked which chain it serves (repeatable, one per network)
  --latest                    judge at the latest block instead of the finalized one (sooner,
                              but a reorganisation could undo the answer)
  --receipts                  also check the payments whose receipt said settled, and report
                              whether the chain shows them used (they stay counted either way)
${LEDGER_HELP}
  --json                      print the outcomes as JSON (amounts as strings)

  -h, --help                  this help

Exit codes:
  0  every payment got an answer (used, pending or expired)
  1  the chain could not answer for one of them (it stays counted), or the node is unreachable
  2  bad input (usage, flags)

Example:
  x402-autopay reconcile --rpc https://mainnet.base.org`;
