import { existsSync } from 'node:fs';
import { resolveOptions, type DeclaredAsset } from '../options.js';
import { inspectChallenge, type ChallengeInspection } from '../inspectChallenge.js';
import { Budget, toMicro, type RemainingLimit } from '../budget/budget.js';
import { fileStore } from '../node/fileStore.js';
import { guardAddresses } from '../node/guardAddresses.js';
import { formatUnits, parseDecimal, USD_DECIMALS } from '../internal/amount.js';
import { ASSET_FLAGS, BUDGET_FLAGS, REQUEST_FLAGS, assetsFromFlags, budgetFromFlags, parseCommandArgs, stringFlag, urlArgument, UsageError, type FlagSpec } from './args.js';
import { EXIT, exitCodeOf } from './exitCodes.js';
import { errorText, priceText, table, toJson, usdText } from './format.js';
import { QUOTE_HELP } from './help.js';
import type { Io } from './io.js';
import { defaultLedgerPath } from './ledgerPath.js';
import { requestFromFlags } from './request.js';
import type { Quote } from '../select.js';
import type { BudgetOptions } from '../budget/budgetOptions.js';

const FLAGS: Readonly<Record<string, FlagSpec>> = {
  ...REQUEST_FLAGS,
  ...BUDGET_FLAGS,
  ...ASSET_FLAGS,
  ledger: { type: 'string' },
  json: { type: 'boolean' },
};

/** Windowed limits a quote would break, from the ledger's `remaining()`. */
interface WindowCheck {
  readonly limits: readonly RemainingLimit[];
  /** The first limit the chosen price would break, e.g. `daily (0.004 USD left)`. */
  readonly exceeded: string | undefined;
}

/**
 * `x402-autopay quote <url>`: sends the request once without payment and shows what the engine
 * would do with the 402 — every option, the chosen one and its USD price — through the library's
 * own reading, selection and policy check (`inspectChallenge`). Needs no key: there is no wallet
 * to sign with, and nothing is reserved.
 */
export async function quoteCommand(args: readonly string[], io: Io): Promise<number> {
  const { values, positionals } = parseCommandArgs('quote', args, FLAGS, 1);
  if (values['help']) {
    await io.out(`${QUOTE_HELP}\n`);
    return EXIT.ok;
  }
  const url = urlArgument('quote', positionals);
  const budget = budgetFromFlags('quote', values);
  const assets = assetsFromFlags('quote', values);
  const ledger = stringFlag(values, 'ledger') ?? defaultLedgerPath(io.env);
  if (ledger === '') throw new UsageError('--ledger must be a file path', 'quote');
  const json = values['json'] === true;
  const init = await requestFromFlags('quote', values, io.stdin);
  const options = resolveOptions({ budget, ...(assets ? { assets } : {}) });

  let response: Response;
  try {
    response = await guardAddresses(io.fetch)(url, init);
  } catch (error) {
    io.err(errorText(error));
    return exitCodeOf(error);
  }
  if (response.status !== 402) {
    await response.body?.cancel().catch(() => undefined);
    if (json) await io.out(toJson({ url, status: response.status, paymentRequired: false, chosen: null, paid: false }));
    else await io.out(`No payment required: ${url} answered HTTP ${response.status} ${response.statusText}. Nothing was paid.\n`);
    return EXIT.ok;
  }

  let inspection: ChallengeInspection;
  try {
    inspection = await inspectChallenge(response, url, options);
  } catch (error) {
    io.err(errorText(error));
    return exitCodeOf(error);
  }
  const windows = inspection.chosen && existsSync(ledger) ? await windowCheck(budget, assets, ledger, inspection.chosen, io) : undefined;

  if (json) await io.out(toJson(quoteJson(inspection, response.status, windows, ledger)));
  else await io.out(quoteText(inspection, windows, ledger));
  if (inspection.refusal) {
    io.err(errorText(inspection.refusal));
    return exitCodeOf(inspection.refusal);
  }
  if (windows?.exceeded) {
    io.err(`refused: the ${windows.exceeded} in ${ledger}; fetch would exit 3 (budget_exceeded). Nothing was paid.`);
    return EXIT.refused;
  }
  return EXIT.ok;
}

/** The budget scope of a token's own limits (as `Budget` names it). */
function tokenScopeOf(quote: Quote): string {
  return `asset:${quote.network}/${quote.option.asset.toLowerCase()}`;
}

