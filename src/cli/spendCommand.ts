import { existsSync } from 'node:fs';
import { fileStore } from '../node/fileStore.js';
import { assetKey, KNOWN_ASSETS } from '../protocol/assets.js';
import { toUsd, USD_DECIMALS } from '../internal/amount.js';
import { parseCommandArgs, show, stringFlag, UsageError, type FlagSpec } from './args.js';
import { EXIT } from './exitCodes.js';
import { table, toJson, usdText } from './format.js';
import { SPEND_HELP } from './help.js';
import type { Io } from './io.js';
import { defaultLedgerPath } from './ledgerPath.js';
import type { SpendRecord, SpendStatus } from '../budget/store.js';

const FLAGS: Readonly<Record<string, FlagSpec>> = {
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
  /** Atomic units of other tokens, by `<network>/<asset>`. */
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

  // A ledger that does not exist yet is an empty report: reading it must not create it.
  const records = existsSync(ledger) ? await fileStore(ledger).report(since !== undefined ? { since } : undefined) : [];
  const groups = groupRecords(records);
  const total = totalsOf(records);

  if (json) {
    await io.out(
      toJson({
        ledger,
        since: since !== undefined ? new Date(since).toISOString() : null,
        groups: groups.map((g) => ({ day: g.day, host: g.host, payee: g.payee, ...totalsJson(g) })),
        total: totalsJson(total),
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
  const rows = [['day (UTC)', 'host', 'payee', 'payments', 'USD', ...(hasOther ? ['other tokens (atomic units)'] : []), 'status']];
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

/** USD value (36-decimal fixed point) of a record in a known USD stablecoin; undefined otherwise. */
function usdOf(record: SpendRecord): bigint | undefined {
  const asset = KNOWN_ASSETS.get(assetKey(record.network, record.asset));
  if (!asset?.usdPegged || !/^\d+$/.test(record.amount)) return undefined;
  return toUsd(BigInt(record.amount), asset.decimals);
}

function emptyTotals(): Totals {
  return { payments: 0, usd: 0n, other: new Map(), statuses: {} };
}

function add(totals: Totals, record: SpendRecord): void {
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

function totalsOf(records: readonly SpendRecord[]): Totals {
  const totals = emptyTotals();
  for (const record of records) add(totals, record);
  return totals;
}

/** Groups per UTC day, host and payee, in the order they first appear (the report is oldest first). */
function groupRecords(records: readonly SpendRecord[]): Group[] {
  const groups = new Map<string, Group>();
  for (const record of records) {
    const day = new Date(record.time).toISOString().slice(0, 10);
    const key = `${day}|${record.host}|${record.payee.toLowerCase()}`;
    let group = groups.get(key);
    if (!group) groups.set(key, (group = { day, host: record.host, payee: record.payee, ...emptyTotals() }));
    add(group, record);
  }
  return [...groups.values()];
}

function totalsJson(t: Totals): Record<string, unknown> {
  return {
    payments: t.payments,
    usd: usdText(t.usd, USD_DECIMALS),
    other: [...t.other].map(([key, amount]) => ({ asset: key, amount })),
    statuses: t.statuses,
  };
}

function otherText(other: ReadonlyMap<string, bigint>): string {
  return [...other].map(([key, amount]) => `${amount} of ${key}`).join(', ') || '-';
}

function statusText(statuses: Partial<Record<SpendStatus, number>>): string {
  return Object.entries(statuses)
    .map(([status, count]) => `${count} ${status}`)
    .join(', ');
}
