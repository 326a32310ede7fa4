import { describe, expect, it } from 'vitest';
import { formatUnits, formatUsd, parseAtomic, parseDecimal, toUsd, UINT256_MAX, USD_DECIMALS } from '../../src/internal/amount.js';

describe('parseAtomic', () => {
  it('accepts canonical decimal integers up to uint256', () => {
    expect(parseAtomic('0')).toBe(0n);
    expect(parseAtomic('1')).toBe(1n);
    expect(parseAtomic('10000')).toBe(10000n);
    expect(parseAtomic('123456789012345678901234567890')).toBe(123456789012345678901234567890n);
    expect(parseAtomic(UINT256_MAX.toString())).toBe(UINT256_MAX);
    expect(UINT256_MAX).toBe(2n ** 256n - 1n);
  });

  const refused: [string, string][] = [
    ['empty', ''],
    ['spaces', ' 7 '],
    ['leading space', ' 7'],
    ['leading zero', '07'],
    ['double zero', '00'],
    ['negative', '-5'],
    ['plus sign', '+5'],
    ['hex', '0x10'],
    ['octal prefix', '0o10'],
    ['binary prefix', '0b10'],
    ['exponent', '1e6'],
    ['fraction', '1.5'],
    ['trailing dot', '1.'],
    ['underscore', '1_000'],
    ['comma', '1,000'],
    ['Arabic-Indic digits', '١٢٣'],
    ['full-width digits', '１２３'],
    ['2^256', (2n ** 256n).toString()],
    ['79 digits', '1'.repeat(79)],
    ['Infinity', 'Infinity'],
    ['newline', '7\n'],
  ];
  for (const [label, text] of refused) {
    it(`refuses ${label}`, () => {
      expect(parseAtomic(text)).toBeUndefined();
    });
  }
});

describe('parseDecimal', () => {
  it('parses human decimals into atomic units', () => {
    expect(parseDecimal('0.05', 6)).toBe(50000n);
    expect(parseDecimal('0.10', 6)).toBe(100000n);
    expect(parseDecimal('1', 6)).toBe(1000000n);
    expect(parseDecimal('0', 6)).toBe(0n);
    expect(parseDecimal('2.5', 18)).toBe(2500000000000000000n);
    expect(parseDecimal('0.000001', 6)).toBe(1n);
    expect(parseDecimal('123', 0)).toBe(123n);
    expect(parseDecimal('0.10', USD_DECIMALS)).toBe(10n ** 35n);
  });

  const refused: [string, string, number][] = [
    ['more fraction digits than decimals', '0.1234567', 6],
    ['a fraction at 0 decimals', '1.5', 0],
    ['no integer part', '.5', 6],
    ['no fraction digits', '5.', 6],
    ['negative', '-1', 6],
    ['plus', '+1', 6],
    ['exponent', '1e-3', 6],
    ['spaces', ' 1', 6],
    ['leading zeros', '00.1', 6],
    ['comma decimal', '0,05', 6],
    ['empty', '', 6],
    ['hex', '0x1', 6],
  ];
  for (const [label, text, decimals] of refused) {
    it(`refuses ${label}`, () => {
      expect(parseDecimal(text, decimals)).toBeUndefined();
    });
  }
});

describe('formatUnits / toUsd / formatUsd', () => {
  it('formats without trailing zeros', () => {
    expect(formatUnits(10000n, 6)).toBe('0.01');
    expect(formatUnits(0n, 6)).toBe('0');
    expect(formatUnits(1000000n, 6)).toBe('1');
    expect(formatUnits(1234567n, 6)).toBe('1.234567');
    expect(formatUnits(1n, 18)).toBe('0.000000000000000001');
    expect(formatUnits(123n, 0)).toBe('123');
    expect(formatUnits(-1500000n, 6)).toBe('-1.5');
    expect(formatUnits(UINT256_MAX, 0)).toBe(UINT256_MAX.toString());
  });

  it('round-trips with parseDecimal', () => {
    for (const [text, decimals] of [['0.05', 6], ['2.5', 18], ['1', 0], ['0.000000000000000001', 18]] as const) {
      expect(formatUnits(parseDecimal(text, decimals)!, decimals)).toBe(text);
    }
  });

  it('toUsd scales any decimals to 36-decimal fixed point, never through floats', () => {
    expect(toUsd(10000n, 6)).toBe(10000n * 10n ** 30n);
    expect(toUsd(10n ** 16n, 18)).toBe(10n ** 34n);
    expect(toUsd(10000n, 6)).toBe(toUsd(10n ** 16n, 18));
    expect(toUsd(100001n, 6) > toUsd(100000n, 6)).toBe(true);
  });

  it('formatUsd', () => {
    expect(formatUsd(toUsd(100001n, 6))).toBe('0.100001 USD');
    expect(formatUsd(toUsd(5000000n, 6))).toBe('5 USD');
    expect(formatUsd(toUsd(1n, 18))).toBe('0.000000000000000001 USD');
  });
});
