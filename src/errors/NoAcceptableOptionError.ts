import { X402Error } from './X402Error.js';

/** Why one offered payment option was not taken. */
export interface OptionRefusal {
  /** Position of the option in the server's `accepts` list. */
  readonly index: number;
  /** The option's scheme, e.g. `exact`. */
  readonly scheme: string;
  /** The option's network as the server wrote it (a v1 name or a CAIP-2 id). */
  readonly network: string;
  /** The option's asset as the server wrote it. */
  readonly asset: string;
  /** Atomic units as the server wrote them (not trusted). */
  readonly amount: string;
  /** Stable snake_case reason, e.g. `unsupported_scheme`, `unknown_asset`, `domain_mismatch`. */
  readonly code: string;
  /** Human explanation. */
  readonly message: string;
}

/**
 * None of the server's payment options can be paid by this client under its options (or it
 * offers none, only a sign-in): every option is listed in {@link NoAcceptableOptionError.refusals} with the reason it was refused.
 * Nothing was signed.
 *
 * @example
 * ```ts
 * import { NoAcceptableOptionError } from 'x402-autopay';
 * if (error instanceof NoAcceptableOptionError) for (const r of error.refusals) console.log(r.index, r.code);
 * ```
 */
export class NoAcceptableOptionError extends X402Error {
  /** One entry per offered option. */
  readonly refusals: readonly OptionRefusal[];

  constructor(args: { url: string; refusals: readonly OptionRefusal[] }) {
    const summary = args.refusals
      .slice(0, 5)
      .map((r) => `#${r.index} ${r.scheme}/${r.network}: ${r.message}`)
      .join('; ');
    const none = args.refusals.length === 0;
    super(none ? `${args.url} offers nothing to pay: it only takes a sign-in (sign-in-with-x).` : `None of the ${args.refusals.length} payment option(s) offered by ${args.url} can be paid.`, {
      code: 'no_acceptable_option',
      moneyMoved: 'no',
      details: { url: args.url, refused: none ? undefined : summary + (args.refusals.length > 5 ? '; …' : '') },
      hint: none
        ? 'With signIn: true (and a wallet that signs messages) the client signs in when a server offers it; if it did, the server did not let this wallet in.'
        : args.refusals.some((r) => r.code === 'clock_behind_chain')
        ? "This machine's clock is behind the chain (clock_behind_chain): set it right (NTP), then call again."
        : args.refusals.some((r) => r.code === 'insufficient_balance')
          ? 'The payer cannot cover the price (insufficient_balance): fund the wallet with the token asked, then call again.'
          : 'Check the refusals: declare an unknown asset in options.assets, or allow its network, if you trust it.',
    });
    this.refusals = args.refusals;
  }
}
