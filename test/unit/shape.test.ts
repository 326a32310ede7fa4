import { describe, expect, it } from 'vitest';
import { array, boolean, integer, literal, looseObject, nullable, optional, record, string } from '../../src/protocol/shape.js';
import { paymentRequirementsV2, settleResponse } from '../../src/protocol/schemas.js';
import { toChallengeIssues } from '../../src/protocol/issues.js';
import { requirementV2 } from '../support/challenges.js';

const issuesOf = (result: ReturnType<typeof paymentRequirementsV2.safeParse>) => (result.success ? [] : toChallengeIssues(result.error.issues));

describe('shape: the small schema checker of the wire formats', () => {
  it('returns the value itself on success, unknown keys kept', () => {
    const value = { ...requirementV2(), outputSchema: { a: 1 } };
    const result = paymentRequirementsV2.safeParse(value);
    expect(result.success && result.data).toBe(value);
  });

  it('lists every problem with its path and a readable message', () => {
    const issues = issuesOf(paymentRequirementsV2.safeParse(requirementV2({ amount: '1.5', maxTimeoutSeconds: 0, payTo: undefined, network: 'x' })));
    expect(issues).toEqual([
      { path: 'network', message: 'too small (minimum 3 characters)' },
      { path: 'network', message: 'invalid format (must include ":")' },
      { path: 'amount', message: 'must be a decimal integer string of atomic units' },
      { path: 'payTo', message: 'expected string, got undefined' },
      { path: 'maxTimeoutSeconds', message: 'too small (minimum 1)' },
    ]);
  });

  it('refuses what is not an object at the root', () => {
    for (const value of [null, [], 'x', 1]) {
      const result = paymentRequirementsV2.safeParse(value);
      expect(result.success).toBe(false);
      expect(issuesOf(result)).toHaveLength(1);
      expect(issuesOf(result)[0]!.path).toBe('');
    }
  });

  it('each building block', () => {
    const ok = (s: { safeParse(v: unknown): { success: boolean } }, v: unknown) => s.safeParse(v).success;
    expect(ok(string({ max: 3 }), 'abc')).toBe(true);
    expect(ok(string({ max: 3 }), 'abcd')).toBe(false);
    expect(ok(integer(1, 10), 10)).toBe(true);
    expect(ok(integer(1, 10), 1.5)).toBe(false);
    expect(ok(integer(1, 10), Number.NaN)).toBe(false);
    expect(ok(integer(1, 10), '5')).toBe(false);
    expect(ok(literal(2), 2)).toBe(true);
    expect(ok(literal(2), '2')).toBe(false);
    expect(ok(boolean, false)).toBe(true);
    expect(ok(boolean, 'false')).toBe(false);
    expect(ok(record, {})).toBe(true);
    expect(ok(record, [])).toBe(false);
    expect(ok(record, null)).toBe(false);
    expect(ok(array(1, 2), [1])).toBe(true);
    expect(ok(array(1, 2), [])).toBe(false);
    expect(ok(array(1, 2), [1, 2, 3])).toBe(false);
    expect(ok(optional(record), undefined)).toBe(true);
    expect(ok(optional(record), null)).toBe(false);
    expect(ok(nullable(record), null)).toBe(true);
    expect(ok(nullable(record), undefined)).toBe(false);
    expect(ok(looseObject({ a: optional(boolean) }), { b: 1 })).toBe(true);
    expect(ok(looseObject({ a: optional(boolean) }), { a: 1 })).toBe(false);
  });

  it('a settlement response with the wrong types is refused', () => {
    expect(settleResponse.safeParse({ success: 'true' }).success).toBe(false);
    expect(settleResponse.safeParse({ success: true, amount: '01' }).success).toBe(false);
    expect(settleResponse.safeParse({ success: true, transaction: '0x1', extra: [1] }).success).toBe(true);
  });
});
