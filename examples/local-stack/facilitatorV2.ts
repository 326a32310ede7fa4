import express from 'express';
import type { Abi, Address, Chain, Hex } from 'viem';
import { x402Facilitator } from '@x402/core/facilitator';
import type { PaymentPayload, PaymentRequirements, SettleResponse, VerifyResponse } from '@x402/core/types';
import { toFacilitatorEvmSigner, type FacilitatorEvmSigner } from '@x402/evm';
import { ExactEvmScheme } from '@x402/evm/exact/facilitator';
import {
  ANVIL_PRIVATE_KEYS,
  LOCAL_NETWORK_V2,
  createBlockFreshener,
  createLocalWalletClient,
  rpcUrlOf,
} from './anvil.js';
import { listenOnLoopback } from './http.js';
import { mountFacilitatorRoutes } from './facilitatorRoutes.js';
import { createSerialQueue } from './serial.js';

/** One call a facilitator answered, for assertions in tests. */
export interface FacilitatorLogEntry {
  /** Which endpoint was called. */
  endpoint: 'verify' | 'settle';
  /** `isValid` for verify, `success` for settle; false when the call threw. */
  ok: boolean;
  /** `invalidReason` / `errorReason` / thrown message, when not ok. */
  reason?: string;
  /** Settlement transaction hash (settle only, when one was sent). */
  transaction?: string;
  /** The payer the facilitator reported. */
  payer?: string;
}

/** A running local facilitator. */
export interface LocalFacilitator {
  /** Base URL (no trailing slash); give it to the resource server as the facilitator URL. */
  url: string;
  /** The account that submits settlement transactions (pays the gas). */
  address: Address;
  /** Every verify/settle call answered so far, oldest first. */
  log: FacilitatorLogEntry[];
  /** Stops the HTTP server. Idempotent. */
  stop(): Promise<void>;
}

/** Options for {@link startFacilitatorV2}. */
export interface StartFacilitatorV2Options {
  /** The local chain (from `startAnvil`). */
  chain: Chain;
  /** Key of the settling account. Default anvil account #0. */
  privateKey?: Hex;
  /** CAIP-2 network to support. Default `eip155:84532`. */
  network?: `${string}:${string}`;
}

/**
 * Adapts a viem wallet client on the local chain to the `FacilitatorEvmSigner` shape that
 * `@x402/evm` expects. Every call goes through the client's explicit loopback transport.
 *
 * @param chain - The local chain.
 * @param privateKey - The settling account's key.
 * @returns The signer and the account address.
 */
export function createLocalFacilitatorSigner(
  chain: Chain,
  privateKey: Hex,
): { signer: FacilitatorEvmSigner; address: Address } {
  const wallet = createLocalWalletClient(chain, privateKey);
  const address = wallet.account.address;
  const signer = toFacilitatorEvmSigner({
    address,
    readContract: (args) =>
      wallet.readContract({
        address: args.address,
        abi: args.abi as Abi,
        functionName: args.functionName,
        args: args.args ?? [],
      }),
    // The x402 signer types the EIP-712 pieces loosely (Record<string, unknown>); viem wants
    // them typed. The values are passed through unchanged.
    verifyTypedData: (args) => wallet.verifyTypedData(args as unknown as Parameters<typeof wallet.verifyTypedData>[0]),
    writeContract: (args) =>
      wallet.writeContract({
        address: args.address,
        abi: args.abi as Abi,
        functionName: args.functionName,
        args: args.args,
        ...(args.gas !== undefined ? { gas: args.gas } : {}),
        ...(args.dataSuffix !== undefined ? { dataSuffix: args.dataSuffix } : {}),
      }),
    sendTransaction: (args) => wallet.sendTransaction({ to: args.to, data: args.data }),
    waitForTransactionReceipt: (args) => wallet.waitForTransactionReceipt(args),
    getCode: (args) => wallet.getCode(args),
  });
  return { signer, address };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Starts an x402 v2 facilitator on 127.0.0.1 (ephemeral port) built from the official
 * packages: `x402Facilitator` from `@x402/core/facilitator` with the `@x402/evm` exact
 * facilitator scheme (EIP-3009 and Permit2), settling on the local chain.
 *
 * Endpoints (what `HTTPFacilitatorClient` of `@x402/core` calls):
 * - `GET /supported` → `{ kinds, extensions, signers }`
 * - `POST /verify` `{ x402Version, paymentPayload, paymentRequirements }` → `VerifyResponse`
 * - `POST /settle` (same body) → `SettleResponse`; sends `transferWithAuthorization` and
 *   waits for the receipt. Settles run one at a time so concurrent payments never race for
 *   the settling account's nonce.
 *
 * When `x402Facilitator` throws (e.g. no scheme registered for the requested network), the
 * answer is a structured failure (`unexpected_verify_error` / `unexpected_settle_error`, with
 * the message in `invalidMessage` / `errorMessage`) instead of an HTTP error.
 *
 * @param options - See {@link StartFacilitatorV2Options}.
 * @returns The running facilitator.
 */
export async function startFacilitatorV2(options: StartFacilitatorV2Options): Promise<LocalFacilitator> {
  const network = options.network ?? LOCAL_NETWORK_V2;
  const { signer, address } = createLocalFacilitatorSigner(options.chain, options.privateKey ?? ANVIL_PRIVATE_KEYS[0]);
  const facilitator = new x402Facilitator().register(network, new ExactEvmScheme(signer));
  const serial = createSerialQueue();
  const freshen = createBlockFreshener(rpcUrlOf(options.chain));
  const log: FacilitatorLogEntry[] = [];

  const app = express();
  app.use(express.json({ limit: '1mb' }));

  app.get('/supported', (_req, res) => {
    res.json(facilitator.getSupported());
  });

  const readBody = (body: unknown): { payload: PaymentPayload; requirements: PaymentRequirements } | { error: string } => {
    if (!isObject(body) || !isObject(body.paymentPayload) || !isObject(body.paymentRequirements)) {
      return { error: 'Expected { paymentPayload, paymentRequirements }' };
    }
    return {
      payload: body.paymentPayload as unknown as PaymentPayload,
      requirements: body.paymentRequirements as unknown as PaymentRequirements,
    };
  };

  mountFacilitatorRoutes(app, {
    readBody,
    log,
    freshen,
    serial,
    verify: (parsed) =>
      facilitator.verify(parsed.payload, parsed.requirements).catch(
        (error: unknown): VerifyResponse => ({
          isValid: false,
          invalidReason: 'unexpected_verify_error',
          invalidMessage: error instanceof Error ? error.message : String(error),
        }),
      ),
    settle: (parsed) =>
      facilitator.settle(parsed.payload, parsed.requirements).catch(
        (error: unknown): SettleResponse => ({
          success: false,
          errorReason: 'unexpected_settle_error',
          errorMessage: error instanceof Error ? error.message : String(error),
          transaction: '',
          network: parsed.requirements.network,
        }),
      ),
  });

  const server = await listenOnLoopback(app);
  return { url: server.url, address, log, stop: () => server.close() };
}
