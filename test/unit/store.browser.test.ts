/**
 * browserStore logic under Node, with a stand-in Web Locks API and fake-indexeddb: the SpendStore
 * contract, fail-closed reads, the bounded report. The real-browser behaviour (tabs, workers,
 * reloads, the built bundle) is in test/browser/browserStore.test.ts.
 */
import { IDBFactory, IDBObjectStore } from 'fake-indexeddb';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { browserStore } from '../../src/browser/index.js';
import { describeSpendStore } from '../support/storeContract.js';

/** Exclusive locks by name, granted in request order; honours `signal` while waiting. */
class FakeLocks {
  private readonly tails = new Map<string, Promise<void>>();
  requested: { name: string; mode: string | undefined }[] = [];
  request(name: string, options: { mode?: string; signal?: AbortSignal }, callback: () => unknown): Promise<unknown> {
    this.requested.push({ name, mode: options.mode });
    const previous = this.tails.get(name) ?? Promise.resolve();
    let done!: () => void;
    this.tails.set(name, new Promise<void>((resolve) => (done = resolve)));
    const granted = new Promise<void>((resolve, reject) => {
      options.signal?.addEventListener('abort', () => reject(options.signal!.reason), { once: true });
      void previous.then(resolve);
    });
    return granted.then(
      () => Promise.resolve().then(callback).finally(done),
      (reason) => {
        void previous.then(done);
        throw reason;
      },
    );
  }
}

let factory: IDBFactory;
let locks: FakeLocks;

beforeEach(() => {
  factory = new IDBFactory();
  locks = new FakeLocks();
  vi.stubGlobal('navigator', { locks });
  vi.stubGlobal('indexedDB', factory);
});
afterEach(() => {
  vi.unstubAllGlobals();
  vi.restoreAllMocks();
});

