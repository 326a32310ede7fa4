/**
 * A self-contained local x402 stack for tests and demos: a private anvil chain, a USDC-like
 * EIP-3009 token at the canonical Base Sepolia USDC address (plus the same token at a custom
 * address), local v1 and v2 facilitators and paid API servers built from the official x402
 * packages. Everything listens on 127.0.0.1 with OS-assigned ports; nothing leaves the machine.
 *
 * @example
 * ```ts
 * import { startLocalStack } from '../examples/local-stack/index.js';
 * const stack = await startLocalStack();
 * const payer = await stack.newPayer(1_000_000n); // 1 USDC
 * // ... pay `${stack.v2.url}/weather` with payer.privateKey ...
 * await stack.stop();
 * ```
 *
 * @module
 */
import type { Address, Chain, Hash, Hex } from 'viem';
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts';
import {
  ANVIL_PRIVATE_KEYS,
  createLocalPublicClient,
  startAnvil,
  type AnvilInstance,
  type LocalPublicClient,
  type StartAnvilOptions,
} from './anvil.js';
import { startFacilitatorV1 } from './facilitatorV1.js';
import { startFacilitatorV2, type LocalFacilitator } from './facilitatorV2.js';
import { startServerV1 } from './serverV1.js';
import { startServerV2, type PaidServer } from './serverV2.js';
import { deployTestTokens } from './token.js';

export {
  ANVIL_PRIVATE_KEYS,
  LOCAL_CHAIN_ID,
  LOCAL_NETWORK_V1,
  LOCAL_NETWORK_V2,
  MULTICALL3_ADDRESS,
  createBlockFreshener,
  createLocalChain,
  createLocalPublicClient,
  createLocalWalletClient,
  resolveAnvilBinary,
  rpcRequest,
  rpcUrlOf,
  startAnvil,
  type AnvilInstance,
  type LocalPublicClient,
  type LocalWalletClient,
  type StartAnvilOptions,
} from './anvil.js';
export {
  CANONICAL_USDC_ADDRESS,
  TOKEN_DECIMALS,
  TOKEN_EIP712_NAME,
  TOKEN_EIP712_VERSION,
  deployTestTokens,
  testUsdcAbi,
  type DeployTestTokensOptions,
  type TestTokens,
} from './token.js';
export { loadArtifact, type ArtifactName, type ContractArtifact } from './artifacts.js';
export {
  createLocalFacilitatorSigner,
  startFacilitatorV2,
  type FacilitatorLogEntry,
  type LocalFacilitator,
  type StartFacilitatorV2Options,
} from './facilitatorV2.js';
export { startFacilitatorV1, type StartFacilitatorV1Options } from './facilitatorV1.js';
export { startServerV2, type PaidServer, type StartPaidServerOptions } from './serverV2.js';
export { startServerV1 } from './serverV1.js';
export { ARTICLE_PRICE, startSignInServer, type SignInServer } from './serverSignIn.js';
export { DESCRIPTIONS, PRICES, type RequestLogEntry } from './routes.js';

/**
 * Default payee of both paid servers: anvil account #9
 * (`0xa0Ee7A142d267C1f36714E4a8F75612F20a79720`).
 */
export const DEFAULT_PAY_TO: Address = privateKeyToAccount(ANVIL_PRIVATE_KEYS[9]).address;

/** Per-server options of {@link startLocalStack}. */
export interface LocalServerOptions {
  /** Payee of this server. Default {@link LocalStackOptions.payTo}. */
  payTo?: Address;
}

/** Options for {@link startLocalStack}. */
export interface LocalStackOptions {
  /** Payee of both servers unless overridden per server. Default {@link DEFAULT_PAY_TO}. */
  payTo?: Address;
  /** Options of the v1 (`x402-express`) server. */
  v1?: LocalServerOptions;
  /** Options of the v2 (`@x402/express`) server. */
  v2?: LocalServerOptions;
  /** Let browsers read the x402 headers cross-origin (permissive CORS). Default false, like the official servers. */
  cors?: boolean;
  /** Options passed to {@link startAnvil}. */
  anvil?: StartAnvilOptions;
}

/** One protocol version's half of the stack. */
export interface LocalProtocolEndpoints {
  /** Base URL of the paid API (routes `/weather`, `/echo`, `/two-options`, `/free`, `/premium`). */
  url: string;
  /** Base URL of its facilitator. */
  facilitatorUrl: string;
  /** Payee of this server. */
  payTo: Address;
  /** The paid API server (request log). */
  server: PaidServer;
  /** The facilitator (verify/settle log, settling account). */
  facilitator: LocalFacilitator;
}

/** A payer account created and funded by {@link LocalStack.newPayer}. */
export interface LocalPayer {
  /** Its private key (random, fresh). */
  privateKey: Hex;
  /** Its address. */
  address: Address;
}

