import { getAddress, parseAbi, type Address, type Chain, type Hash, type Hex } from 'viem';
import {
  ANVIL_PRIVATE_KEYS,
  createLocalPublicClient,
  createLocalWalletClient,
  rpcRequest,
  rpcUrlOf,
} from './anvil.js';
import { loadArtifact } from './artifacts.js';
import { createSerialQueue } from './serial.js';

/**
 * Canonical Base Sepolia USDC address. The stack copies TestUSDC's runtime code here, so
 * clients with a built-in stablecoin table (`@x402/evm` `DEFAULT_STABLECOINS`, the legacy
 * `x402` config) recognise the token: EIP-712 name "USDC", version "2", 6 decimals.
 */
export const CANONICAL_USDC_ADDRESS: Address = '0x036CbD53842c5426634e7929541eC2318f3dCF7e';

/** EIP-712 domain name of TestUSDC (same as Base Sepolia USDC). */
export const TOKEN_EIP712_NAME = 'USDC';

/** EIP-712 domain version of TestUSDC (same as Base Sepolia USDC). */
export const TOKEN_EIP712_VERSION = '2';

/** Decimals of TestUSDC. */
export const TOKEN_DECIMALS = 6;

/**
 * Typed ABI of `contracts/TestUSDC.sol` (ERC-20 + EIP-3009 + EIP-2612 + EIP-5267 + faucet
 * `mint`). Matches the compiled artifact's ABI; the interop test checks that.
 */
export const testUsdcAbi = parseAbi([
  'function name() view returns (string)',
  'function symbol() view returns (string)',
  'function decimals() view returns (uint8)',
  'function version() pure returns (string)',
  'function totalSupply() view returns (uint256)',
  'function balanceOf(address) view returns (uint256)',
  'function allowance(address, address) view returns (uint256)',
  'function nonces(address) view returns (uint256)',
  'function DOMAIN_SEPARATOR() view returns (bytes32)',
  'function eip712Domain() view returns (bytes1 fields, string domainName, string domainVersion, uint256 chainId, address verifyingContract, bytes32 salt, uint256[] extensions)',
  'function authorizationState(address authorizer, bytes32 nonce) view returns (bool)',
  'function TRANSFER_WITH_AUTHORIZATION_TYPEHASH() view returns (bytes32)',
  'function RECEIVE_WITH_AUTHORIZATION_TYPEHASH() view returns (bytes32)',
  'function CANCEL_AUTHORIZATION_TYPEHASH() view returns (bytes32)',
  'function PERMIT_TYPEHASH() view returns (bytes32)',
  'function transfer(address to, uint256 value) returns (bool)',
  'function approve(address spender, uint256 value) returns (bool)',
  'function transferFrom(address from, address to, uint256 value) returns (bool)',
  'function mint(address to, uint256 value)',
  'function transferWithAuthorization(address from, address to, uint256 value, uint256 validAfter, uint256 validBefore, bytes32 nonce, uint8 v, bytes32 r, bytes32 s)',
  'function transferWithAuthorization(address from, address to, uint256 value, uint256 validAfter, uint256 validBefore, bytes32 nonce, bytes signature)',
  'function receiveWithAuthorization(address from, address to, uint256 value, uint256 validAfter, uint256 validBefore, bytes32 nonce, uint8 v, bytes32 r, bytes32 s)',
  'function receiveWithAuthorization(address from, address to, uint256 value, uint256 validAfter, uint256 validBefore, bytes32 nonce, bytes signature)',
  'function cancelAuthorization(address authorizer, bytes32 nonce, uint8 v, bytes32 r, bytes32 s)',
  'function cancelAuthorization(address authorizer, bytes32 nonce, bytes signature)',
  'function permit(address owner, address spender, uint256 value, uint256 deadline, uint8 v, bytes32 r, bytes32 s)',
  'function permit(address owner, address spender, uint256 value, uint256 deadline, bytes signature)',
  'event Transfer(address indexed from, address indexed to, uint256 value)',
  'event Approval(address indexed owner, address indexed spender, uint256 value)',
  'event AuthorizationUsed(address indexed authorizer, bytes32 indexed nonce)',
  'event AuthorizationCanceled(address indexed authorizer, bytes32 indexed nonce)',
]);

/** Options for {@link deployTestTokens}. */
export interface DeployTestTokensOptions {
  /** Key of the account that deploys and mints. Default anvil account #2. */
  deployerKey?: Hex;
  /** Where to copy the token's runtime code. Default {@link CANONICAL_USDC_ADDRESS}. */
  canonicalAddress?: Address;
}