/** Opens the store's database as another script of the origin would. */
function openRaw(): Promise<IDBDatabase> {
  return new Promise((resolve, reject) => {
    const request = factory.open('x402-autopay', 1);
    request.onupgradeneeded = () => request.result.createObjectStore('ledgers');
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

/** Reads (`value` omitted) or overwrites a record of the store's object store, as another script could. */
async function raw(key: string, ...value: [unknown] | []): Promise<unknown> {
  const db = await openRaw();
  try {
    return await new Promise((resolve, reject) => {
      const tx = db.transaction('ledgers', 'readwrite');
      const request = value.length ? tx.objectStore('ledgers').put(value[0], key) : tx.objectStore('ledgers').get(key);
      let result: unknown;
      request.onsuccess = () => (result = request.result);
      tx.oncomplete = () => resolve(value.length ? undefined : result);
      tx.onerror = () => reject(tx.error);
    });
  } finally {
    db.close();
  }
}

/** Keys of the store's object store. */
async function keys(): Promise<string[]> {
  const db = await openRaw();
  try {
    return await new Promise((resolve, reject) => {
      const request = db.transaction('ledgers').objectStore('ledgers').getAllKeys();
      request.onsuccess = () => resolve(request.result.map(String));
      request.onerror = () => reject(request.error);
    });
  } finally {
    db.close();
  }
}

describeSpendStore('browserStore (stand-in locks, fake-indexeddb)', async (clock) => ({ store: browserStore({ clock: () => clock.now }) }));

const KEY = 'x402-autopay:ledger';
const check = { key: 'g|usd|total', window: { kind: 'total' } as const, amount: 1n, limit: 100n };
const record = { host: 'h', payee: 'p', amount: '1', asset: 'a', network: 'n' };

describe('browserStore specifics', () => {
  it('keeps one JSON text per prefix in IndexedDB and takes the exclusive lock of that name for every operation', async () => {
    const store = browserStore();
    await store.reserve({ id: 'one', checks: [check], record });
    await store.settle('one', 'settled', '0xab');
    await store.usage([check]);
    await store.report();
    await store.release('one');
    expect(locks.requested).toEqual(Array.from({ length: 5 }, () => ({ name: KEY, mode: 'exclusive' })));
    const stored = JSON.parse((await raw(KEY)) as string);
    expect(stored.ledger).toEqual({ version: 1, counters: { 'g|usd|total': { '0': '1' } }, pending: {} });
    expect(stored.records).toEqual([{ ...record, id: 'one', time: expect.any(Number), status: 'settled', transaction: '0xab' }]);
    expect(await keys()).toEqual([KEY]);
  });

  it('shares the budget between stores of one prefix and separates prefixes', async () => {
    const a = browserStore();
    const b = browserStore();
    const other = browserStore({ prefix: 'other:' });
    await a.reserve({ id: 'a', checks: [{ ...check, amount: 60n }], record });
    expect(await b.reserve({ id: 'b', checks: [{ ...check, amount: 60n }], record })).toEqual({ ok: false, failed: 0, used: 60n });
    expect((await other.reserve({ id: 'c', checks: [{ ...check, amount: 60n }], record })).ok).toBe(true);
    expect(await keys()).toEqual(['other:ledger', KEY]);
  });

  it('keeps at most maxRecords records, newest kept, without affecting limits', async () => {
    const store = browserStore({ maxRecords: 3 });
    for (let i = 1; i <= 5; i++) await store.reserve({ id: `id${i}`, checks: [check], record });
    expect((await store.report()).map((r) => r.id)).toEqual(['id3', 'id4', 'id5']);
    expect(await store.usage([check])).toEqual([5n]);
  });

  it('keeps 1,000 records by default', async () => {
    const records = Array.from({ length: 1_000 }, (_, i) => ({ ...record, id: `id${i + 1}`, time: 1_000 + i, status: 'settled' }));
    await raw(KEY, JSON.stringify({ ledger: { version: 1, counters: {}, pending: {} }, records }));
    const store = browserStore();
    for (let i = 1_001; i <= 1_005; i++) await store.reserve({ id: `id${i}`, checks: [], record });
    const report = await store.report();
    expect(report.at(-1)!.id).toBe('id1005');
    expect(report).toHaveLength(1_000);
    expect(report[0]!.id).toBe('id6');
  });

  const valid = { ledger: { version: 1, counters: {}, pending: {} }, records: [] };
  const corrupt: [string, unknown][] = [
    ['not JSON', '{"ledger":'],
    ['JSON null', 'null'],
    ['an object where JSON text belongs', valid],
    ['a number where JSON text belongs', 42],
    ['a missing records list', JSON.stringify({ ledger: valid.ledger })],
    ['ledger version 0', JSON.stringify({ ...valid, ledger: { ...valid.ledger, version: 0 } })],
    ['ledger version "2" (a string)', JSON.stringify({ ...valid, ledger: { ...valid.ledger, version: '2' } })],
    ['ledger version 1.5', JSON.stringify({ ...valid, ledger: { ...valid.ledger, version: 1.5 } })],
    ['a negative counter', JSON.stringify({ ...valid, ledger: { ...valid.ledger, counters: { 'g|usd|total': { '0': '-5' } } } })],
    ['a fractional counter', JSON.stringify({ ...valid, ledger: { ...valid.ledger, counters: { 'g|usd|total': { '0': '1.5' } } } })],
    ['a counter as a number', JSON.stringify({ ...valid, ledger: { ...valid.ledger, counters: { 'g|usd|total': { '0': 5 } } } })],
    ['a bucket that is not an index', JSON.stringify({ ...valid, ledger: { ...valid.ledger, counters: { 'g|usd|total': { x: '5' } } } })],
    ['a __proto__ key', `{"ledger":{"version":1,"counters":{"__proto__":{"0":"5"}},"pending":{}},"records":[]}`],
    ['an unknown field', JSON.stringify({ ...valid, ledger: { ...valid.ledger, extra: 1 } })],
    ['a record with an unknown status', JSON.stringify({ ...valid, records: [{ ...record, id: 'x', time: 1, status: 'refunded' }] })],
    ['a pending entry without adds', JSON.stringify({ ...valid, ledger: { ...valid.ledger, pending: { p: { time: 1 } } } })],
  ];
  it.each(corrupt)('fails closed on %s: every operation rejects and the stored value is left as found', async (_, value) => {
    await raw(KEY, value);
    const store = browserStore();
    await expect(store.reserve({ id: 'x', checks: [check], record })).rejects.toThrow(/is corrupt .*nothing is paid/);
    await expect(store.usage([check])).rejects.toThrow(/corrupt/);
    await expect(store.report()).rejects.toThrow(/corrupt/);
    await expect(store.release('x')).rejects.toThrow(/corrupt/);
    await expect(store.settle('x', 'settled')).rejects.toThrow(/corrupt/);
    expect(await raw(KEY)).toEqual(value);
  });

  it.each([
    ['version 2, otherwise valid', JSON.stringify({ ...valid, ledger: { ...valid.ledger, version: 2 } }), 2],
    ['version 9 in a shape this version does not know', JSON.stringify({ ledger: { version: 9, shards: [] }, journal: {} }), 9],
  ])('a ledger of a newer format (%s) is refused as written by a newer version, and left as found', async (_, value, version) => {
    await raw(KEY, value);
    const store = browserStore();
    const newer = new RegExp(`is in format ${version} \\(this page reads format 1\\), written by a newer x402-autopay .*Nothing is paid from this page and nothing was written: reload it\\. Do not delete the ledger`);
    await expect(store.reserve({ id: 'x', checks: [check], record })).rejects.toThrow(newer);
    await expect(store.usage([check])).rejects.toThrow(newer);
    await expect(store.report()).rejects.toThrow(newer);
    await expect(store.release('x')).rejects.toThrow(newer);
    await expect(store.settle('x', 'settled')).rejects.toThrow(newer);
    expect(await raw(KEY)).toEqual(value);
  });

  it('a database a newer build upgraded (a higher IndexedDB version) is refused the same way: reload, do not delete', async () => {
    await new Promise<void>((resolve, reject) => {
      const request = factory.open('x402-autopay', 7);
      request.onupgradeneeded = () => request.result.createObjectStore('ledgers');
      request.onsuccess = () => (request.result.close(), resolve());
      request.onerror = () => reject(request.error);
    });
    const store = browserStore();
    const newer = /the IndexedDB database "x402-autopay" is at a version above 1, written by a newer x402-autopay .*reload it\. Do not delete the ledger/;
    await expect(store.reserve({ id: 'x', checks: [check], record })).rejects.toThrow(newer);
    await expect(store.report()).rejects.toThrow(newer);
  });

    it('names the bad field of a schema-invalid ledger, and starts over once the record is deleted', async () => {
    await raw(KEY, JSON.stringify({ ...valid, ledger: { ...valid.ledger, counters: { 'g|usd|total': { '0': '-5' } } } }));
    const store = browserStore();
    await expect(store.usage([check])).rejects.toThrow(/ledger\.counters\.g\|usd\|total\.0/);
    await raw(KEY, undefined);
    expect(await store.usage([check])).toEqual([0n]);
  });

  it('fails closed when the database refuses a write (quota), and counts nothing', async () => {
    const store = browserStore();
    await store.reserve({ id: 'first', checks: [check], record });
    const put = vi.spyOn(IDBObjectStore.prototype, 'put').mockImplementation(() => {
      throw new DOMException('quota exceeded', 'QuotaExceededError');
    });
    await expect(store.reserve({ id: 'quota', checks: [check], record })).rejects.toThrow(/quota/);
    put.mockRestore();
    expect(await store.usage([check])).toEqual([1n]);
    expect((await store.report()).map((r) => r.id)).toEqual(['first']);
  });

  it('lets the database be deleted (advisory: it forgets the spending) and keeps working after', async () => {
    const store = browserStore();
    await store.reserve({ id: 'first', checks: [check], record });
    await new Promise<void>((resolve, reject) => {
      const request = factory.deleteDatabase('x402-autopay');
      request.onsuccess = () => resolve();
      request.onerror = () => reject(request.error);
      request.onblocked = () => reject(new Error('blocked: the store kept its connection open'));
    });
    expect(await store.usage([check])).toEqual([0n]);
    expect((await store.reserve({ id: 'again', checks: [check], record })).ok).toBe(true);
  });

  it('fails when the lock is not granted within lockTimeoutMs', async () => {
    let unblock!: () => void;
    const held = locks.request(KEY, { mode: 'exclusive' }, () => new Promise<void>((resolve) => (unblock = resolve)));
    const store = browserStore({ lockTimeoutMs: 50 });
    await expect(store.reserve({ id: 'late', checks: [check], record })).rejects.toMatchObject({ name: 'TimeoutError' });
    unblock();
    await held;
    expect(await store.usage([check])).toEqual([0n]);
  });

  it('throws a clear error at creation without navigator.locks or indexedDB', () => {
    vi.stubGlobal('navigator', {});
    expect(() => browserStore()).toThrow(/navigator\.locks \(the Web Locks API\) is not available/);
    vi.stubGlobal('navigator', undefined);
    expect(() => browserStore()).toThrow(/navigator\.locks/);
    vi.stubGlobal('navigator', { locks });
    vi.stubGlobal('indexedDB', undefined);
    expect(() => browserStore()).toThrow(/indexedDB is not available here/);
    Object.defineProperty(globalThis, 'indexedDB', {
      configurable: true,
      get() {
        throw new DOMException('denied', 'SecurityError');
      },
    });
    expect(() => browserStore()).toThrow(/indexedDB is not accessible here/);
  });

  it('throws a TypeError naming a bad option', () => {
    expect(() => browserStore({ prefix: 1 as unknown as string })).toThrow(new TypeError('browserStore: options.prefix must be a string; got number.'));
    expect(() => browserStore({ maxRecords: 0 })).toThrow(new TypeError('browserStore: options.maxRecords must be a positive integer; got 0.'));
    expect(() => browserStore({ maxRecords: 1.5 })).toThrow(/options\.maxRecords must be a positive integer; got 1\.5\./);
    expect(() => browserStore({ lockTimeoutMs: -1 })).toThrow(new TypeError('browserStore: options.lockTimeoutMs must be a positive number of ms; got -1.'));
    expect(() => browserStore({ clock: 5 as unknown as () => number })).toThrow(new TypeError('browserStore: options.clock must be a function returning ms since the epoch.'));
  });
});
