import { describe, expect, it } from 'vitest';
import { createIdempotencyKeys, KEY_KEPT_MS, MAX_KEYS } from '../../src/internal/idempotencyKeys.js';
import { keyedPaymentId, PAYMENT_ID_PATTERN } from '../../src/protocol/paymentIdentifier.js';

describe('the Idempotency-Key record', () => {
  it('claims a new key as in flight; keeps what it is told; forgets on demand', () => {
    const keys = createIdempotencyKeys<string>(() => 0);
    expect(keys.claim('a')).toBeUndefined();
    expect(keys.claim('a')).toEqual({ kind: 'in_flight' });
    keys.set('a', { kind: 'open', payment: 'p' });
    expect(keys.claim('a')).toEqual({ kind: 'open', payment: 'p' });
    keys.forget('a');
    expect(keys.claim('a')).toBeUndefined();
  });

  it('forgets a key 24 h after its last change, not before', () => {
    const clock = { now: 0 };
    const keys = createIdempotencyKeys<string>(() => clock.now);
    keys.claim('a');
    keys.set('a', { kind: 'done', payment: 'p' });
    clock.now = KEY_KEPT_MS - 1;
    expect(keys.claim('a')).toEqual({ kind: 'done', payment: 'p' });
    clock.now = KEY_KEPT_MS;
    expect(keys.claim('a')).toBeUndefined();
  });

  it('keeps at most MAX_KEYS, forgetting the least recently changed first', () => {
    const keys = createIdempotencyKeys<number>(() => 0);
    for (let i = 0; i < MAX_KEYS; i++) keys.set(`k${i}`, { kind: 'done', payment: i });
    keys.set('k0', { kind: 'done', payment: 0 }); // changed last: kept
    keys.set('new', { kind: 'open', payment: -1 });
    expect(keys.claim('k1')).toBeUndefined(); // the oldest went
    expect(keys.claim('k0')).toEqual({ kind: 'done', payment: 0 });
    expect(keys.claim('new')).toEqual({ kind: 'open', payment: -1 });
  });
});

describe('keyedPaymentId', () => {
  it('is a valid payment id, the same for the same key, different for another', () => {
    const id = keyedPaymentId('order-42');
    expect(id).toMatch(/^pay_[0-9a-f]{32}$/);
    expect(PAYMENT_ID_PATTERN.test(id)).toBe(true);
    expect(keyedPaymentId('order-42')).toBe(id);
    expect(keyedPaymentId('order-43')).not.toBe(id);
    expect(keyedPaymentId('ключ ✓'.repeat(500))).toMatch(/^pay_[0-9a-f]{32}$/);
  });
});
