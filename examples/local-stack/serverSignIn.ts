import express from 'express';
import type { Address } from 'viem';
import { HTTPFacilitatorClient, x402HTTPResourceServer, x402ResourceServer, type RoutesConfig } from '@x402/core/server';
import { ExactEvmScheme } from '@x402/evm/exact/server';
import { paymentMiddlewareFromHTTPServer } from '@x402/express';
import { createSIWxResourceServerExtension, declareSIWxExtension, InMemorySIWxStorage, type SIWxHookEvent } from '@x402/extensions/sign-in-with-x';
import { LOCAL_NETWORK_V2 } from './anvil.js';
import { listenOnLoopback } from './http.js';

/** The price of `GET /article` on a {@link startSignInServer} server: 0.01 USDC (atomic units). */
export const ARTICLE_PRICE = 10_000n;

/** A running {@link startSignInServer} server. */
export interface SignInServer {
  /** Base URL, e.g. `http://127.0.0.1:40123`. */
  readonly url: string;
  /** What the official sign-in extension reported (`access_granted`, `validation_failed`, …). */
  readonly events: SIWxHookEvent[];
  /** How many requests arrived with a `PAYMENT-SIGNATURE` header. */
  paidRequests(): number;
  /** Stops the HTTP server. Idempotent. */
  close(): Promise<void>;
}

/**
 * Starts an official x402 v2 server on 127.0.0.1 (`@x402/express` over `@x402/core`, the
 * `@x402/evm` exact scheme, settling through the given local facilitator) with the OFFICIAL
 * sign-in-with-x extension of `@x402/extensions` (`createSIWxResourceServerExtension`,
 * in-memory storage), for the `signIn` option:
 *
 * - `GET /article`: 0.01 USDC; a wallet that paid for it once is let in by a sign-in;
 * - `GET /members`: nothing to pay (`accepts: []`); any signed-in wallet is let in.
 *
 * @param args - The stack's v2 facilitator URL, token and payee; optionally the public origin
 *   sign-ins are bound to (behind a proxy) and CORS for pages on other origins.
 * @returns The running server.
 */
export async function startSignInServer(args: {
  facilitatorUrl: string;
  usdc: Address;
  payTo: Address;
  /** The public origin sign-ins are bound to, when the server is reached through another (a proxy). Default: its own. */
  origin?: string;
  /**
   * For pages on other origins: `'payment-headers'` allows and exposes the x402 payment headers
   * only (a sign-in's preflight is refused); `'sign-in-too'` allows `SIGN-IN-WITH-X` as well.
   * Default: no CORS headers (as the official servers ship).
   */
  cors?: 'payment-headers' | 'sign-in-too';
}): Promise<SignInServer> {
  const app = express();
  // The extension binds sign-ins to the public origin, known once the port is.
  const server = await listenOnLoopback(app);
  const events: SIWxHookEvent[] = [];
  let paid = 0;
  const resourceServer = new x402ResourceServer(new HTTPFacilitatorClient({ url: args.facilitatorUrl }));
  resourceServer.register(LOCAL_NETWORK_V2, new ExactEvmScheme());
  resourceServer.registerExtension(createSIWxResourceServerExtension({ storage: new InMemorySIWxStorage(), origin: args.origin ?? server.url, onEvent: (e) => events.push(e) }));
  if (args.cors) {
    const allowHeaders = `Content-Type, PAYMENT-SIGNATURE${args.cors === 'sign-in-too' ? ', SIGN-IN-WITH-X' : ''}`;
    app.use((req, res, next) => {
      res.setHeader('Access-Control-Allow-Origin', '*');
      res.setHeader('Access-Control-Expose-Headers', 'PAYMENT-REQUIRED, PAYMENT-RESPONSE');
      if (req.method !== 'OPTIONS') return next();
      res.setHeader('Access-Control-Allow-Methods', 'GET, OPTIONS');
      res.setHeader('Access-Control-Allow-Headers', allowHeaders);
      res.setHeader('Access-Control-Max-Age', '0');
      res.status(204).end();
    });
  }
  const routes: RoutesConfig = {
    'GET /article': {
      accepts: { scheme: 'exact', network: LOCAL_NETWORK_V2, payTo: args.payTo, price: { amount: ARTICLE_PRICE.toString(), asset: args.usdc, extra: { name: 'USDC', version: '2' } } },
      description: 'An article: pay once, then sign in',
      mimeType: 'application/json',
      extensions: declareSIWxExtension({ statement: 'Sign in to read the articles you bought', expirationSeconds: 600 }),
    },
    'GET /members': {
      accepts: [],
      description: 'Members only: sign in, nothing to pay',
      mimeType: 'application/json',
      extensions: declareSIWxExtension({ network: LOCAL_NETWORK_V2, statement: 'Sign in' }),
    },
  };
  const httpServer = new x402HTTPResourceServer(resourceServer, routes);
  await httpServer.initialize();
  app.use((req, _res, next) => {
    if (req.header('PAYMENT-SIGNATURE')) paid++;
    next();
  });
  app.use(paymentMiddlewareFromHTTPServer(httpServer, undefined, undefined, false));
  app.get('/article', (_req, res) => void res.json({ article: 'x402 in practice' }));
  app.get('/members', (_req, res) => void res.json({ members: true }));
  return { url: server.url, events, paidRequests: () => paid, close: () => server.close() };
}
