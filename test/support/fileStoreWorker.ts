/**
 * One process of a file-ledger contention test: `calls` concurrent reservations of 1 unit each
 * against a total limit, through fileStore(path); optionally settles each accepted one. Prints
 * one JSON line `{ ok, refused, errors }`.
 *   node --import tsx test/support/fileStoreWorker.ts '<json { path, calls, limit, settle }>'
 */
import { fileStore } from '../../src/node/fileStore.js';

const spec = JSON.parse(process.argv[2] ?? '{}') as { path: string; calls: number; limit: number; settle?: boolean };
const store = fileStore(spec.path);
const outcome = { ok: 0, refused: 0, errors: [] as string[] };
await Promise.all(
  Array.from({ length: spec.calls }, async (_, i) => {
    const id = `pay_${process.pid}_${i}`;
    try {
      const result = await store.reserve({
        id,
        checks: [{ key: 'global|count|total', window: { kind: 'total' }, amount: 1n, limit: BigInt(spec.limit) }],
        record: { host: 'h', payee: 'p', amount: '1', asset: 'a', network: 'n' },
      });
      if (!result.ok) return void outcome.refused++;
      outcome.ok++;
      if (spec.settle) await store.settle(id, 'settled', `0x${i.toString(16).padStart(64, '0')}`);
    } catch (error) {
      outcome.errors.push(String(error));
    }
  }),
);
process.stdout.write(`${JSON.stringify(outcome)}\n`);