/** A running local stack, returned by {@link startLocalStack}. */
export interface LocalStack {
  /** viem chain of the local anvil (id 84532, loopback RPC URL only). */
  chain: Chain;
  /** Loopback JSON-RPC URL of the local anvil. */
  rpcUrl: string;
  /** TestUSDC at the canonical Base Sepolia USDC address (`0x036CbD53842c5426634e7929541eC2318f3dCF7e`). */
  usdc: Address;
  /** The same token at another address: an undeclared custom token (name "USDC", version "2", 6 decimals). */
  customToken: Address;
  /** Default payee (both servers unless overridden). */
  payTo: Address;
  /** The legacy v1 server (`x402-express`, network `base-sepolia`) and its facilitator (`x402`). */
  v1: LocalProtocolEndpoints;
  /** The v2 server (`@x402/express`, network `eip155:84532`) and its facilitator (`@x402/core` + `@x402/evm`). */
  v2: LocalProtocolEndpoints;
  /** A public client on the local chain (loopback transport). */
  publicClient: LocalPublicClient;
  /**
   * Mints atomic units of a token and waits for the receipt.
   *
   * @param to - Recipient.
   * @param amount - Atomic units (6 decimals).
   * @param token - Default {@link LocalStack.usdc}.
   */
  mint(to: Address, amount: bigint, token?: Address): Promise<Hash>;
  /**
   * Reads a token balance.
   *
   * @param owner - Account.
   * @param token - Default {@link LocalStack.usdc}.
   */
  balanceOf(owner: Address, token?: Address): Promise<bigint>;
  /**
   * Reads EIP-3009 `authorizationState(authorizer, nonce)`.
   *
   * @param authorizer - The payer.
   * @param nonce - The authorization nonce.
   * @param token - Default {@link LocalStack.usdc}.
   */
  authorizationState(authorizer: Address, nonce: Hex, token?: Address): Promise<boolean>;
  /**
   * Mints `amount` atomic units of BOTH tokens (canonical USDC and the custom token) to
   * `address`, so it can pay any route. Payers need no ETH (EIP-3009 is gasless for them).
   *
   * @param address - The payer.
   * @param amount - Atomic units of each token.
   */
  fundPayer(address: Address, amount: bigint): Promise<void>;
  /**
   * Creates a fresh random payer and funds it with {@link LocalStack.fundPayer}.
   *
   * @param amount - Atomic units of each token. Default 1 000 000 (1 USDC).
   * @returns The payer's key and address.
   */
  newPayer(amount?: bigint): Promise<LocalPayer>;
  /** Stops servers, facilitators and anvil. Idempotent. */
  stop(): Promise<void>;
}

/**
 * Starts the whole local x402 stack: anvil (chain id 84532, free port) → TestUSDC deployed and
 * copied to the canonical USDC address → v2 facilitator (settles with anvil account #0) and v1
 * facilitator (account #1) → v2 and v1 paid API servers. All on 127.0.0.1, ephemeral ports;
 * several stacks may run in parallel.
 *
 * @param options - See {@link LocalStackOptions}.
 * @returns The running stack; call `stop()` when done (anvil is also killed on process exit).
 */
export async function startLocalStack(options: LocalStackOptions = {}): Promise<LocalStack> {
  const cleanups: (() => Promise<void>)[] = [];
  const stopAll = async (): Promise<void> => {
    const pending = cleanups.splice(0).reverse();
    for (const cleanup of pending) {
      await cleanup().catch((error: unknown) => {
        console.warn('[local-stack] cleanup failed:', error);
      });
    }
  };

  try {
    const anvil: AnvilInstance = await startAnvil(options.anvil);
    cleanups.push(() => anvil.stop());
    const { chain } = anvil;

    const tokens = await deployTestTokens(chain);

    const [facilitatorV2, facilitatorV1] = await Promise.all([
      startFacilitatorV2({ chain, privateKey: ANVIL_PRIVATE_KEYS[0] }),
      startFacilitatorV1({ chain, privateKey: ANVIL_PRIVATE_KEYS[1] }),
    ]);
    cleanups.push(() => facilitatorV2.stop(), () => facilitatorV1.stop());

    const payTo = options.payTo ?? DEFAULT_PAY_TO;
    const cors = options.cors ?? false;
    const common = { usdc: tokens.usdc, customToken: tokens.customToken, cors };
    const [serverV2, serverV1] = await Promise.all([
      startServerV2({ ...common, facilitatorUrl: facilitatorV2.url, payTo: options.v2?.payTo ?? payTo }),
      startServerV1({ ...common, facilitatorUrl: facilitatorV1.url, payTo: options.v1?.payTo ?? payTo }),
    ]);
    cleanups.push(() => serverV2.stop(), () => serverV1.stop());

    const fundPayer = async (address: Address, amount: bigint): Promise<void> => {
      await tokens.mint(address, amount, tokens.usdc);
      await tokens.mint(address, amount, tokens.customToken);
    };

    let stopping: Promise<void> | undefined;
    return {
      chain,
      rpcUrl: anvil.rpcUrl,
      usdc: tokens.usdc,
      customToken: tokens.customToken,
      payTo,
      v1: {
        url: serverV1.url,
        facilitatorUrl: facilitatorV1.url,
        payTo: serverV1.payTo,
        server: serverV1,
        facilitator: facilitatorV1,
      },
      v2: {
        url: serverV2.url,
        facilitatorUrl: facilitatorV2.url,
        payTo: serverV2.payTo,
        server: serverV2,
        facilitator: facilitatorV2,
      },
      publicClient: createLocalPublicClient(chain),
      mint: (to, amount, token) => tokens.mint(to, amount, token),
      balanceOf: (owner, token) => tokens.balanceOf(owner, token),
      authorizationState: (authorizer, nonce, token) => tokens.authorizationState(authorizer, nonce, token),
      fundPayer,
      async newPayer(amount = 1_000_000n) {
        const privateKey = generatePrivateKey();
        const { address } = privateKeyToAccount(privateKey);
        await fundPayer(address, amount);
        return { privateKey, address };
      },
      stop() {
        stopping ??= stopAll();
        return stopping;
      },
    };
  } catch (error) {
    await stopAll();
    throw error;
  }
}
