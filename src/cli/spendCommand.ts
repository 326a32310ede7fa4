import { existsSync } from 'node:fs';
import { fileStore } from '../node/fileStore.js';
import { assetKey, KNOWN_ASSETS, type AssetInfo } from '../protocol/assets.js';
import { formatUnits, toUsd, USD_DECIMALS } from '../internal/amount.js';
import { resolveOptions } from '../options.js';
import { ASSET_FLAGS, assetsFromFlags, parseCommandArgs, show, stringFlag, UsageError, type FlagSpec } from './args.js';
import { EXIT } from './exitCodes.js';
import { table, toJson, usdText } from './format.js';
import { SPEND_HELP } from './help.js';
import type { Io } from './io.js';
import { defaultLedgerPath } from './ledgerPath.js';
import type { SpendRecord, SpendStatus } from '../budget/store.js';

const FLAGS: Readonly<Record<string, FlagSpec>> = {
  ...ASSET_FLAGS,
  ledger: { type: 'string' },
  since: { type: 'string' },
  json: { type: 'boolean' },
};

/** Totals of a set of payments. */
interface Totals {
  /** Payments that count as spent (every status but `released`). */
  payments: number;
  /** USD in 36-decimal fixed point, over known USD stablecoins. */
  usd: bigint;
  /** Atomic units of other tokens, by `<network>/<asset>` (the address as recorded). */
  other: Map<string, bigint>;
  /** Records per status, `released` included. */
  statuses: Partial<Record<SpendStatus, number>>;
}

interface Group extends Totals {
  readonly day: string;
  readonly host: string;
  readonly payee: string;
}

/**
 * `x402-autopay spend`: the ledger's report (`SpendStore.report`, read from the journal that
 * `fetch` writes) grouped per UTC day, host and payee, with USD totals for known stablecoins.
 */
export async function spendCommand(args: readonly string[], io: Io): Promise<number> {
  const { values } = parseCommandArgs('spend', args, FLAGS, 0);
  if (values['help']) {
    await io.out(`${SPEND_HELP}\n`);
    return EXIT.ok;
  }
  const ledger = stringFlag(values, 'ledger') ?? defaultLedgerPath(io.env);
  if (ledger === '') throw new UsageError('--ledger must be a file path', 'spend');
  const sinceText = stringFlag(values, 'since');
  let since: number | undefined;
  if (sinceText !== undefined) {
    since = /^\d{4}-\d{2}-\d{2}([T ][0-9:.]+(Z|[+-]\d{2}:?\d{2})?)?$/.test(sinceText) ? Date.parse(sinceText) : NaN;
    if (!Number.isFinite(since)) throw new UsageError(`--since must be a date such as 2025-06-01 or 2025-06-01T12:00:00Z; got ${show(sinceText)}`, 'spend');
  }
  const json = values['json'] === true;
  // Tokens declared with --assets: USD stablecoins among them count in USD, others are shown in whole tokens.
  const declared = assetsFromFlags('spend', values);
  const tokens = declared ? resolveOptions({ assets: declared }).assets : KNOWN_ASSETS;
  const usdOf = (record: SpendRecord) => usdValue(record, tokens);
  const otherText = (other: ReadonlyMap<string, bigint>) => tokensText(other, tokens);

  // A ledger that does not exist yet is an empty report: reading it must not create it.
  const records = existsSync(ledger) ? await fileStore(ledger).report(since !== undefined ? { since } : undefined) : [];
  const groups = groupRecords(records, usdOf);
  const total = totalsOf(records, usdOf);

  if (json) {
    await io.out(
      toJson({
        ledger,
        since: since !== undefined ? new Date(since).toISOString() : null,
        groups: groups.map((g) => ({ day: g.day, host: g.host, payee: g.payee, ...totalsJson(g, tokens) })),
        total: totalsJson(total, tokens),
        records: records.map(({ id, time, ...rest }) => {
          const usd = usdOf({ id, time, ...rest });
          return { id, time, date: new Date(time).toISOString(), ...rest, usd: usd === undefined ? null : usdText(usd, USD_DECIMALS) };
        }),
      }),
    );
    return EXIT.ok;
  }
  if (records.length === 0) {
    await io.out(`No payments recorded in ${ledger}${since !== undefined ? ` since ${new Date(since).toISOString()}` : ''}.\n`);
    return EXIT.ok;
  }
  const hasOther = groups.some((g) => g.other.size > 0);
  const rows = [['day (UTC)', 'host', 'payee', 'payments', 'USD', ...(hasOther ? [declared ? 'other tokens' : 'other tokens (atomic units)'] : []), 'status']];
  for (const g of groups) {
    rows.push([g.day, g.host, g.payee, String(g.payments), usdText(g.usd, USD_DECIMALS), ...(hasOther ? [otherText(g.other)] : []), statusText(g.statuses)]);
  }
  const lines = [
    `Spend report of ${ledger}${since !== undefined ? ` since ${new Date(since).toISOString()}` : ''}`,
    '(spent = signed: settled, failed, unknown and still reserved payments count; released ones do not)',
    '',
    table(rows, [false, false, false, true, true]),
    '',
    `Total: ${total.payments} payment${total.payments === 1 ? '' : 's'}, ${usdText(total.usd, USD_DECIMALS)} USD${total.other.size ? `, plus ${otherText(total.other)}` : ''} (${statusText(total.statuses)}).`,
    '',
  ];
  await io.out(lines.join('\n'));
  return EXIT.ok;
}

