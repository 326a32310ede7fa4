import * as z from 'zod/mini';
import { spendAuthorizationSchema } from '../budget/spendAuthorizationSchema.js';
import type { SpendAuthorization } from '../budget/store.js';
import { decimal, ledgerStateSchema, mapKey, parseStoredJson, type Parsed } from '../budget/ledgerStateSchema.js';
import type { LedgerState } from '../budget/ledgerState.js';
import { canonicalJson } from './canonicalJson.js';
import { sha256Hex } from './sha256Hex.js';

/** What the state file says about the journal it goes with. */
export interface JournalLink {
  /** Length of the journal in bytes. */
  readonly bytes: number;
  /** Number of records (the `seq` of the last one; 0 for none). */
  readonly records: number;
  /** Hash of the last record (the genesis hash when there is none). */
  readonly last: string;
  /** Length in bytes of the last record's line, newline included (0 when there is none). */
  readonly tail: number;
}

/** The content of the state file `<path>`: the budget state, its journal link and a checksum. */
export interface StateFile {
  readonly format: typeof STATE_FORMAT;
  readonly version: typeof LEDGER_FORMAT_VERSION;
  /** When it was written, ms since the epoch by the writer's clock. */
  readonly writtenAt: number;
  readonly state: LedgerState;
  readonly journal: JournalLink;
  /** SHA-256 (hex) of the canonical JSON of every other member. */
  readonly checksum: string;
}

/** An event of the journal: what changed the ledger. */
export type JournalEvent =
  | {
      readonly type: 'reserve';
      readonly id: string;
      readonly checks: readonly { readonly key: string; readonly window: WindowJson; readonly amount: string; readonly limit: string }[];
      readonly record: {
        readonly host: string;
        readonly payee: string;
        readonly amount: string;
        readonly asset: string;
        readonly network: string;
        /** The authorization planned at reservation (nonce, latest validBefore); absent in older journals. */
        readonly authorization?: SpendAuthorization;
      };
    }
  | { readonly type: 'release'; readonly id: string }
  | {
      readonly type: 'settle';
      readonly id: string;
      readonly status: 'settled' | 'failed' | 'unknown';
      readonly transaction?: string;
      /** Where the payment's authorization can be looked up on chain (absent in older journals). */
      readonly authorization?: SpendAuthorization;
      /** True when the reservation stays releasable (a `failed` or `unknown` outcome, written since reconciliation); absent in older journals, where a settle always ended it. */
      readonly hold?: true;
    };

/** A counter window as stored. */
export type WindowJson = { readonly kind: 'rolling' | 'calendar'; readonly seconds: 60 | 3600 | 86400 } | { readonly kind: 'total' };

/** One line of the journal `<path>.journal`. */
export type JournalRecord = JournalEvent & {
  /** Position in the journal, from 1. */
  readonly seq: number;
  /** When it happened, ms since the epoch by the writer's clock. */
  readonly time: number;
  /** Hash of the previous record (the genesis hash for the first). */
  readonly prev: string;
  /** SHA-256 (hex) of the canonical JSON of the ledger state once this record is applied. */
  readonly state: string;
  /** SHA-256 (hex) of the canonical JSON of every other member. */
  readonly hash: string;
};

/** The `format` member of every state file. */
export const STATE_FORMAT = 'x402-autopay/file-ledger' as const;

/**
 * The ledger format this version reads and writes: the state file's `version`. A version that
 * changes what the files mean (a new record, a new member, a new replay rule) raises it, and
 * writes the raised number into the state file before it appends the first record of the new
 * format; a process that finds a number higher than its own refuses the ledger as
 * `newer_format` ({@link newerFormatVersion}), without writing or quarantining anything.
 */
export const LEDGER_FORMAT_VERSION = 1;

export type { Parsed };

const time = z.number().check(z.int(), z.minimum(0));
const count = z.number().check(z.int(), z.minimum(0));
const hash = z.string().check(z.regex(/^[0-9a-f]{64}$/, 'must be 64 lower-case hex digits'));
const text = z.string().check(z.maxLength(4096));

const stateFileSchema = z.strictObject({
  format: z.literal(STATE_FORMAT),
  version: z.literal(LEDGER_FORMAT_VERSION),
  writtenAt: time,
  state: ledgerStateSchema,
  journal: z.strictObject({ bytes: count, records: count, last: hash, tail: count }),
  checksum: hash,
});

const windowSchema = z.union([
  z.strictObject({ kind: z.enum(['rolling', 'calendar']), seconds: z.union([z.literal(60), z.literal(3600), z.literal(86400)]) }),
  z.strictObject({ kind: z.literal('total') }),
]);

const common = { seq: z.number().check(z.int(), z.minimum(1)), time, prev: hash, state: hash, hash, id: mapKey };

