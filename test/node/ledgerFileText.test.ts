/**
 * The file store serialises its state once per change and takes hashes from that text (and, when
 * reading, from the file's own text): these shortcuts must give exactly what `canonicalJson` and
 * the checksum/hash definitions give, for any state, including keys and values the library never
 * writes itself.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { LedgerState } from '../../src/budget/ledgerState.js';
import { canonicalJson } from '../../src/node/canonicalJson.js';
import { createJournalRecord } from '../../src/node/createJournalRecord.js';
import {
  GENESIS_HASH,
  ledgerStateHash,
  ledgerStateJson,
  parseJournalRecord,
  parseStateFile,
  recordHash,
  stateChecksum,
  stateFileText,
  STATE_FORMAT,
  type JournalLink,
} from '../../src/node/ledgerFileSchema.js';
import { sha256Hex } from '../../src/node/sha256Hex.js';

const anyKey = fc.oneof(fc.string({ minLength: 1, maxLength: 12 }), fc.string({ unit: 'binary', minLength: 1, maxLength: 6 }), fc.integer({ min: -5, max: 2 ** 40 }).map(String));
const storedKey = fc.string({ minLength: 1, maxLength: 12 }).filter((k) => k !== '__proto__');
const bucketIndex = fc.oneof(fc.integer({ min: -1000, max: 2 ** 40 }).map(String), fc.constantFrom('-0', '007'));
const amount = fc.oneof(fc.bigInt({ min: 0n, max: 10n ** 30n }).map(String), fc.string({ maxLength: 6 }));
const storedAmount = fc.bigInt({ min: 0n, max: 10n ** 30n }).map(String);

function states(key: fc.Arbitrary<string>, index: fc.Arbitrary<string>, value: fc.Arbitrary<string>): fc.Arbitrary<LedgerState> {
  const pending = fc.dictionary(
    key,
    fc.record({
      time: fc.integer({ min: 0, max: 2 ** 45 }),
      adds: fc.array(fc.record({ key, bucket: fc.integer({ min: 0, max: 2 ** 40 }), amount: storedAmount }), { maxLength: 3 }),
    }),
    { maxKeys: 3 },
  );
  return fc.record({ version: fc.constant(1 as const), counters: fc.dictionary(key, fc.dictionary(index, value, { maxKeys: 20 }), { maxKeys: 5 }), pending });
}

const links = fc.record({
  bytes: fc.integer({ min: 1, max: 2 ** 40 }),
  records: fc.integer({ min: 1, max: 2 ** 30 }),
  last: fc.stringMatching(/^[0-9a-f]{64}$/),
  tail: fc.integer({ min: 1, max: 1000 }),
});

describe('the file ledger text shortcuts', () => {
  it('ledgerStateJson is canonicalJson, whatever the keys and values', () => {
    fc.assert(
      fc.property(states(anyKey, fc.oneof(bucketIndex, anyKey), amount), (state) => {
        expect(ledgerStateJson(state)).toBe(canonicalJson(state));
        expect(ledgerStateHash(state)).toBe(sha256Hex(canonicalJson(state)));
      }),
      { numRuns: 300 },
    );
    // Shapes outside a ledger state go through canonicalJson too (same text, same errors).
    const odd = { version: 1, counters: { a: { 1: 2 } }, pending: {} } as unknown as LedgerState;
    expect(() => ledgerStateJson(odd)).not.toThrow();
    expect(ledgerStateJson(odd)).toBe(canonicalJson(odd));
    const extra = { version: 1, counters: {}, pending: {}, more: 'x' } as unknown as LedgerState;
    expect(ledgerStateJson(extra)).toBe(canonicalJson(extra));
    const float = { version: 1, counters: { a: { 1: 0.5 } }, pending: {} } as unknown as LedgerState;
    expect(() => ledgerStateJson(float)).toThrow(TypeError);
  });

  it('stateFileText is the canonical file with the defined checksum, and parseStateFile reads it back, cutting the state text from it', () => {
    fc.assert(
      fc.property(states(storedKey, bucketIndex.filter((i) => /^-?(0|[1-9][0-9]{0,15})$/.test(i)), storedAmount), links, fc.integer({ min: 0, max: 2 ** 45 }), (state, link: JournalLink, writtenAt) => {
        const text = stateFileText(ledgerStateJson(state), link, writtenAt);
        const content = { format: STATE_FORMAT, version: 1 as const, writtenAt, state, journal: link };
        expect(text).toBe(`${canonicalJson({ ...content, checksum: stateChecksum(content) })}\n`);
        const parsed = parseStateFile(text);
        if (!parsed.ok) throw new Error(parsed.why);
        expect(parsed.value.stateText).toBe(canonicalJson(state));
        expect(canonicalJson(parsed.value.file)).toBe(text.slice(0, -1));
      }),
      { numRuns: 200 },
    );
  });

  it('parseStateFile still refuses a wrong checksum, a non-canonical text and a missing newline', () => {
    const text = stateFileText(ledgerStateJson({ version: 1, counters: { k: { 5: '7' } }, pending: {} }), { bytes: 10, records: 1, last: GENESIS_HASH, tail: 10 }, 1);
    expect(parseStateFile(text).ok).toBe(true);
    expect(parseStateFile(text.replace('"7"', '"8"'))).toEqual({ ok: false, why: 'its checksum does not match its content' });
    expect(parseStateFile(text.slice(0, -1)).ok).toBe(false);
    expect(parseStateFile(`${JSON.stringify(JSON.parse(text), null, 1)}\n`)).toMatchObject({ ok: false, why: expect.stringMatching(/canonical/) });
    // The checksum member moved out of first place: not canonical.
    const { checksum, ...rest } = JSON.parse(text);
    expect(parseStateFile(`${JSON.stringify({ ...rest, checksum })}\n`)).toMatchObject({ ok: false, why: expect.stringMatching(/canonical/) });
  });

  it('parseJournalRecord checks the hash defined over the record without it, for every kind of record', () => {
    fc.assert(
      fc.property(
        storedKey,
        fc.constantFrom('reserve', 'release', 'settle'),
        fc.integer({ min: 0, max: 2 ** 45 }),
        fc.stringMatching(/^[0-9a-f]{64}$/),
        (id, type, time, stateHash) => {
          const event =
            type === 'reserve'
              ? { type, id, checks: [{ key: id, window: { kind: 'total' as const }, amount: '1', limit: '2' }], record: { host: id, payee: 'p', amount: '1', asset: 'a', network: 'n' } }
              : type === 'release'
                ? { type, id }
                : { type, id, status: 'settled' as const, transaction: id };
          const { record, line } = createJournalRecord(event, { bytes: 0, records: 0, last: GENESIS_HASH, tail: 0 }, time, stateHash);
          const { hash, ...content } = record;
          expect(hash).toBe(recordHash(content));
          const parsed = parseJournalRecord(line.slice(0, -1));
          expect(parsed.ok).toBe(true);
          // Any other hash is refused.
          const forged = line.slice(0, -1).replace(`"hash":"${hash}"`, `"hash":"${sha256Hex(hash)}"`);
          expect(parseJournalRecord(forged)).toEqual({ ok: false, why: 'its hash does not match its content' });
        },
      ),
      { numRuns: 200 },
    );
  });
});
