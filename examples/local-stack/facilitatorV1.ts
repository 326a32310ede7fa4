import express from 'express';
import type { Chain, Hex } from 'viem';
import { settle, verify } from 'x402/facilitator';
import {
  PaymentPayloadSchema,
  PaymentRequirementsSchema,
  type PaymentPayload,
  type PaymentRequirements,
  type SettleResponse,
  type Signer,
  type VerifyResponse,
} from 'x402/types';
import {
  ANVIL_PRIVATE_KEYS,
  LOCAL_NETWORK_V1,
  createBlockFreshener,
  createLocalWalletClient,
  rpcUrlOf,
} from './anvil.js';
import type { FacilitatorLogEntry, LocalFacilitator } from './facilitatorV2.js';
import { listenOnLoopback } from './http.js';
import { mountFacilitatorRoutes } from './facilitatorRoutes.js';
import { createSerialQueue } from './serial.js';

function payerOf(payload: PaymentPayload): string | undefined {
  return 'authorization' in payload.payload ? payload.payload.authorization.from : undefined;
}

/** Options for {@link startFacilitatorV1}. */
export interface StartFacilitatorV1Options {
  /** The local chain (from `startAnvil`); its id must be 84532 (`base-sepolia` in v1). */
  chain: Chain;
  /** Key of the settling account. Default anvil account #1. */
  privateKey?: Hex;
}

/**
 * Starts a legacy x402 v1 facilitator on 127.0.0.1 (ephemeral port) built from the `x402`
 * 1.2.0 package's facilitator functions (`verify` / `settle` from `x402/facilitator`),
 * settling on the local chain with a wallet client whose only transport is the loopback RPC
 * (the package's own `createSigner` / `createConnectedClient` would use public RPCs, so they
 * are not used).
 *
 * Endpoints (what `useFacilitator` of `x402/verify`, used by `x402-express`, calls):
 * - `GET /supported` → `{ kinds: [{ x402Version: 1, scheme: "exact", network: "base-sepolia" }] }`
 * - `POST /verify` `{ x402Version, paymentPayload, paymentRequirements }` → `VerifyResponse`
 * - `POST /settle` (same body) → `SettleResponse`; sends `transferWithAuthorization` and waits
 *   for the receipt. Settles are serialised (one settling account, one nonce sequence).
 *
 * Request bodies are validated with the package's own `PaymentPayloadSchema` and
 * `PaymentRequirementsSchema`; a malformed body gets HTTP 400. When the package's function
 * throws (e.g. the settle transaction's gas estimation reverts), the answer is a structured
 * failure (`unexpected_verify_error` / `unexpected_settle_error`) rather than an HTTP error.
 *
 * @param options - See {@link StartFacilitatorV1Options}.
 * @returns The running facilitator.
 */
export async function startFacilitatorV1(options: StartFacilitatorV1Options): Promise<LocalFacilitator> {
  const wallet = createLocalWalletClient(options.chain, options.privateKey ?? ANVIL_PRIVATE_KEYS[1]);
  // The legacy `Signer` type is a viem wallet client extended with public actions: ours is one.
  const signer = wallet as unknown as Signer;
  const serial = createSerialQueue();
  const freshen = createBlockFreshener(rpcUrlOf(options.chain));
  const log: FacilitatorLogEntry[] = [];

  const app = express();
  app.use(express.json({ limit: '1mb' }));

  app.get('/supported', (_req, res) => {
    res.json({ kinds: [{ x402Version: 1, scheme: 'exact', network: LOCAL_NETWORK_V1 }] });
  });

  const readBody = (
    body: unknown,
  ): { payload: PaymentPayload; requirements: PaymentRequirements } | { error: string } => {
    const record = typeof body === 'object' && body !== null ? (body as Record<string, unknown>) : {};
    const payload = PaymentPayloadSchema.safeParse(record.paymentPayload);
    const requirements = PaymentRequirementsSchema.safeParse(record.paymentRequirements);
    if (!payload.success) return { error: `invalid paymentPayload: ${payload.error.message}` };
    if (!requirements.success) return { error: `invalid paymentRequirements: ${requirements.error.message}` };
    return { payload: payload.data, requirements: requirements.data };
  };

  mountFacilitatorRoutes(app, {
    readBody,
    log,
    freshen,
    serial,
    verify: async (parsed) => {
      const payer = payerOf(parsed.payload);
      return verify(signer, parsed.payload, parsed.requirements).catch((error: unknown): VerifyResponse => {
        console.warn('[local v1 facilitator] verify threw:', error);
        return { isValid: false, invalidReason: 'unexpected_verify_error', ...(payer ? { payer } : {}) };
      });
    },
    settle: async (parsed) => {
      const payer = payerOf(parsed.payload);
      return settle(signer, parsed.payload, parsed.requirements).catch((error: unknown): SettleResponse => {
        // e.g. the transferWithAuthorization simulation reverted: answer like a failed settle.
        console.warn('[local v1 facilitator] settle threw:', error);
        return {
          success: false,
          errorReason: 'unexpected_settle_error',
          transaction: '',
          network: parsed.requirements.network,
          ...(payer ? { payer } : {}),
        };
      });
    },
  });

  const server = await listenOnLoopback(app);
  return { url: server.url, address: wallet.account.address, log, stop: () => server.close() };
}
