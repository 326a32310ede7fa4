import { existsSync } from 'node:fs';
import { fileStore } from '../node/fileStore.js';
import { chainChecker } from '../chainChecker.js';
import type { ChainReader } from '../checkAuthorization.js';
import { reconcilePayments, type ReconciledPayment } from '../budget/reconcilePayments.js';
import { assetKey, KNOWN_ASSETS } from '../protocol/assets.js';
import { toUsd, USD_DECIMALS } from '../internal/amount.js';
import { parseCommandArgs, show, stringFlag, stringsFlag, UsageError, type FlagSpec } from './args.js';
import { EXIT } from './exitCodes.js';
import { table, toJson, usdText } from './format.js';
import { RECONCILE_HELP } from './help.js';
import type { Io } from './io.js';
import { defaultLedgerPath } from './ledgerPath.js';
import { rpcChains } from './rpcChains.js';

const FLAGS: Readonly<Record<string, FlagSpec>> = {
  rpc: { type: 'string', multiple: true },
  ledger: { type: 'string' },
  latest: { type: 'boolean' },
  receipts: { type: 'boolean' },
  json: { type: 'boolean' },
};

/**
 * `x402-autopay reconcile`: asks the chain (through the `--rpc` nodes) about the payments of the
 * ledger's last hour whose outcome was failed or unknown, and the reservations left behind
 * before sending once no signature for them can be valid; gives back to the budget those whose
 * authorization expired unused, records as settled those it shows used. Signs nothing, needs no
 * key. Exit 0 when every payment got an answer (used, pending or expired), 1 when the chain
 * could not answer for one.
 */
export async function reconcileCommand(args: readonly string[], io: Io): Promise<number> {
  const { values } = parseCommandArgs('reconcile', args, FLAGS, 0);
  if (values['help']) {
    await io.out(`${RECONCILE_HELP}\n`);
    return EXIT.ok;
  }
  const urls = stringsFlag(values, 'rpc');
  if (urls.length === 0) throw new UsageError('--rpc <url> is required: a JSON-RPC node of the network paid on (repeatable)', 'reconcile');
  for (const url of urls) {
    if (!/^https?:\/\/[^\s]+$/i.test(url) || !URL.canParse(url)) throw new UsageError(`--rpc must be an http(s) URL; got ${show(url)}`, 'reconcile');
  }
  const ledger = stringFlag(values, 'ledger') ?? defaultLedgerPath(io.env);
  if (ledger === '') throw new UsageError('--ledger must be a file path', 'reconcile');
  const json = values['json'] === true;

  if (!existsSync(ledger)) {
    await io.out(json ? toJson({ ledger, outcomes: [] }) : `No payments recorded in ${ledger}.\n`);
    return EXIT.ok;
  }
  // Which network each node serves, from the node itself.
  let chains: Record<string, ChainReader>;
  try {
    chains = await rpcChains(urls, 'reconcile');
  } catch (error) {
    if (error instanceof UsageError) throw error;
    io.err(`x402-autopay: ${(error as Error).message}; nothing was changed.`);
    return EXIT.error;
  }
  const checker = chainChecker(chains, { blockTag: values['latest'] === true ? 'latest' : 'finalized' });
  const receipts = values['receipts'] === true;
  const outcomes = await reconcilePayments(fileStore(ledger), checker, Date.now(), { receipts });
  const unavailable = outcomes.some((o) => o.state === 'unavailable');

  if (json) {
    await io.out(
      toJson({
        ledger,
        networks: Object.keys(chains),
        outcomes: outcomes.map((o) => ({ ...o, usd: usdOf(o) ?? null, error: o.error ? o.error.message.split('\n')[0] : undefined })),
      }),
    );
    return unavailable ? EXIT.error : EXIT.ok;
  }
  if (outcomes.length === 0) {
    await io.out(`Nothing to reconcile in ${ledger}: no ${receipts ? '' : 'failed or unknown '}payment in the last hour.\n`);
    return EXIT.ok;
  }
  const rows = [['state', 'budget', 'amount', 'host', 'network', 'nonce', 'valid until (UTC)']];
  for (const o of outcomes) {
    rows.push([
      o.receipt ? `${o.state} (receipt ${o.receipt === 'confirmed' ? 'confirmed' : 'NOT on chain'})` : o.state,
      o.state === 'expired' && !o.receipt ? (o.released ? 'given back' : 'already given back') : 'still counted',
      usdOf(o) !== undefined ? `${usdOf(o)} USD` : `${o.amount} units`,
      o.host,
      o.authorization.network,
      `${o.authorization.nonce.slice(0, 10)}…`,
      new Date(Number(o.authorization.validBefore) * 1000).toISOString().replace('.000Z', 'Z'),
    ]);
  }
  const lines = [`Reconciled ${ledger} at the ${values['latest'] === true ? 'latest' : 'finalized'} block:`, '', table(rows), ''];
  for (const o of outcomes) {
    if (o.error) lines.push(`${o.authorization.nonce.slice(0, 10)}…: ${o.error.message.split('\n')[0]}`);
  }
  if (unavailable) lines.push('', 'Some payments could not be checked: they stay counted. Run this again later.');
  const unconfirmed = outcomes.filter((o) => o.receipt === 'not_on_chain').length;
  if (unconfirmed > 0) {
    lines.push('', `${unconfirmed} receipt(s) said settled, but the chain does not show the authorization used: the server's receipt was false or early (keep it for a dispute; the payments stay counted).`);
  }
  await io.out(`${lines.join('\n')}\n`);
  return unavailable ? EXIT.error : EXIT.ok;
}

/** The USD amount of a payment in a known USD stablecoin, as text; undefined otherwise. */
function usdOf(outcome: ReconciledPayment): string | undefined {
  const asset = KNOWN_ASSETS.get(assetKey(outcome.authorization.network, outcome.asset));
  return asset?.usdPegged ? usdText(toUsd(outcome.amount, asset.decimals), USD_DECIMALS) : undefined;
}
