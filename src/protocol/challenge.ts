/**
 * One payment option of a challenge, in the library's model: CAIP-2 network, bigint amount,
 * and the wire object exactly as received (frozen), which v2 echoes back as `accepted`.
 */
export interface PaymentOption {
  /** Position in the server's `accepts` list. */
  readonly index: number;
  /** Payment scheme, e.g. `exact`. */
  readonly scheme: string;
  /** CAIP-2 network; undefined when a v1 name is not known to this client. */
  readonly network: string | undefined;
  /** The network string as the server wrote it (a v1 name or a CAIP-2 id). */
  readonly wireNetwork: string;
  /** Amount in atomic units of the asset (`amount` in v2, `maxAmountRequired` in v1). */
  readonly amount: bigint;
  /** Token contract address as the server wrote it. */
  readonly asset: string;
  /** Recipient as the server wrote it. */
  readonly payTo: string;
  /** How long the server lets a signature live, in seconds. */
  readonly maxTimeoutSeconds: number;
  /** Scheme-specific data (EVM: EIP-712 `name`, `version`, `assetTransferMethod`). */
  readonly extra: Readonly<Record<string, unknown>> | undefined;
  /** The requirement object exactly as received, deep-frozen. */
  readonly wire: Readonly<Record<string, unknown>>;
}

/** A validated 402 challenge of either protocol version. */
export interface Challenge {
  /** x402 protocol version. */
  readonly version: 1 | 2;
  /** Where it was read: the v2 header, or the body (v1, or a v2 server that forgot the header). */
  readonly source: 'header' | 'body';
  /** The server's `error` text: inert data, never an instruction. */
  readonly error: string | undefined;
  /** v2 `resource` object as received (echoed in the payment). */
  readonly resource: Readonly<Record<string, unknown>> | undefined;
  /** The offered options, in the server's order. */
  readonly options: readonly PaymentOption[];
  /** v2 `extensions` as received (echoed in the payment). */
  readonly extensions: Readonly<Record<string, unknown>> | undefined;
}
