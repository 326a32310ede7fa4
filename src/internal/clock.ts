/** A source of wall-clock time in milliseconds since the Unix epoch. */
export type Clock = () => number;

/** The system clock. */
export const systemClock: Clock = () => Date.now();

/** Whole Unix seconds from a clock. */
export function unixSeconds(clock: Clock): bigint {
  return BigInt(Math.floor(clock() / 1000));
}
