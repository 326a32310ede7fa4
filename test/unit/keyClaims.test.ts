/**
 * Key claims in the plain-object ledger state (memory, file and browser stores): one counter per
 * keyed payment, claimed for a rolling day, and swept by every keyed reservation once no clock
 * within the grace would count it, so the state holds the claims of about a day whatever the
 * history, and never frees one early.
 */
import { describe, expect, it } from 'vitest';
import { emptyLedgerState, releaseIn, reserveIn } from '../../src/budget/ledgerState.js';
import { isKeyClaim, keyClaimCheck, sweepsKeyClaims } from '../../src/budget/keyClaimCheck.js';
import { CLOCK_JUMP_GRACE_SECONDS } from '../../src/budget/windows.js';
import type { CounterCheck, ReserveRequest } from '../../src/budget/store.js';

const HOUR = 3_600_000;
const T0 = Date.UTC(2025, 2, 10, 10, 20, 30);
const DAILY: CounterCheck = { key: 'global|USD|rolling:86400', window: { kind: 'rolling', seconds: 86400 }, amount: 1n, limit: 10n ** 12n };
const RECORD = { host: 'api.example.com', payee: '0x1111111111111111111111111111111111111111', amount: '1', asset: '0x036CbD53842c5426634e7929541eC2318f3dCF7e', network: 'eip155:84532' };

let serial = 0;
const request = (checks: CounterCheck[]): ReserveRequest => ({ id: `r${++serial}`, checks, record: RECORD });
const digest = (n: number) => n.toString(16).padStart(32, '0');
const claimsIn = (state: ReturnType<typeof emptyLedgerState>) => Object.keys(state.counters).filter(isKeyClaim).sort();

describe('key claims', () => {
  it('claim a key once: a second claim is refused at its check with the count used; another key, or the key after a release, is free', () => {
    const state = emptyLedgerState();
    const first = reserveIn(state, request([keyClaimCheck(digest(1)), DAILY]), T0);
    expect(first.ok).toBe(true);
    expect(reserveIn(state, request([keyClaimCheck(digest(1)), DAILY]), T0 + 1000)).toEqual({ ok: false, failed: 0, used: 1n });
    expect(reserveIn(state, request([keyClaimCheck(digest(2)), DAILY]), T0 + 2000).ok).toBe(true);
    releaseIn(state, `r${serial - 2}`);
    expect(reserveIn(state, request([keyClaimCheck(digest(1)), DAILY]), T0 + 3000).ok).toBe(true);
  });

  it('the counter key is a storage format: key:<digest>|count|rolling:86400, a count of 1 under a limit of 1 in a rolling day', () => {
    expect(keyClaimCheck('ab'.repeat(16))).toEqual({ key: `key:${'ab'.repeat(16)}|count|rolling:86400`, window: { kind: 'rolling', seconds: 86400 }, amount: 1n, limit: 1n });
    expect(isKeyClaim('key:00|count|rolling:86400')).toBe(true);
    for (const other of ['global|USD|rolling:86400', 'host:key.example.com|count|rolling:60', 'asset:eip155:8453/0xabc|USDC|total']) expect(isKeyClaim(other)).toBe(false);
  });

  it('keyed reservations over 30 hours keep only the claims of the last day and the grace; none younger is dropped', () => {
    const state = emptyLedgerState();
    const at = (hour: number) => T0 + hour * HOUR;
    for (let hour = 0; hour <= 30; hour++) expect(reserveIn(state, request([keyClaimCheck(digest(hour)), DAILY]), at(hour)).ok).toBe(true);
    const kept = claimsIn(state).map((key) => parseInt(key.slice(4, 36), 16));
    // Kept: every claim a clock stepping back by the grace would still count (24 h, one 5-minute bucket, and 2 h).
    const horizon = (24 + CLOCK_JUMP_GRACE_SECONDS / 3600) * HOUR + 300_000;
    for (let hour = 0; hour <= 30; hour++) expect(kept.includes(hour), `claim of hour ${hour}`).toBe(at(30) - at(hour) <= horizon - 300_000);
    expect(kept.length).toBeLessThanOrEqual(28);
  });

  it('sweeps at a keyed reservation whose digest starts with 0 (one in 16), decided by the reservation alone (a replay sweeps the same)', () => {
    const state = emptyLedgerState();
    reserveIn(state, request([keyClaimCheck(digest(1)), DAILY]), T0);
    // Without a claim, or with a claim whose digest starts with another digit: nothing is swept.
    reserveIn(state, request([DAILY]), T0 + 40 * HOUR);
    reserveIn(state, request([keyClaimCheck(`f${digest(2).slice(1)}`), DAILY]), T0 + 40 * HOUR + 1000);
    expect(claimsIn(state)).toHaveLength(2);
    reserveIn(state, request([keyClaimCheck(digest(3))]), T0 + 40 * HOUR + 2000);
    expect(claimsIn(state)).toEqual([`key:${digest(3)}|count|rolling:86400`, `key:f${digest(2).slice(1)}|count|rolling:86400`]);
  });

  it('one digest in 16 sweeps: those starting with 0, and only claims', () => {
    expect(sweepsKeyClaims(keyClaimCheck(`0${'a'.repeat(31)}`).key)).toBe(true);
    for (const first of '123456789abcdef') expect(sweepsKeyClaims(keyClaimCheck(`${first}${'0'.repeat(31)}`).key)).toBe(false);
    expect(sweepsKeyClaims('global|USD|rolling:86400')).toBe(false);
    expect(sweepsKeyClaims('host:0.example|count|rolling:60')).toBe(false);
  });

  it('with random digests the state stays near a day of claims: 3,000 keyed payments over 3 days keep at most a day, the grace and a few since the last sweep', () => {
    const state = emptyLedgerState();
    let seed = 7;
    const random = () => ((seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31);
    const randomDigest = () => Array.from({ length: 32 }, () => '0123456789abcdef'[Math.floor(random() * 16)]).join('');
    const step = (3 * 24 * HOUR) / 3000;
    let most = 0;
    for (let i = 0; i < 3000; i++) {
      expect(reserveIn(state, request([keyClaimCheck(randomDigest())]), T0 + i * step).ok).toBe(true);
      most = Math.max(most, claimsIn(state).length);
    }
    // A day and 2 h 5 min of claims is about 1,087 (at 1,000 a day); sweeps come every 16 on average.
    expect(most).toBeGreaterThan(1_080);
    expect(most).toBeLessThan(1_087 + 100);
  });

  it('the sweep never frees a claim early: after a sweep at 25 h, a clock stepped back to 23 h finds the claim of 0 h and refuses it', () => {
    const state = emptyLedgerState();
    reserveIn(state, request([keyClaimCheck(digest(1))]), T0);
    reserveIn(state, request([keyClaimCheck(digest(2))]), T0 + 25 * HOUR);
    expect(claimsIn(state)).toHaveLength(2);
    expect(reserveIn(state, request([keyClaimCheck(digest(1))]), T0 + 23 * HOUR)).toEqual({ ok: false, failed: 0, used: 1n });
  });

  it('leaves the counters of the configured limits alone, however old', () => {
    const state = emptyLedgerState();
    reserveIn(state, request([DAILY]), T0);
    reserveIn(state, request([keyClaimCheck(digest(1))]), T0 + 40 * HOUR);
    expect(Object.keys(state.counters)).toContain(DAILY.key);
  });
});
