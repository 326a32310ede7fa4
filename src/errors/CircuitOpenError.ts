import { X402Error } from './X402Error.js';

/**
 * The circuit breaker of a host is open: its last paid requests were refused or ended without a
 * known outcome (`threshold` in a row, see `options.breaker`), so no further payment goes to it
 * until the cool-down has passed. Nothing was signed.
 *
 * @example
 * ```ts
 * import { CircuitOpenError } from 'x402-autopay';
 * if (error instanceof CircuitOpenError) console.log(error.host, new Date(error.retryAt));
 * ```
 */
export class CircuitOpenError extends X402Error {
  /** The host (`name:port`) whose payments are suspended. */
  readonly host: string;
  /** How many paid requests in a row failed. */
  readonly failures: number;
  /** When payments to the host may be tried again (ms since the epoch, by the client's clock). */
  readonly retryAt: number;

  constructor(args: { url: string; host: string; failures: number; retryAt: number }) {
    super(`Payments to ${args.host} are suspended: its last ${args.failures} paid request(s) were refused or ended unknown.`, {
      code: 'circuit_open',
      moneyMoved: 'no',
      details: { url: args.url, host: args.host, failures: args.failures, 'retry after': new Date(args.retryAt).toISOString() },
      hint: 'Nothing was paid. Check the earlier payment_rejected / settlement_unknown errors for this host before paying it again; options.breaker sets the threshold and the cool-down.',
    });
    this.host = args.host;
    this.failures = args.failures;
    this.retryAt = args.retryAt;
  }
}
