/**
 * The file ledger's format version: a ledger written by a newer x402-autopay (its state file
 * declares a higher `version`) is refused as `newer_format`, by payments, `report()` and
 * `verify()` alike, and is left exactly as it was: no record, no quarantine (which would stop
 * the newer processes sharing it). Anything else that is not this version's format stays
 * `corrupt`.
 */
import { readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FileLedgerError, fileStore } from '../../src/node/index.js';
import { LEDGER_FORMAT_VERSION, newerFormatVersion } from '../../src/node/ledgerFileSchema.js';
import { useMswServer } from '../support/msw.js';
import { expectNoPayment, expectPayment, readState, reserveRequest, seed, useTempDirs, writeState } from '../support/fileLedger.js';

const server = useMswServer();
const tempDir = useTempDirs();

/** A seeded ledger whose state file is then rewritten as `change` says (checksum recomputed, as a newer writer would). */
async function ledgerWith(change: (state: any) => void, rechecksum = true): Promise<string> {
  const dir = await tempDir();
  const path = join(dir, 'ledger.json');
  await seed(fileStore(path));
  const state = await readState(path);
  change(state);
  await writeState(path, state, rechecksum);
  return path;
}

/** Every file of the ledger's directory, by name, with its bytes. */
async function filesOf(path: string): Promise<Record<string, string>> {
  const dir = join(path, '..');
  const names = (await readdir(dir)).sort();
  return Object.fromEntries(await Promise.all(names.map(async (name) => [name, (await readFile(join(dir, name))).toString('base64')] as const)));
}

async function expectNewer(promise: Promise<unknown>, version: number): Promise<FileLedgerError> {
  const error = await promise.then(
    () => expect.unreachable('the newer ledger was accepted'),
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(FileLedgerError);
  const ledgerError = error as FileLedgerError;
  expect(ledgerError.problem).toBe('newer_format');
  expect(ledgerError.message).toContain(`is in format ${version}, written by a newer x402-autopay; this version reads format 1`);
  expect(ledgerError.message).toMatch(/nothing was written to it.*upgrade x402-autopay here.*Do not move the files aside/s);
  return ledgerError;
}

describe('fileStore format version', () => {
  it('this version writes format 1 and reads it back', async () => {
    const path = join(await tempDir(), 'ledger.json');
    const store = fileStore(path);
    await seed(store);
    expect(LEDGER_FORMAT_VERSION).toBe(1);
    expect((await readState(path)).version).toBe(1);
    expect(await fileStore(path).verify()).toEqual({ records: 6, bytes: expect.any(Number) });
    await expectPayment(server, fileStore(path));
  });

  it('a ledger of a newer format is refused by a payment, report() and verify(), and left as it was (no quarantine)', async () => {
    // A newer writer: version 2, a member this version does not know, checksum of its own.
    const path = await ledgerWith((state) => {
      state.version = 2;
      state.epochs = [{ from: 0 }];
    });
    const before = await filesOf(path);
    const cause = await expectNoPayment(server, fileStore(path));
    expect(cause.problem).toBe('newer_format');
    await expectNewer(fileStore(path).report(), 2);
    await expectNewer(fileStore(path).verify(), 2);
    await expectNewer(fileStore(path).reserve(reserveRequest('pay_x')), 2);
    expect(await filesOf(path)).toEqual(before);
    expect(Object.keys(before)).not.toContain('ledger.json.quarantine');
  });

  it('a long-running store object that verified the ledger refuses it once a newer version rewrote it', async () => {
    const dir = await tempDir();
    const path = join(dir, 'ledger.json');
    const store = fileStore(path);
    await seed(store);
    await store.reserve(reserveRequest('pay_d'));
    const state = await readState(path);
    state.version = 7;
    await writeState(path, state, true);
    const before = await filesOf(path);
    expect((await expectNoPayment(server, store)).problem).toBe('newer_format');
    await expectNewer(store.release('pay_d'), 7);
    expect(await filesOf(path)).toEqual(before);
  });

  it("a newer file is not judged by this version's rules: its checksum and shape are its own", async () => {
    const path = await ledgerWith((state) => {
      state.version = 3;
      state.state = { shards: 4 };
      state.checksum = 'not a checksum';
    }, false);
    await expectNewer(fileStore(path).verify(), 3);
  });

  it.each([
    ['version 0', (s: any) => (s.version = 0), /the state file: /],
    ['version "2" (a string)', (s: any) => (s.version = '2'), /the state file: /],
    ['version 2 of another format', (s: any) => ((s.version = 2), (s.format = 'someone-else/ledger')), /the state file: /],
    ['no version', (s: any) => delete s.version, /the state file: /],
  ])('%s is corrupt, not newer', async (_name, change, expected) => {
    const path = await ledgerWith(change);
    const cause = await expectNoPayment(server, fileStore(path));
    expect(cause.problem).toBe('corrupt');
    expect(cause.message).toMatch(expected);
  });

  it('version 1.5 is corrupt, not newer', async () => {
    const path = await ledgerWith(() => undefined);
    const text = await readFile(path, 'utf8');
    expect(text).toContain('"version":1,');
    await writeFile(path, text.replace('"version":1,', '"version":1.5,'));
    const cause = await expectNoPayment(server, fileStore(path));
    expect(cause.problem).toBe('corrupt');
    expect(cause.message).toMatch(/the state file: /);
  });

  it('newerFormatVersion reads only what a newer state file must declare', () => {
    const file = (members: object) => `${JSON.stringify({ format: 'x402-autopay/file-ledger', ...members })}\n`;
    expect(newerFormatVersion(file({ version: 2 }))).toBe(2);
    expect(newerFormatVersion(file({ version: 10, anything: [1] }))).toBe(10);
    expect(newerFormatVersion(file({ version: 1 }))).toBeUndefined();
    expect(newerFormatVersion(file({ version: -2 }))).toBeUndefined();
    expect(newerFormatVersion(file({ version: 2 ** 60 }))).toBeUndefined();
    expect(newerFormatVersion(file({ version: null }))).toBeUndefined();
    expect(newerFormatVersion('[2]')).toBeUndefined();
    expect(newerFormatVersion('null')).toBeUndefined();
    expect(newerFormatVersion('{"format":"x402-autopay/file-ledger","version":2')).toBeUndefined();
  });
});