/** USD value (36-decimal fixed point) of a record in a USD stablecoin of `tokens`; undefined otherwise. */
function usdValue(record: SpendRecord, tokens: ReadonlyMap<string, AssetInfo>): bigint | undefined {
  const asset = tokens.get(assetKey(record.network, record.asset));
  if (!asset?.usdPegged || !/^\d+$/.test(record.amount)) return undefined;
  return toUsd(BigInt(record.amount), asset.decimals);
}

/** A token of `tokens` (built in or declared) by the `<network>/<asset>` key of {@link Totals.other}. */
function tokenOf(key: string, tokens: ReadonlyMap<string, AssetInfo>): AssetInfo | undefined {
  const slash = key.indexOf('/');
  return tokens.get(assetKey(key.slice(0, slash), key.slice(slash + 1)));
}

function emptyTotals(): Totals {
  return { payments: 0, usd: 0n, other: new Map(), statuses: {} };
}

function add(totals: Totals, record: SpendRecord, usdOf: (record: SpendRecord) => bigint | undefined): void {
  totals.statuses[record.status] = (totals.statuses[record.status] ?? 0) + 1;
  if (record.status === 'released') return;
  totals.payments += 1;
  const usd = usdOf(record);
  if (usd !== undefined) totals.usd += usd;
  else if (/^\d+$/.test(record.amount)) {
    const key = `${record.network}/${record.asset}`;
    totals.other.set(key, (totals.other.get(key) ?? 0n) + BigInt(record.amount));
  }
}

function totalsOf(records: readonly SpendRecord[], usdOf: (record: SpendRecord) => bigint | undefined): Totals {
  const totals = emptyTotals();
  for (const record of records) add(totals, record, usdOf);
  return totals;
}

/** Groups per UTC day, host and payee, in the order they first appear (the report is oldest first). */
function groupRecords(records: readonly SpendRecord[], usdOf: (record: SpendRecord) => bigint | undefined): Group[] {
  const groups = new Map<string, Group>();
  for (const record of records) {
    const day = new Date(record.time).toISOString().slice(0, 10);
    const key = `${day}|${record.host}|${record.payee.toLowerCase()}`;
    let group = groups.get(key);
    if (!group) groups.set(key, (group = { day, host: record.host, payee: record.payee, ...emptyTotals() }));
    add(group, record, usdOf);
  }
  return [...groups.values()];
}

function totalsJson(t: Totals, tokens: ReadonlyMap<string, AssetInfo>): Record<string, unknown> {
  return {
    payments: t.payments,
    usd: usdText(t.usd, USD_DECIMALS),
    other: [...t.other].map(([key, amount]) => {
      const token = tokenOf(key, tokens);
      return { asset: key, amount, ...(token ? { symbol: token.symbol, tokens: formatUnits(amount, token.decimals) } : {}) };
    }),
    statuses: t.statuses,
  };
}

/** Other tokens' totals: whole tokens with their symbol when known (declared), else atomic units. */
function tokensText(other: ReadonlyMap<string, bigint>, tokens: ReadonlyMap<string, AssetInfo>): string {
  return (
    [...other]
      .map(([key, amount]) => {
        const token = tokenOf(key, tokens);
        return token ? `${formatUnits(amount, token.decimals)} ${token.symbol} (${key})` : `${amount} of ${key}`;
      })
      .join(', ') || '-'
  );
}

function statusText(statuses: Partial<Record<SpendStatus, number>>): string {
  return Object.entries(statuses)
    .map(([status, count]) => `${count} ${status}`)
    .join(', ');
}
