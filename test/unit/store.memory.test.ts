import { describe, expect, it } from 'vitest';
import { memoryStore } from '../../src/index.js';
import { describeSpendStore } from '../support/storeContract.js';

describeSpendStore('memoryStore', async (clock) => ({ store: memoryStore({ clock: () => clock.now }) }));

describe('memoryStore specifics', () => {
  it('keeps at most maxRecords records, newest kept, without affecting limits', async () => {
    const store = memoryStore({ maxRecords: 3 });
    const check = { key: 'g|usd|total', window: { kind: 'total' } as const, amount: 1n, limit: 100n };
    const record = { host: 'h', payee: 'p', amount: '1', asset: 'a', network: 'n' };
    for (let i = 1; i <= 5; i++) await store.reserve({ id: `id${i}`, checks: [check], record });
    expect((await store.report()).map((r) => r.id)).toEqual(['id3', 'id4', 'id5']);
    expect(await store.usage([check])).toEqual([5n]);
  });
});