/** What is left of the configured limits in the ledger (the global ones, and the chosen token's own), and the first one the chosen price would break. */
async function windowCheck(budget: BudgetOptions, assets: readonly DeclaredAsset[] | undefined, ledger: string, chosen: Quote, io: Io): Promise<WindowCheck | undefined> {
  const options = resolveOptions({ budget, store: fileStore(ledger), ...(assets ? { assets } : {}) });
  let limits: RemainingLimit[];
  try {
    limits = await new Budget(options.budget, options.assetLimits, options.store).remaining();
  } catch (error) {
    io.err(`warning: cannot read the ledger ${ledger}, so its limits are not shown: ${error instanceof Error ? error.message : String(error)}`);
    return undefined;
  }
  // The price in micro-USD, rounded up, as the budget counts it.
  const micro = chosen.usd === undefined ? undefined : (chosen.usd + 10n ** 30n - 1n) / 10n ** 30n;
  // A token that is not a USD stablecoin (declared with --assets) has limits of its own, in micro-tokens.
  const tokenScope = chosen.usd === undefined ? tokenScopeOf(chosen) : undefined;
  const tokenMicro = toMicro(chosen.amount, chosen.asset.decimals);
  let exceeded: string | undefined;
  for (const limit of limits) {
    if (exceeded) break;
    if (limit.scope === tokenScope) {
      const left = parseDecimal(limit.remaining, 6);
      if (left !== undefined && tokenMicro > left) exceeded = `${limit.limit} limit of ${limit.unit} has ${limit.remaining} ${limit.unit} left`;
      continue;
    }
    if (limit.scope !== 'global') continue;
    const left = limit.unit === 'payments' ? BigInt(limit.remaining) : parseDecimal(limit.remaining, 6);
    if (limit.unit === 'payments' && left === 0n) exceeded = `${limit.limit} limit is reached (${limit.max} payments)`;
    if (limit.unit === 'USD' && micro !== undefined && left !== undefined && micro > left) exceeded = `${limit.limit} limit has ${limit.remaining} USD left`;
  }
  return { limits: limits.filter((l) => l.scope === 'global' || l.scope === tokenScope), exceeded };
}

function quoteText(inspection: ChallengeInspection, windows: WindowCheck | undefined, ledger: string): string {
  const { challenge, options, chosen } = inspection;
  const lines = [`${inspection.url} asks for payment (x402 v${challenge.version}, ${options.length} option${options.length === 1 ? '' : 's'}):`, ''];
  const rows = [['#', 'scheme', 'network', 'price', 'pay to', 'verdict']];
  for (const { option, quote, refusal } of options) {
    rows.push([
      String(option.index),
      option.scheme,
      option.network ?? option.wireNetwork,
      quote ? priceText(quote).replace(` on ${quote.network}`, '') : `${option.amount} atomic units of ${option.asset}`,
      quote?.payTo ?? option.payTo,
      refusal ? `refused (${refusal.code}): ${refusal.message}` : chosen && chosen.option.index === option.index ? 'acceptable, chosen' : 'acceptable',
    ]);
  }
  lines.push(indent(table(rows)), '');
  if (chosen) lines.push(`Would pay: option #${chosen.option.index}, ${priceText(chosen)} to ${chosen.payTo} (asset ${chosen.option.asset}).`);
  else lines.push(`Would pay: nothing (${inspection.refusal?.code ?? 'refused'}).`);
  if (windows) {
    lines.push(`Ledger ${ledger}: ${windows.limits.map((l) => `${l.limit} ${l.remaining} of ${l.max} ${l.unit} left`).join('; ')}.`);
  }
  lines.push('Nothing was paid or signed.', '');
  return lines.join('\n');
}

function quoteJson(inspection: ChallengeInspection, status: number, windows: WindowCheck | undefined, ledger: string): unknown {
  const usd = (quote: Quote | undefined) => (quote?.usd === undefined ? null : usdText(quote.usd, USD_DECIMALS));
  const terms = (quote: Quote) => ({
    index: quote.option.index,
    scheme: quote.option.scheme,
    network: quote.network,
    asset: quote.option.asset,
    symbol: quote.asset.symbol,
    amount: quote.amount,
    tokens: formatUnits(quote.amount, quote.asset.decimals),
    usd: usd(quote),
    payTo: quote.payTo,
  });
  return {
    url: inspection.url,
    status,
    paymentRequired: true,
    version: inspection.challenge.version,
    options: inspection.options.map(({ option, quote, refusal }) => ({
      index: option.index,
      scheme: option.scheme,
      network: option.network ?? option.wireNetwork,
      asset: option.asset,
      symbol: quote?.asset.symbol ?? null,
      amount: option.amount,
      usd: usd(quote),
      payTo: quote?.payTo ?? option.payTo,
      acceptable: refusal === undefined,
      refusal: refusal ?? null,
    })),
    chosen: inspection.chosen ? terms(inspection.chosen) : null,
    refusal: inspection.refusal
      ? { code: inspection.refusal.code, message: inspection.refusal.shortMessage, moneyMoved: inspection.refusal.moneyMoved }
      : windows?.exceeded
        ? { code: 'budget_exceeded', message: `the ${windows.exceeded}`, moneyMoved: 'no' }
        : null,
    ledger: windows ? { path: ledger, limits: windows.limits } : null,
    paid: false,
  };
}

function indent(text: string): string {
  return text
    .split('\n')
    .map((line) => `  ${line}`)
    .join('\n');
}