const recordSchema = z.discriminatedUnion('type', [
  z.strictObject({
    ...common,
    type: z.literal('reserve'),
    checks: z.array(z.strictObject({ key: mapKey, window: windowSchema, amount: decimal, limit: decimal })).check(z.maxLength(64)),
    record: z.strictObject({ host: text, payee: text, amount: decimal, asset: text, network: text, authorization: z.optional(spendAuthorizationSchema) }),
  }),
  z.strictObject({ ...common, type: z.literal('release') }),
  z.strictObject({ ...common, type: z.literal('settle'), status: z.enum(['settled', 'failed', 'unknown']), transaction: z.optional(text), authorization: z.optional(spendAuthorizationSchema), hold: z.optional(z.literal(true)) }),
]);

/**
 * The format version a state file declares when it is this library's file in a format newer than
 * {@link LEDGER_FORMAT_VERSION}: JSON whose `format` is {@link STATE_FORMAT} and whose `version`
 * is a higher whole number. Nothing else of a newer file is judged (its checksum and shape are
 * the newer version's to check). Undefined for anything else, which is then judged as this
 * version's own format (and found corrupt if it is not).
 *
 * @param text - the state file's content, which {@link parseStateFile} refused.
 * @returns the newer format version, or undefined.
 *
 * @example
 * ```ts
 * import { newerFormatVersion } from './ledgerFileSchema.js';
 * newerFormatVersion('{"format":"x402-autopay/file-ledger","version":2}\n'); // 2
 * ```
 */
export function newerFormatVersion(text: string): number | undefined {
  let file: unknown;
  try {
    file = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof file !== 'object' || file === null || Array.isArray(file)) return undefined;
  const { format, version } = file as { format?: unknown; version?: unknown };
  return format === STATE_FORMAT && typeof version === 'number' && Number.isSafeInteger(version) && version > LEDGER_FORMAT_VERSION ? version : undefined;
}

/** A verified state file, and the canonical text of its `state` member (what journal records hash). */
export interface ParsedStateFile {
  readonly file: StateFile;
  /** `canonicalJson(file.state)`, cut from the file's own text. */
  readonly stateText: string;
}

/**
 * Parses the text of a state file: JSON in canonical form (one line and a newline), the
 * expected shape, and a checksum that matches. The file is serialised once here (the canonical
 * check); the checksum and the state's text are then taken from the file's own text.
 *
 * @param text - the file's content.
 * @returns the state file and its state's canonical text, or why it is not acceptable.
 *
 * @example
 * ```ts
 * import { parseStateFile } from './ledgerFileSchema.js';
 * const parsed = parseStateFile(await readFile(path, 'utf8'));
 * if (!parsed.ok) throw new Error(parsed.why);
 * ```
 */
export function parseStateFile(text: string): Parsed<ParsedStateFile> {
  const body = text.endsWith('\n') ? text.slice(0, -1) : '\u0000';
  const parsed = parseCanonical(body, stateFileSchema);
  if (!parsed.ok) return parsed;
  const { checksum, ...content } = parsed.value;
  // `body` is canonical and `checksum` sorts before every other member: the content's canonical
  // text is the body without that first member.
  const first = `{"checksum":${JSON.stringify(checksum)},`;
  const contentText = body.startsWith(first) ? `{${body.slice(first.length)}` : canonicalJson(content);
  if (sha256Hex(contentText) !== checksum) return { ok: false, why: 'its checksum does not match its content' };
  const head = `${first}"format":${JSON.stringify(STATE_FORMAT)},"journal":${canonicalJson(content.journal)},"state":`;
  const tail = `,"version":${LEDGER_FORMAT_VERSION},"writtenAt":${canonicalJson(content.writtenAt)}}`;
  const stateText = body.startsWith(head) && body.endsWith(tail) ? body.slice(head.length, body.length - tail.length) : canonicalJson(content.state);
  return { ok: true, value: { file: parsed.value as StateFile, stateText } };
}

/**
 * The text of a state file (canonical JSON and a newline) for a state given by its canonical
 * text: what {@link parseStateFile} accepts, built without serialising the state again.
 *
 * @param stateText - `canonicalJson(state)`.
 * @param journal - the journal link.
 * @param writtenAt - the writer's clock, ms since the epoch.
 * @returns the file's text.
 *
 * @example
 * ```ts
 * import { stateFileText } from './ledgerFileSchema.js';
 * await writeFile(path, stateFileText(canonicalJson(state), link, Date.now()));
 * ```
 */
export function stateFileText(stateText: string, journal: JournalLink, writtenAt: number): string {
  const members: Record<string, string> = {
    format: JSON.stringify(STATE_FORMAT),
    journal: canonicalJson({ bytes: journal.bytes, last: journal.last, records: journal.records, tail: journal.tail }),
    state: stateText,
    version: String(LEDGER_FORMAT_VERSION),
    writtenAt: canonicalJson(writtenAt),
  };
  const checksum = sha256Hex(canonicalMembers(members));
  return `${canonicalMembers({ ...members, checksum: JSON.stringify(checksum) })}\n`;
}

/** A canonical JSON object from the canonical texts of its members. */
function canonicalMembers(members: Record<string, string>): string {
  return `{${Object.keys(members)
    .sort()
    .map((key) => `${JSON.stringify(key)}:${members[key]}`)
    .join(',')}}`;
}

