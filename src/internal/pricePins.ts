import { PriceChangedError } from '../errors/PriceChangedError.js';
import { formatUnits, formatUsd } from './amount.js';
import { placeKey } from './placeKey.js';
import type { PolicyRefusal, Quote } from '../select.js';

/** Settings of `options.pinPrices`. */
export interface PricePinSettings {
  /** The most a place's price may exceed its reference price (see {@link createPricePins}), as a factor (≥ 1). */
  readonly maxRatio: number;
}

/** The prices each place was paid in the last 24 h, per wrapped fetch (THREATS B3, B4). */
export interface PricePins {
  /** During selection: a refusal when the quote asks more than `maxRatio` times the place's reference price. */
  refusal(quote: Quote, method: string): PolicyRefusal | undefined;
  /**
   * Right before signing: pins the quote's price to its place, or throws
   * {@link PriceChangedError} if it is too high. Returns an undo for when nothing was sent.
   */
  claim(quote: Quote, method: string): () => void;
}

/** A price in one unit: USD (36-decimal fixed point) for USD-pegged assets, else the asset's atomic units. */
interface Price {
  readonly unit: string;
  readonly amount: bigint;
  readonly text: string;
}

/** A price paid, and when (ms). */
interface Paid extends Price {
  readonly time: number;
}

const MAX_PLACES = 10_000;
/** How long a paid price counts toward a place's median. */
export const PRICE_HISTORY_MS = 24 * 3_600_000;
/** Most prices kept per place (the oldest go first). */
export const PRICE_HISTORY_MAX = 64;
/** `maxRatio` is compared in millionths, exactly, with bigints. */
const RATIO_SCALE = 1_000_000n;

function priceOf(quote: Quote): Price {
  if (quote.usd !== undefined) return { unit: 'USD', amount: quote.usd, text: formatUsd(quote.usd) };
  return {
    unit: `${quote.network}/${quote.option.asset.toLowerCase()}`,
    amount: quote.amount,
    text: `${formatUnits(quote.amount, quote.asset.decimals)} ${quote.asset.symbol}`,
  };
}

/**
 * Price pins: each place (method + origin + path) remembers the prices it was paid in the last
 * 24 h (at most 64). Its reference price is the lower of the last price and the median of those
 * (the lower middle one); a later quote for that place asking more than `maxRatio` times the
 * reference, in the same unit, is refused with {@link PriceChangedError}. So a server that usually
 * charges 0.001 USD cannot switch to 0.05 under the per-request cap (B3, against the last price),
 * nor get there by small steps each under `maxRatio` (B4, a slow-burn ramp, against the median:
 * +10% a call stops after 14 payments with `maxRatio` 2). A price in another unit (another token)
 * is not compared, and starts the place's history anew: the budget's per-asset limits bound it.
 * Check and pin happen in one synchronous step right before signing. `false` pins nothing.
 *
 * @example
 * ```ts
 * import { createPricePins } from './pricePins.js';
 * const prices = createPricePins({ maxRatio: 2 }, Date.now);
 * const undo = prices.claim(quote, 'GET'); // throws PriceChangedError when over twice the reference price
 * ```
 */
export function createPricePins(settings: PricePinSettings | false, clock: () => number): PricePins {
  const pins = new Map<string, Paid[]>();
  const factor = settings ? BigInt(Math.round(settings.maxRatio * Number(RATIO_SCALE))) : 0n;
  /** The place's prices still within the last 24 h (older ones dropped). */
  const history = (place: string): Paid[] | undefined => {
    const paid = pins.get(place);
    if (!paid) return undefined;
    const since = clock() - PRICE_HISTORY_MS;
    while (paid.length > 0 && paid[0]!.time <= since) paid.shift();
    return paid.length > 0 ? paid : undefined;
  };
  const conflict = (quote: Quote, method: string): PriceChangedError | undefined => {
    if (!settings) return undefined;
    const place = placeKey(method, quote.url);
    const paid = history(place);
    const offered = priceOf(quote);
    if (!paid || paid[0]!.unit !== offered.unit) return undefined;
    const reference = referenceOf(paid);
    if (offered.amount * RATIO_SCALE <= reference.amount * factor) return undefined;
    return new PriceChangedError({ url: quote.url, place, pinned: reference.text, offered: offered.text, maxRatio: settings.maxRatio });
  };
  return {
    refusal(quote, method) {
      const error = conflict(quote, method);
      return error ? { code: 'price_changed', message: error.shortMessage, error } : undefined;
    },
    claim(quote, method) {
      if (!settings) return () => undefined;
      const error = conflict(quote, method);
      if (error) throw error;
      const place = placeKey(method, quote.url);
      const mine: Paid = { ...priceOf(quote), time: clock() };
      const kept = history(place);
      // Another unit starts the history anew; the place paid longest ago is forgotten first.
      const paid = kept && kept[0]!.unit === mine.unit ? kept : [];
      const replaced = paid === kept ? undefined : kept;
      paid.push(mine);
      if (paid.length > PRICE_HISTORY_MAX) paid.shift();
      pins.delete(place);
      pins.set(place, paid);
      if (pins.size > MAX_PLACES) pins.delete(pins.keys().next().value as string);
      return () => {
        const current = pins.get(place);
        const at = current?.indexOf(mine) ?? -1;
        if (at < 0) return;
        current!.splice(at, 1);
        if (replaced) pins.set(place, replaced);
        else if (current!.length === 0) pins.delete(place);
      };
    },
  };
}

/** The lower of the last price and the lower median of `paid` (all in one unit, oldest first). */
function referenceOf(paid: readonly Paid[]): Price {
  const last = paid[paid.length - 1]!;
  const sorted = [...paid].sort((a, b) => (a.amount < b.amount ? -1 : a.amount > b.amount ? 1 : 0));
  const median = sorted[(sorted.length - 1) >> 1]!;
  return median.amount < last.amount ? median : last;
}
