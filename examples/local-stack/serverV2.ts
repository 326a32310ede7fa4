import express from 'express';
import type { Address } from 'viem';
import { HTTPFacilitatorClient, x402HTTPResourceServer, x402ResourceServer, type RoutesConfig } from '@x402/core/server';
import type { PaymentOption } from '@x402/core/http';
import { ExactEvmScheme } from '@x402/evm/exact/server';
import { paymentMiddlewareFromHTTPServer } from '@x402/express';
import { LOCAL_NETWORK_V2 } from './anvil.js';
import { listenOnLoopback } from './http.js';
import {
  DESCRIPTIONS,
  PRICES,
  installPrePaymentMiddleware,
  installResourceHandlers,
  type RequestLogEntry,
} from './routes.js';
import { TOKEN_EIP712_NAME, TOKEN_EIP712_VERSION } from './token.js';

/** Options for the paid API servers ({@link startServerV2}, `startServerV1`). */
export interface StartPaidServerOptions {
  /** Base URL of the facilitator this server verifies and settles with (a local one). */
  facilitatorUrl: string;
  /** TestUSDC at the canonical address. */
  usdc: Address;
  /** The same token at its custom (undeclared) address. */
  customToken: Address;
  /** Address that receives the payments. */
  payTo: Address;
  /** Send permissive CORS headers and expose the x402 headers. Default false (like the official servers). */
  cors?: boolean;
}

/** A running paid API server. */
export interface PaidServer {
  /** Base URL without trailing slash, e.g. `http://127.0.0.1:40123`. */
  url: string;
  /** Address that receives this server's payments. */
  payTo: Address;
  /** Every request answered so far, oldest first. */
  requests: RequestLogEntry[];
  /** Stops the HTTP server. Idempotent. */
  stop(): Promise<void>;
}

/**
 * Starts an x402 v2 paid API on 127.0.0.1 (ephemeral port) with the official packages:
 * `paymentMiddlewareFromHTTPServer` of `@x402/express` over an `x402ResourceServer` that
 * talks to the given (local) facilitator through `HTTPFacilitatorClient`, with the
 * `@x402/evm` exact server scheme on `eip155:84532`.
 *
 * Prices are explicit asset amounts (`{ amount, asset, extra: { name: "USDC", version: "2" } }`)
 * so the challenge names exactly the local tokens. The facilitator's `/supported` is fetched
 * (and the route configuration validated) before this function resolves.
 *
 * Routes: see `installResourceHandlers` in `routes.ts` and {@link PRICES}.
 *
 * @param options - See {@link StartPaidServerOptions}.
 * @returns The running server.
 */
export async function startServerV2(options: StartPaidServerOptions): Promise<PaidServer> {
  const { payTo, usdc, customToken } = options;
  const requests: RequestLogEntry[] = [];

  const option = (amount: bigint, asset: Address): PaymentOption => ({
    scheme: 'exact',
    network: LOCAL_NETWORK_V2,
    payTo,
    price: {
      amount: amount.toString(),
      asset,
      extra: { name: TOKEN_EIP712_NAME, version: TOKEN_EIP712_VERSION },
    },
  });
  const json = { mimeType: 'application/json' } as const;
  const routes: RoutesConfig = {
    'GET /weather': { accepts: option(PRICES.weather, usdc), description: DESCRIPTIONS.weather, ...json },
    'POST /echo': { accepts: option(PRICES.echo, usdc), description: DESCRIPTIONS.echo, ...json },
    'GET /two-options': {
      accepts: [option(PRICES.twoOptionsUsdc, usdc), option(PRICES.twoOptionsCustom, customToken)],
      description: DESCRIPTIONS.twoOptions,
      ...json,
    },
    'GET /premium': { accepts: option(PRICES.premium, usdc), description: DESCRIPTIONS.premium, ...json },
  };

  const resourceServer = new x402ResourceServer(new HTTPFacilitatorClient({ url: options.facilitatorUrl }));
  resourceServer.register(LOCAL_NETWORK_V2, new ExactEvmScheme());
  const httpServer = new x402HTTPResourceServer(resourceServer, routes);
  // Fetch the facilitator's /supported and validate the routes now, so a broken stack fails
  // at start-up instead of on the first request.
  await httpServer.initialize();

  const app = express();
  installPrePaymentMiddleware(app, requests, options.cors ?? false);
  app.use(paymentMiddlewareFromHTTPServer(httpServer, undefined, undefined, false));
  installResourceHandlers(app, 2);

  const server = await listenOnLoopback(app);
  return { url: server.url, payTo, requests, stop: () => server.close() };
}
