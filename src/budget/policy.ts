import { assetKey } from '../protocol/assets.js';
import { formatUnits, formatUsd } from '../internal/amount.js';
import { BudgetExceededError } from '../errors/BudgetExceededError.js';
import type { ResolvedOptions } from '../options.js';
import type { PolicyRefusal, Quote } from '../select.js';

/**
 * The budget policy: decides whether a frozen quote may be paid. Pure (no state), so selection
 * can ask it about candidates and the ledger can ask again, atomically, when reserving.
 */
export interface Policy {
  /** Undefined when the quote may be paid; otherwise why not. */
  check(quote: Quote): PolicyRefusal | undefined;
}

/** Builds the policy from resolved options: a per-request cap in USD, or in token units for declared non-USD tokens. */
export function createPolicy(options: ResolvedOptions): Policy {
  return {
    check(quote) {
      if (quote.usd !== undefined) {
        if (quote.usd <= options.perRequestUsd) return undefined;
        return refuse(quote, 'perRequest', options.perRequestLabel, formatUsd(quote.usd));
      }
      const cap = options.assetCaps.get(assetKey(quote.network, quote.option.asset));
      const symbol = quote.asset.symbol;
      const requested = `${formatUnits(quote.amount, quote.asset.decimals)} ${symbol}`;
      if (cap === undefined) return refuse(quote, 'perRequest', `0 ${symbol} (no cap declared)`, requested);
      if (quote.amount <= cap) return undefined;
      return refuse(quote, 'perRequest', `${formatUnits(cap, quote.asset.decimals)} ${symbol}`, requested);
    },
  };
}

function refuse(quote: Quote, limit: string, allowed: string, requested: string): PolicyRefusal {
  return {
    code: 'budget_exceeded',
    message: `${requested} is over the ${limit} limit of ${allowed}`,
    error: new BudgetExceededError({ url: quote.url, limit, allowed, requested }),
  };
}
