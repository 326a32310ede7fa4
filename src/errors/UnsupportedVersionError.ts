import { X402Error } from './X402Error.js';

/**
 * The 402 speaks an x402 version this client does not (or was told not to) speak.
 * Nothing was signed.
 *
 * @example
 * ```ts
 * import { UnsupportedVersionError } from 'x402-autopay';
 * if (error instanceof UnsupportedVersionError) console.log(error.version);
 * ```
 */
export class UnsupportedVersionError extends X402Error {
  /** The version the server asked for. */
  readonly version: number;

  constructor(args: { version: number; url: string; supported: readonly number[] }) {
    super(`The 402 from ${args.url} uses x402 version ${args.version}, which this client does not speak.`, {
      code: 'unsupported_version',
      moneyMoved: 'no',
      details: { url: args.url, version: args.version, supported: args.supported.join(', ') },
      hint: 'Enable that version in options.versions if it is 1 or 2; otherwise the server needs a newer client.',
    });
    this.version = args.version;
  }
}