/** The deployed tokens and helpers to fund and inspect accounts. */
export interface TestTokens {
  /** TestUSDC at the canonical Base Sepolia USDC address (a "known" stablecoin). */
  usdc: Address;
  /**
   * The same contract at the address it was originally deployed to: an "undeclared custom
   * token" that no built-in table knows (EIP-712 name "USDC", version "2", 6 decimals too).
   */
  customToken: Address;
  /**
   * Mints atomic units (6 decimals) and waits for the receipt.
   *
   * @param to - Recipient.
   * @param amount - Atomic units, e.g. `1_000_000n` = 1 USDC.
   * @param token - Which token. Default {@link TestTokens.usdc}.
   * @returns The mint transaction hash.
   */
  mint(to: Address, amount: bigint, token?: Address): Promise<Hash>;
  /**
   * Reads a token balance.
   *
   * @param owner - Account to read.
   * @param token - Which token. Default {@link TestTokens.usdc}.
   * @returns Balance in atomic units.
   */
  balanceOf(owner: Address, token?: Address): Promise<bigint>;
  /**
   * Reads EIP-3009 `authorizationState`.
   *
   * @param authorizer - The payer that signed the authorization.
   * @param nonce - The authorization's 32-byte nonce.
   * @param token - Which token. Default {@link TestTokens.usdc}.
   * @returns True once the nonce has been used or canceled.
   */
  authorizationState(authorizer: Address, nonce: Hex, token?: Address): Promise<boolean>;
}

/**
 * Deploys TestUSDC, then copies its runtime code to the canonical Base Sepolia USDC address
 * with `anvil_setCode` (the contract has no constructor state or immutables, and computes its
 * EIP-712 domain from `block.chainid` and `address(this)`, so the copy is a fully working,
 * independent token with its own balances).
 *
 * @param chain - The local chain (from `startAnvil`).
 * @param options - See {@link DeployTestTokensOptions}.
 * @returns The two token addresses and helpers.
 * @example
 * ```ts
 * const tokens = await deployTestTokens(anvil.chain);
 * await tokens.mint(payer, 1_000_000n); // 1 USDC at the canonical address
 * ```
 */
export async function deployTestTokens(chain: Chain, options: DeployTestTokensOptions = {}): Promise<TestTokens> {
  const artifact = loadArtifact('TestUSDC');
  const wallet = createLocalWalletClient(chain, options.deployerKey ?? ANVIL_PRIVATE_KEYS[2]);
  const reader = createLocalPublicClient(chain);
  const serial = createSerialQueue();

  const deployHash = await serial(() => wallet.deployContract({ abi: testUsdcAbi, bytecode: artifact.bytecode }));
  const receipt = await reader.waitForTransactionReceipt({ hash: deployHash });
  if (receipt.status !== 'success' || !receipt.contractAddress) {
    throw new Error(`TestUSDC deployment failed (tx ${deployHash}).`);
  }
  const customToken = getAddress(receipt.contractAddress);
  const usdc = getAddress(options.canonicalAddress ?? CANONICAL_USDC_ADDRESS);

  const runtimeCode = await reader.getCode({ address: customToken });
  if (!runtimeCode || runtimeCode === '0x') throw new Error('TestUSDC has no runtime code after deployment.');
  await rpcRequest(rpcUrlOf(chain), 'anvil_setCode', [usdc, runtimeCode]);

  for (const token of [usdc, customToken]) {
    const [name, version, decimals] = await Promise.all([
      reader.readContract({ address: token, abi: testUsdcAbi, functionName: 'name' }),
      reader.readContract({ address: token, abi: testUsdcAbi, functionName: 'version' }),
      reader.readContract({ address: token, abi: testUsdcAbi, functionName: 'decimals' }),
    ]);
    if (name !== TOKEN_EIP712_NAME || version !== TOKEN_EIP712_VERSION || decimals !== TOKEN_DECIMALS) {
      throw new Error(`Token at ${token} reports ${name}/${version}/${decimals}, expected USDC/2/6.`);
    }
  }

  return {
    usdc,
    customToken,
    async mint(to, amount, token = usdc) {
      const hash = await serial(async () => {
        const sent = await wallet.writeContract({
          address: token,
          abi: testUsdcAbi,
          functionName: 'mint',
          args: [to, amount],
        });
        const mined = await reader.waitForTransactionReceipt({ hash: sent });
        if (mined.status !== 'success') throw new Error(`mint reverted (tx ${sent}).`);
        return sent;
      });
      return hash;
    },
    balanceOf(owner, token = usdc) {
      return reader.readContract({ address: token, abi: testUsdcAbi, functionName: 'balanceOf', args: [owner] });
    },
    authorizationState(authorizer, nonce, token = usdc) {
      return reader.readContract({
        address: token,
        abi: testUsdcAbi,
        functionName: 'authorizationState',
        args: [authorizer, nonce],
      });
    },
  };
}
