/** Largest value a uint256 can hold. */
export const UINT256_MAX = (1n << 256n) - 1n;

/** Fixed-point scale used to compare USD values across assets of different decimals. */
export const USD_DECIMALS = 36;

const ATOMIC = /^(0|[1-9][0-9]{0,77})$/;
const DECIMAL = /^(0|[1-9][0-9]{0,77})(\.[0-9]{1,78})?$/;

/**
 * Parses a canonical atomic amount: decimal digits only, no sign, no leading zeros, no spaces,
 * no exponent, no hex, at most uint256. Returns undefined for anything else.
 * (`BigInt()` accepts `""`, `" 7 "`, `"0x10"` and `"-5"`; this does not.)
 */
export function parseAtomic(text: string): bigint | undefined {
  if (!ATOMIC.test(text)) return undefined;
  const value = BigInt(text);
  return value <= UINT256_MAX ? value : undefined;
}

/**
 * Parses a human decimal such as `"0.05"` into atomic units of `decimals` places.
 * Returns undefined for signs, exponents, spaces or more fraction digits than `decimals`.
 */
export function parseDecimal(text: string, decimals: number): bigint | undefined {
  if (!DECIMAL.test(text)) return undefined;
  const [whole = '0', fraction = ''] = text.split('.');
  if (fraction.length > decimals) return undefined;
  const value = BigInt(whole) * 10n ** BigInt(decimals) + BigInt(fraction.padEnd(decimals, '0') || '0');
  return value <= UINT256_MAX ? value : undefined;
}

/** Formats atomic units as a decimal string with no trailing zeros (`10000n, 6` → `"0.01"`). */
export function formatUnits(value: bigint, decimals: number): string {
  const negative = value < 0n;
  const digits = (negative ? -value : value).toString().padStart(decimals + 1, '0');
  const whole = digits.slice(0, digits.length - decimals);
  const fraction = digits.slice(digits.length - decimals).replace(/0+$/, '');
  return `${negative ? '-' : ''}${whole}${fraction ? `.${fraction}` : ''}`;
}

/** Converts atomic units of a USD-pegged asset with `decimals` places to {@link USD_DECIMALS} fixed point. */
export function toUsd(value: bigint, decimals: number): bigint {
  return value * 10n ** BigInt(USD_DECIMALS - decimals);
}

/** Formats a {@link USD_DECIMALS} fixed-point USD value for humans, e.g. `"0.01 USD"`. */
export function formatUsd(usd: bigint): string {
  return `${formatUnits(usd, USD_DECIMALS)} USD`;
}
