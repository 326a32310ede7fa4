import { X402Error } from './X402Error.js';

/**
 * A place (method + origin + path) that was paid before now asks more than `pinPrices.maxRatio`
 * times its reference price: what was paid there last, or the median of its prices of the last
 * 24 h when that is lower (THREATS B3, bait-and-switch; B4, a slow-burn ramp). Only with the
 * opt-in `pinPrices` option. Nothing was signed.
 *
 * @example
 * ```ts
 * import { PriceChangedError } from 'x402-autopay';
 * if (error instanceof PriceChangedError) console.log(error.place, error.pinned, '→', error.offered);
 * ```
 */
export class PriceChangedError extends X402Error {
  /** The place: method, origin and path, e.g. `GET https://api.example.com/weather`. */
  readonly place: string;
  /** The place's reference price: its last price, or its 24 h median when lower, e.g. `0.001 USD`. */
  readonly pinned: string;
  /** What it asks now, e.g. `1 USD`. */
  readonly offered: string;
  /** The most a price may exceed the place's reference price, as a factor. */
  readonly maxRatio: number;

  constructor(args: { url: string; place: string; pinned: string; offered: string; maxRatio: number }) {
    super(`${args.place} was paid ${args.pinned} (its last price, or its 24 h median when lower) and now asks ${args.offered}, more than ${args.maxRatio}× that.`, {
      code: 'price_changed',
      moneyMoved: 'no',
      details: { url: args.url, place: args.place, pinned: args.pinned, offered: args.offered, maxRatio: args.maxRatio },
      hint: 'Nothing was paid. If the new price is expected, raise options.pinPrices.maxRatio (or turn pinPrices off for this API).',
    });
    this.place = args.place;
    this.pinned = args.pinned;
    this.offered = args.offered;
    this.maxRatio = args.maxRatio;
  }
}
