/**
 * The prepay memory on its own (`createPrepayTerms`, `resolvePrepay`): what is remembered and for
 * how long, the bound on places, and the option's validation. The paying behaviour through
 * wrapFetch is in `prepay.test.ts`.
 */
import { describe, expect, it } from 'vitest';
import { createPrepayTerms, resolvePrepay } from '../../src/prepayTerms.js';
import type { Challenge } from '../../src/protocol/challenge.js';
import type { Quote } from '../../src/select.js';

const optionA = { index: 0, asset: '0xA' };
const optionB = { index: 1, asset: '0xB' };
const challenge = { version: 2, options: [optionA, optionB], resource: 'r' } as unknown as Challenge;
const quoteB = { option: optionB } as unknown as Quote;

function memory(settings = { ttlMs: 1_000, maxEntries: 3 }) {
  const clock = { now: 1_000_000 };
  return { terms: createPrepayTerms(settings, () => clock.now), clock };
}

describe('createPrepayTerms', () => {
  it('remembers only the option that was paid, frozen, for the place (method, origin, path)', () => {
    const { terms } = memory();
    terms.remember('get', 'https://api.example.com/a?x=1', challenge, quoteB);
    const recalled = terms.recall('GET', 'https://API.example.com/a?y=2')!;
    expect(recalled.options).toEqual([optionB]);
    expect(recalled).toMatchObject({ version: 2, resource: 'r' });
    expect(Object.isFrozen(recalled)).toBe(true);
    expect(Object.isFrozen(recalled.options)).toBe(true);
    expect(challenge.options).toHaveLength(2); // the caller's challenge is not changed
    expect(terms.recall('POST', 'https://api.example.com/a')).toBeUndefined();
    expect(terms.recall('GET', 'https://api.example.com/b')).toBeUndefined();
    expect(terms.recall('GET', 'https://other.example.com/a')).toBeUndefined();
    expect(terms.recall('GET', 'http://api.example.com/a')).toBeUndefined();
  });

  it('forgets a place exactly at its time to live, and on forget()', () => {
    const { terms, clock } = memory();
    terms.remember('GET', 'https://api.example.com/a', challenge, quoteB);
    clock.now += 999;
    expect(terms.recall('GET', 'https://api.example.com/a')).toBeDefined();
    clock.now += 1;
    expect(terms.recall('GET', 'https://api.example.com/a')).toBeUndefined();
    // Gone for good, even if the clock steps back.
    clock.now -= 500;
    expect(terms.recall('GET', 'https://api.example.com/a')).toBeUndefined();
    terms.remember('GET', 'https://api.example.com/a', challenge, quoteB);
    terms.forget('get', 'https://api.example.com/a?z');
    expect(terms.recall('GET', 'https://api.example.com/a')).toBeUndefined();
  });

  it('holds at most maxEntries places, forgetting the one remembered longest ago (remembering again renews)', () => {
    const { terms } = memory({ ttlMs: 60_000, maxEntries: 3 });
    const place = (n: number) => `https://api.example.com/${n}`;
    for (const n of [1, 2, 3]) terms.remember('GET', place(n), challenge, quoteB);
    expect([1, 2, 3].map((n) => terms.recall('GET', place(n)) !== undefined)).toEqual([true, true, true]);
    terms.remember('GET', place(1), challenge, quoteB); // 1 is now the newest
    terms.remember('GET', place(4), challenge, quoteB); // 2 goes
    expect([1, 2, 3, 4].map((n) => terms.recall('GET', place(n)) !== undefined)).toEqual([true, false, true, true]);
    const one = memory({ ttlMs: 60_000, maxEntries: 1 }).terms;
    one.remember('GET', place(1), challenge, quoteB);
    expect(one.recall('GET', place(1))).toBeDefined();
    one.remember('GET', place(2), challenge, quoteB);
    expect([one.recall('GET', place(1)), one.recall('GET', place(2)) !== undefined]).toEqual([undefined, true]);
  });
});

describe('resolvePrepay', () => {
  it('off when absent or false; defaults for true and for an empty object; frozen', () => {
    expect(resolvePrepay(undefined)).toBe(false);
    expect(resolvePrepay(false)).toBe(false);
    expect(resolvePrepay(true)).toEqual({ ttlMs: 60_000, maxEntries: 256 });
    const resolved = resolvePrepay({});
    expect(resolved).toEqual({ ttlMs: 60_000, maxEntries: 256 });
    expect(Object.isFrozen(resolved)).toBe(true);
    expect(resolvePrepay({ ttlMs: 1, maxEntries: 1 })).toEqual({ ttlMs: 1, maxEntries: 1 });
    expect(resolvePrepay({ ttlMs: 600_000, maxEntries: 100_000 })).toEqual({ ttlMs: 600_000, maxEntries: 100_000 });
  });

  it.each([null, 'yes', 1, [], [{ ttlMs: 1 }]])('refuses %j: not true, false or an object', (value) => {
    expect(() => resolvePrepay(value)).toThrow(new TypeError('wrapFetch: options.prepay must be true, false or { ttlMs?, maxEntries? }.'));
  });

  it.each([0, -1, 1.5, 600_001, Number.NaN, '60000'])('refuses ttlMs %j', (ttlMs) => {
    expect(() => resolvePrepay({ ttlMs })).toThrow(new TypeError('wrapFetch: options.prepay.ttlMs must be an integer from 1 to 600000.'));
  });

  it.each([0, -1, 2.5, 100_001, Number.POSITIVE_INFINITY, '256'])('refuses maxEntries %j', (maxEntries) => {
    expect(() => resolvePrepay({ maxEntries })).toThrow(new TypeError('wrapFetch: options.prepay.maxEntries must be an integer from 1 to 100000.'));
  });

  it('refuses an unknown member, naming it', () => {
    expect(() => resolvePrepay({ ttlMs: 1_000, ttl: 5 })).toThrow(new TypeError('wrapFetch: options.prepay.ttl is not a prepay option.'));
  });
});
