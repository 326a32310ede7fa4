import { PriceChangedError } from '../errors/PriceChangedError.js';
import { formatUnits, formatUsd } from './amount.js';
import { placeKey } from './placeKey.js';
import type { PolicyRefusal, Quote } from '../select.js';

/** Settings of `options.pinPrices`. */
export interface PricePinSettings {
  /** The most a place's price may grow from one payment to the next, as a factor (≥ 1). */
  readonly maxRatio: number;
}

/** The price each place was paid last, per wrapped fetch (THREATS B3). */
export interface PricePins {
  /** During selection: a refusal when the quote asks more than `maxRatio` times the place's last price. */
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

const MAX_PLACES = 10_000;
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
 * Price pins: each place (method + origin + path) remembers the price it was paid last; a later
 * quote for that place asking more than `maxRatio` times that, in the same unit, is refused with
 * {@link PriceChangedError}, so a server that usually charges 0.001 USD cannot switch to 0.05
 * under the per-request cap. A price in another unit (another token) is not compared: the
 * budget's per-asset limits bound it. Check and pin happen in one synchronous step right before
 * signing. `false` pins nothing.
 *
 * @example
 * ```ts
 * import { createPricePins } from './pricePins.js';
 * const prices = createPricePins({ maxRatio: 2 });
 * const undo = prices.claim(quote, 'GET'); // throws PriceChangedError when over twice the last price
 * ```
 */
export function createPricePins(settings: PricePinSettings | false): PricePins {
  const pins = new Map<string, Price>();
  const factor = settings ? BigInt(Math.round(settings.maxRatio * Number(RATIO_SCALE))) : 0n;
  const conflict = (quote: Quote, method: string): PriceChangedError | undefined => {
    if (!settings) return undefined;
    const place = placeKey(method, quote.url);
    const pinned = pins.get(place);
    const offered = priceOf(quote);
    if (!pinned || pinned.unit !== offered.unit || offered.amount * RATIO_SCALE <= pinned.amount * factor) return undefined;
    return new PriceChangedError({ url: quote.url, place, pinned: pinned.text, offered: offered.text, maxRatio: settings.maxRatio });
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
      const previous = pins.get(place);
      const mine = priceOf(quote);
      // Most recently paid last, so the place paid longest ago is forgotten first.
      pins.delete(place);
      pins.set(place, mine);
      if (pins.size > MAX_PLACES) pins.delete(pins.keys().next().value as string);
      return () => {
        if (pins.get(place) !== mine) return;
        if (previous) pins.set(place, previous);
        else pins.delete(place);
      };
    },
  };
}
