import { X402Error } from './X402Error.js';

/**
 * A streamed request body was larger than the bound it may be buffered to (so that it can be
 * sent again with the payment). Nothing was sent.
 *
 * @example
 * ```ts
 * import { wrapFetch } from 'x402-autopay';
 * const paidFetch = wrapFetch(fetch, account, { maxRequestBodyBytes: 50 * 1024 * 1024 });
 * ```
 */
export class RequestBodyTooLargeError extends X402Error {
  /** The bound, in bytes. */
  readonly limit: number;

  constructor(args: { url: string; limit: number }) {
    super(`The streamed request body for ${args.url} is larger than ${args.limit} bytes.`, {
      code: 'request_body_too_large',
      moneyMoved: 'no',
      details: { url: args.url, limit: args.limit },
      hint: 'Raise options.maxRequestBodyBytes, or send a Blob or ArrayBuffer body instead of a stream.',
    });
    this.limit = args.limit;
  }
}
