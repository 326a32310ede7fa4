import express, { type RequestHandler } from 'express';
import { getAddress, type Address } from 'viem';
import { paymentMiddleware } from 'x402-express';
import { exact } from 'x402/schemes';
import { toJsonSafe } from 'x402/shared';
import {
  settleResponseHeader,
  type ERC20TokenAmount,
  type PaymentPayload,
  type PaymentRequirements,
  type RoutesConfig,
} from 'x402/types';
import { useFacilitator } from 'x402/verify';
import { LOCAL_NETWORK_V1 } from './anvil.js';
import { asyncHandler, listenOnLoopback } from './http.js';
import {
  DESCRIPTIONS,
  PRICES,
  installPrePaymentMiddleware,
  installResourceHandlers,
  twoOptionsBody,
  type RequestLogEntry,
} from './routes.js';
import type { PaidServer, StartPaidServerOptions } from './serverV2.js';
import { TOKEN_DECIMALS, TOKEN_EIP712_NAME, TOKEN_EIP712_VERSION } from './token.js';

/** Same default as `x402-express` 1.2.0. */
const V1_MAX_TIMEOUT_SECONDS = 60;

function tokenAmount(amount: bigint, asset: Address): ERC20TokenAmount {
  return {
    amount: amount.toString(),
    asset: {
      address: asset,
      decimals: TOKEN_DECIMALS,
      eip712: { name: TOKEN_EIP712_NAME, version: TOKEN_EIP712_VERSION },
    },
  };
}

/**
 * `x402-express` 1.2.0 accepts one price per route, and the legacy helper it uses to match a
 * payment to a requirement compares only `scheme` + `network`, so it cannot serve a route with
 * two options on the same network. This handler serves such a route the way `x402-express`
 * would (same 402 body, same facilitator calls through `useFacilitator`, same
 * `X-PAYMENT-RESPONSE`), matching the payment by its signed `value` and then by which option's
 * verification succeeds (the signature commits to the token address).
 */
function multiOptionV1Route(args: {
  facilitatorUrl: string;
  payTo: Address;
  description: string;
  options: readonly { amount: bigint; asset: Address }[];
  body: () => unknown;
}): RequestHandler {
  const facilitator = useFacilitator({ url: args.facilitatorUrl as `${string}://${string}` });
  return asyncHandler(async (req, res) => {
    const requirements: PaymentRequirements[] = args.options.map(({ amount, asset }) => ({
      scheme: 'exact',
      network: LOCAL_NETWORK_V1,
      maxAmountRequired: amount.toString(),
      resource: `${req.protocol}://${req.headers.host ?? '127.0.0.1'}${req.path}`,
      description: args.description,
      mimeType: 'application/json',
      payTo: getAddress(args.payTo),
      maxTimeoutSeconds: V1_MAX_TIMEOUT_SECONDS,
      asset: getAddress(asset),
      outputSchema: { input: { type: 'http', method: req.method.toUpperCase(), discoverable: true } },
      extra: { name: TOKEN_EIP712_NAME, version: TOKEN_EIP712_VERSION },
    }));
    const challenge = (error: string, payer?: string) => ({
      x402Version: 1,
      error,
      accepts: toJsonSafe(requirements),
      ...(payer ? { payer } : {}),
    });

    const header = req.header('X-PAYMENT');
    if (!header) {
      res.status(402).json(challenge('X-PAYMENT header is required'));
      return;
    }
    let payment: PaymentPayload;
    try {
      payment = exact.evm.decodePayment(header);
      payment.x402Version = 1;
    } catch (error) {
      res.status(402).json(challenge(error instanceof Error ? error.message : 'Invalid or malformed payment header'));
      return;
    }
    const value = 'authorization' in payment.payload ? payment.payload.authorization.value : undefined;
    const candidates = requirements.filter(
      (r) => r.scheme === payment.scheme && r.network === payment.network && r.maxAmountRequired === value,
    );
    if (candidates.length === 0) {
      res.status(402).json(challenge('Unable to find matching payment requirements'));
      return;
    }
    let selected: PaymentRequirements | undefined;
    let lastFailure: { reason: string; payer?: string } = { reason: 'invalid_payment' };
    try {
      for (const candidate of candidates) {
        const verdict = await facilitator.verify(payment, candidate);
        if (verdict.isValid) {
          selected = candidate;
          break;
        }
        lastFailure = {
          reason: verdict.invalidReason ?? 'invalid_payment',
          ...(verdict.payer ? { payer: verdict.payer } : {}),
        };
      }
    } catch (error) {
      res.status(402).json(challenge(error instanceof Error ? error.message : 'Payment verification failed'));
      return;
    }
    if (!selected) {
      res.status(402).json(challenge(lastFailure.reason, lastFailure.payer));
      return;
    }
    try {
      const settlement = await facilitator.settle(payment, selected);
      if (!settlement.success) {
        res.status(402).json(challenge(settlement.errorReason ?? 'unexpected_settle_error'));
        return;
      }
      res.setHeader('X-PAYMENT-RESPONSE', settleResponseHeader(settlement));
    } catch (error) {
      res.status(402).json(challenge(error instanceof Error ? error.message : 'Payment settlement failed'));
      return;
    }
    res.json(args.body());
  });
}

/**
 * Starts a legacy x402 v1 paid API on 127.0.0.1 (ephemeral port) with the official
 * `x402-express` 1.2.0 `paymentMiddleware(payTo, routes, { url: facilitatorUrl })`, network
 * `base-sepolia` (the local chain has its chain id, 84532), prices given as explicit asset
 * amounts (`{ amount, asset: { address, decimals: 6, eip712: { name: "USDC", version: "2" } } }`).
 *
 * `GET /two-options` is the one route `x402-express` cannot express (one price per route);
 * it is served by a small handler built from the same `x402` package functions. Every other
 * paid route goes through `x402-express` unchanged.
 *
 * @param options - See {@link StartPaidServerOptions}.
 * @returns The running server.
 */
export async function startServerV1(options: StartPaidServerOptions): Promise<PaidServer> {
  const { payTo, usdc, customToken } = options;
  const requests: RequestLogEntry[] = [];
  const facilitatorConfig = { url: options.facilitatorUrl as `${string}://${string}` };

  const json = { mimeType: 'application/json' } as const;
  const routes: RoutesConfig = {
    'GET /weather': {
      price: tokenAmount(PRICES.weather, usdc),
      network: LOCAL_NETWORK_V1,
      config: { description: DESCRIPTIONS.weather, ...json },
    },
    'POST /echo': {
      price: tokenAmount(PRICES.echo, usdc),
      network: LOCAL_NETWORK_V1,
      config: { description: DESCRIPTIONS.echo, ...json },
    },
    'GET /premium': {
      price: tokenAmount(PRICES.premium, usdc),
      network: LOCAL_NETWORK_V1,
      config: { description: DESCRIPTIONS.premium, ...json },
    },
  };

  const app = express();
  installPrePaymentMiddleware(app, requests, options.cors ?? false);
  app.get(
    '/two-options',
    multiOptionV1Route({
      facilitatorUrl: options.facilitatorUrl,
      payTo,
      description: DESCRIPTIONS.twoOptions,
      options: [
        { amount: PRICES.twoOptionsUsdc, asset: usdc },
        { amount: PRICES.twoOptionsCustom, asset: customToken },
      ],
      body: () => twoOptionsBody(1),
    }),
  );
  app.use(paymentMiddleware(payTo, routes, facilitatorConfig));
  installResourceHandlers(app, 1);

  const server = await listenOnLoopback(app);
  return { url: server.url, payTo, requests, stop: () => server.close() };
}
