import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { wrapFetch } from '../fetch.js';
import { guardAddresses } from '../node/guardAddresses.js';
import { getPayment } from '../receipt.js';
import { signInWithX } from '../signInWithX.js';
import { fileStore } from '../node/fileStore.js';
import { ASSET_FLAGS, BUDGET_FLAGS, REQUEST_FLAGS, assetsFromFlags, budgetFromFlags, parseCommandArgs, stringFlag, stringsFlag, urlArgument, UsageError, type FlagSpec } from './args.js';
import { rpcChains } from './rpcChains.js';
import { chainChecker, type AuthorizationChecker } from '../chainChecker.js';
import { EXIT, exitCodeOf } from './exitCodes.js';
import { errorText, headText, paymentLine } from './format.js';
import { FETCH_HELP } from './help.js';
import { writeChunk, type Io } from './io.js';
import { loadAccount } from './key.js';
import { defaultLedgerPath } from './ledgerPath.js';
import { requestFromFlags } from './request.js';

const FLAGS: Readonly<Record<string, FlagSpec>> = {
  ...REQUEST_FLAGS,
  ...BUDGET_FLAGS,
  ...ASSET_FLAGS,
  rpc: { type: 'string', multiple: true },
  output: { type: 'string', short: 'o' },
  include: { type: 'boolean', short: 'i' },
  ledger: { type: 'string' },
  'key-file': { type: 'string' },
  'sign-in': { type: 'boolean' },
};

/**
 * `x402-autopay fetch <url>`: the request goes through `wrapFetch` — the same engine as every
 * other door — with the budget from the flags and the file ledger; the body goes to stdout (or
 * `-o`), the payment to stderr.
 */
export async function fetchCommand(args: readonly string[], io: Io): Promise<number> {
  const { values, positionals } = parseCommandArgs('fetch', args, FLAGS, 1);
  if (values['help']) {
    await io.out(`${FETCH_HELP}\n`);
    return EXIT.ok;
  }
  const url = urlArgument('fetch', positionals);
  const budget = budgetFromFlags('fetch', values);
  const assets = assetsFromFlags('fetch', values);
  const ledger = stringFlag(values, 'ledger') ?? defaultLedgerPath(io.env);
  if (ledger === '') throw new UsageError('--ledger must be a file path', 'fetch');
  const output = stringFlag(values, 'output');
  if (output === '') throw new UsageError('-o must be a file path (or - for stdout)', 'fetch');
  const init = await requestFromFlags('fetch', values, io.stdin);
  const account = await loadAccount('fetch', { env: io.env, keyFile: stringFlag(values, 'key-file'), secret: io.secret, warn: io.err });
  // With --rpc: the payer's balance is read before signing (nothing is signed that cannot settle).
  const rpc = stringsFlag(values, 'rpc');
  let chain: AuthorizationChecker | undefined;
  if (rpc.length > 0) {
    try {
      chain = chainChecker(await rpcChains(rpc, 'fetch'));
    } catch (error) {
      if (error instanceof UsageError) throw error;
      io.err(`x402-autopay: ${(error as Error).message}; nothing was paid.`);
      return EXIT.error;
    }
  }

  // Like the agents it serves, the command follows redirects only to public addresses (THREATS G3).
  const paidFetch = wrapFetch(guardAddresses(io.fetch), account, {
    budget,
    store: fileStore(ledger),
    ...(assets ? { assets } : {}),
    on: {
      resend: (e) => io.err(`no usable answer to the paid request (${e.reason}); sending the same payment again (nothing new is signed)`),
      signIn: (e) => io.err(e.granted ? `signed in to ${e.host} as ${e.address}: nothing paid` : `signed in to ${e.host} as ${e.address}, but it asks for a payment`),
    },
    ...(chain ? { reconcile: chain, checkBalance: true } : {}),
    ...(values['sign-in'] === true ? { signIn: signInWithX() } : {}),
  });
  let response: Response;
  try {
    response = await paidFetch(url, init);
  } catch (error) {
    io.err(errorText(error));
    return exitCodeOf(error);
  }
  const payment = getPayment(response);
  if (payment) io.err(paymentLine(payment));

  try {
    await writeResponse(response, output, values['include'] === true, io);
  } catch (error) {
    io.err(`${errorText(error)}${payment ? '\n(The payment above was made: it counts against the budget.)' : ''}`);
    return EXIT.error;
  }
  return EXIT.ok;
}

/** Streams the answer (with its head for `-i`) to stdout or to the `-o` file. */
async function writeResponse(response: Response, output: string | undefined, include: boolean, io: Io): Promise<void> {
  const toFile = output !== undefined && output !== '-';
  const file = toFile ? createWriteStream(output) : undefined;
  const failed = file ? once(file, 'error').then(([error]) => Promise.reject(error as Error)) : undefined;
  failed?.catch(() => undefined);
  const write = (chunk: Uint8Array | string) => (file ? Promise.race([writeChunk(file, chunk), failed!]) : typeof chunk === 'string' ? io.out(chunk) : io.outBytes(chunk));
  try {
    if (include) await write(headText(response));
    if (response.body) {
      const reader = response.body.getReader();
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        await write(value);
      }
    }
  } finally {
    if (file) {
      file.end();
      await Promise.race([once(file, 'finish'), failed!]);
    }
  }
}