/**
 * Parses one journal line (without its newline): JSON in canonical form, the expected shape,
 * and a hash that matches the record. Chaining is checked by the caller.
 *
 * @param line - the line's text.
 * @returns the record, or why it is not acceptable.
 *
 * @example
 * ```ts
 * import { parseJournalRecord } from './ledgerFileSchema.js';
 * const parsed = parseJournalRecord('{"hash":"…","id":"pay_1",…}');
 * if (parsed.ok) console.log(parsed.value.type, parsed.value.seq);
 * ```
 */
export function parseJournalRecord(line: string): Parsed<JournalRecord> {
  const parsed = parseCanonical(line, recordSchema);
  if (!parsed.ok) return parsed;
  const { hash: claimed, ...content } = parsed.value;
  // `line` is canonical and only the record itself has a "hash" member (always followed by
  // another one): the content's canonical text is the line without it.
  const member = `"hash":${JSON.stringify(claimed)},`;
  const at = line.indexOf(member);
  const contentText = at > 0 ? line.slice(0, at) + line.slice(at + member.length) : canonicalJson(content);
  if (sha256Hex(contentText) !== claimed) return { ok: false, why: 'its hash does not match its content' };
  return { ok: true, value: parsed.value as JournalRecord };
}

/**
 * The checksum of a state file's content (every member but `checksum`).
 *
 * @example
 * ```ts
 * import { stateChecksum } from './ledgerFileSchema.js';
 * const checksum = stateChecksum({ format, version: 1, writtenAt, state, journal });
 * ```
 */
export function stateChecksum(content: Omit<StateFile, 'checksum'>): string {
  return sha256Hex(canonicalJson(content));
}

/**
 * The hash of a journal record's content (every member but `hash`); it covers `prev`, which
 * chains the records.
 *
 * @example
 * ```ts
 * import { recordHash } from './ledgerFileSchema.js';
 * const record = { ...content, hash: recordHash(content) };
 * ```
 */
export function recordHash(content: Omit<JournalRecord, 'hash'>): string {
  return sha256Hex(canonicalJson(content));
}

/** The hash the first journal record chains to. */
export const GENESIS_HASH = '0'.repeat(64);

function parseCanonical<T>(text: string, schema: z.ZodMiniType<T>): Parsed<T> {
  const parsed = parseStoredJson(text, schema);
  if (!parsed.ok) return parsed;
  // The text must be exactly the canonical serialisation of the value returned (so hashes over it are hashes of that value).
  if (canonicalJson(parsed.value) !== text) return { ok: false, why: 'it is not in the canonical form this library writes' };
  return parsed;
}

/**
 * The hash of a ledger state (SHA-256 hex of its canonical JSON), as journal records carry it.
 *
 * @example
 * ```ts
 * import { ledgerStateHash } from './ledgerFileSchema.js';
 * if (lastRecord.state !== ledgerStateHash(stateFile.state)) throw new Error('state and journal disagree');
 * ```
 */
export function ledgerStateHash(state: LedgerState): string {
  return sha256Hex(ledgerStateJson(state));
}

/**
 * `canonicalJson(state)` for a ledger state, faster: the counters (most of a state) are written
 * without the general recursion. Anything not of the shape this library builds (a bucket value
 * that is not a string, a counter that is not a plain object, another member) goes through
 * `canonicalJson`, so the text is always exactly `canonicalJson(state)`.
 *
 * @param state - the ledger state.
 * @returns its canonical JSON text.
 * @throws TypeError for a value JSON cannot hold exactly (as `canonicalJson`).
 *
 * @example
 * ```ts
 * import { ledgerStateJson } from './ledgerFileSchema.js';
 * ledgerStateJson(emptyLedgerState()); // '{"counters":{},"pending":{},"version":1}'
 * ```
 */
export function ledgerStateJson(state: LedgerState): string {
  const general = () => canonicalJson(state);
  const members = Object.keys(state);
  if (members.length !== 3 || !plainObject(state) || !plainObject(state.counters) || !plainObject(state.pending) || state.version !== 1) return general();
  const counters: string[] = [];
  for (const key of Object.keys(state.counters).sort()) {
    const buckets = state.counters[key];
    if (buckets === undefined) continue;
    if (!plainObject(buckets)) return general();
    let entries = '';
    for (const index of Object.keys(buckets).sort()) {
      const value = buckets[index];
      if (typeof value !== 'string') return general();
      // Bucket indices and amounts are integers: nothing to escape (anything else is escaped).
      const member = DIGITS.test(index) && DIGITS.test(value) ? `"${index}":"${value}"` : `${JSON.stringify(index)}:${JSON.stringify(value)}`;
      entries = entries === '' ? member : `${entries},${member}`;
    }
    counters.push(`${JSON.stringify(key)}:{${entries}}`);
  }
  return `{"counters":{${counters.join(',')}},"pending":${canonicalJson(state.pending)},"version":1}`;
}

/** Strings JSON writes as they are, between quotes. */
const DIGITS = /^-?[0-9]+$/;

function plainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const prototype = Object.getPrototypeOf(value);
  return prototype === Object.prototype || prototype === null;
}
