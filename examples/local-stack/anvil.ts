import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import {
  createPublicClient,
  createWalletClient,
  defineChain,
  http,
  publicActions,
  type Address,
  type Chain,
  type Hex,
} from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { loadArtifact } from './artifacts.js';

/**
 * Chain id the local chain runs with: Base Sepolia's, so that the legacy v1 packages (whose
 * network enum is fixed) accept it as `base-sepolia`. It is still a private local anvil chain.
 */
export const LOCAL_CHAIN_ID = 84532;

/** CAIP-2 id of the local chain (x402 v2). */
export const LOCAL_NETWORK_V2 = `eip155:${LOCAL_CHAIN_ID}` as const;

/** v1 network name of the local chain (x402 v1). */
export const LOCAL_NETWORK_V1 = 'base-sepolia' as const;

/**
 * Private keys of anvil's ten default funded accounts (10 000 ETH each), from its well-known
 * test mnemonic. Public knowledge: never use them outside a local chain.
 */
export const ANVIL_PRIVATE_KEYS = [
  '0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80',
  '0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d',
  '0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a',
  '0x7c852118294e51e653712a81e05800f419141751be58f605c371e15141b007a6',
  '0x47e179ec197488593b187f80a00eb0da91f1b9d0b13f8733639f19c30a34926a',
  '0x8b3a350cf5c34c9194ca85829a2df0ec3153be0318b5e2d3348e872092edffba',
  '0x92db14e403b83dfe3df233f83dfa3a0d7096f21ca9b0d6d6b8d88b2b4ec1564e',
  '0x4bbbf85ce3377467afe5d46f804f221813b2bb87f24d81f60f1fcdbf7cbf4356',
  '0xdbda1821b80551c9d65939329250298aa3472ba22feea921c0cf5d620ea67b97',
  '0x2a871d0798f97d79848a013d4936a73bf4cc922c825d33c1cf7073dff6d409c6',
] as const satisfies readonly Hex[];

/**
 * The canonical Multicall3 address. {@link startAnvil} places a Multicall3-compatible
 * contract there (anvil has none by default), because viem's `multicall` and the x402 v2 EVM
 * facilitator's failure diagnostics (`insufficient_balance`, `nonce_already_used`, ...) call it.
 */
export const MULTICALL3_ADDRESS: Address = '0xcA11bde05977b3631167028862bE2a173976CA11';

/** Options for {@link startAnvil}. */
export interface StartAnvilOptions {
  /** Chain id. Default {@link LOCAL_CHAIN_ID} (84532). */
  chainId?: number;
  /** Path of the anvil executable. Default: the `@foundry-rs/anvil` platform binary. */
  binary?: string;
  /** Extra command-line arguments for anvil (e.g. `['--block-time', '1']`). */
  extraArgs?: readonly string[];
  /** How long to wait for anvil to answer, in ms. Default 20 000. */
  startTimeoutMs?: number;
  /** Put a Multicall3-compatible contract at {@link MULTICALL3_ADDRESS}. Default true. */
  multicall3?: boolean;
}

/** A running anvil node. */
export interface AnvilInstance {
  /** JSON-RPC URL on the loopback interface, e.g. `http://127.0.0.1:40123`. */
  rpcUrl: string;
  /** The TCP port anvil listens on (chosen by the OS, never fixed). */
  port: number;
  /** A viem chain for this node: id {@link StartAnvilOptions.chainId}, rpc url {@link rpcUrl}. */
  chain: Chain;
  /** Stops the node (idempotent). Resolves once the process has exited. */
  stop(): Promise<void>;
}

const localRequire = createRequire(import.meta.url);

/**
 * Finds the anvil executable shipped by `@foundry-rs/anvil`: the platform package's binary
 * (spawned directly so that stopping it needs no signal forwarding through the Node wrapper).
 *
 * @returns An absolute path to an executable anvil.
 * @throws If no binary for this platform is installed.
 */
export function resolveAnvilBinary(): string {
  const arch = process.arch === 'x64' ? 'amd64' : process.arch;
  const exe = process.platform === 'win32' ? 'anvil.exe' : 'anvil';
  const candidates = [`@foundry-rs/anvil-${process.platform}-${arch}/bin/${exe}`];
  for (const candidate of candidates) {
    try {
      const resolved = localRequire.resolve(candidate);
      if (existsSync(resolved)) return resolved;
    } catch {
      // not installed for this platform: try the next candidate
    }
  }
  throw new Error(
    `No anvil binary for ${process.platform}/${process.arch}: install the dev dependency @foundry-rs/anvil.`,
  );
}

/**
 * Builds the viem chain object for a local node.
 *
 * @param rpcUrl - The node's loopback JSON-RPC URL.
 * @param chainId - The node's chain id. Default {@link LOCAL_CHAIN_ID}.
 * @param withMulticall3 - Declare Multicall3 at {@link MULTICALL3_ADDRESS}. Default true.
 * @returns A chain whose only RPC URL is `rpcUrl`, so no client built from it reaches a public RPC.
 */
export function createLocalChain(rpcUrl: string, chainId: number = LOCAL_CHAIN_ID, withMulticall3 = true): Chain {
  return defineChain({
    id: chainId,
    name: `Local anvil (chain id ${chainId})`,
    nativeCurrency: { name: 'Ether', symbol: 'ETH', decimals: 18 },
    rpcUrls: { default: { http: [rpcUrl] } },
    ...(withMulticall3 ? { contracts: { multicall3: { address: MULTICALL3_ADDRESS } } } : {}),
    testnet: true,
  });
}

/** The loopback RPC URL of a chain made by {@link createLocalChain}. */
export function rpcUrlOf(chain: Chain): string {
  const url = chain.rpcUrls.default.http[0];
  if (!url) throw new Error(`Chain ${chain.id} has no RPC URL.`);
  return url;
}

/**
 * A viem public client bound to the local chain with an explicit loopback transport.
 *
 * @param chain - A chain from {@link createLocalChain} / {@link startAnvil}.
 * @returns A public client polling every 50 ms (anvil mines instantly).
 */
export function createLocalPublicClient(chain: Chain) {
  return createPublicClient({ chain, transport: http(rpcUrlOf(chain)), pollingInterval: 50 });
}

/**
 * A viem wallet client (with public actions) for a private key on the local chain, with an
 * explicit loopback transport.
 *
 * @param chain - A chain from {@link createLocalChain} / {@link startAnvil}.
 * @param privateKey - The account's private key.
 * @returns A wallet client that can also read (`readContract`, `waitForTransactionReceipt`, ...).
 */
export function createLocalWalletClient(chain: Chain, privateKey: Hex) {
  return createWalletClient({
    account: privateKeyToAccount(privateKey),
    chain,
    transport: http(rpcUrlOf(chain)),
    pollingInterval: 50,
  }).extend(publicActions);
}

/** Wallet client type returned by {@link createLocalWalletClient}. */
export type LocalWalletClient = ReturnType<typeof createLocalWalletClient>;

/** Public client type returned by {@link createLocalPublicClient}. */
export type LocalPublicClient = ReturnType<typeof createLocalPublicClient>;

/**
 * Sends one JSON-RPC request to a node.
 *
 * @param rpcUrl - The node's URL.
 * @param method - The JSON-RPC method, e.g. `anvil_setCode`.
 * @param params - Its positional parameters.
 * @returns The `result` member of the answer.
 * @throws On HTTP errors and JSON-RPC errors.
 */
export async function rpcRequest(rpcUrl: string, method: string, params: readonly unknown[] = []): Promise<unknown> {
  const response = await fetch(rpcUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }),
  });
  if (!response.ok) throw new Error(`${method}: HTTP ${response.status}`);
  const body = (await response.json()) as { result?: unknown; error?: { message?: string } };
  if (body.error) throw new Error(`${method}: ${body.error.message ?? JSON.stringify(body.error)}`);
  return body.result;
}

/**
 * Returns a function that mines an empty block when the node's latest block is older than
 * `maxAgeSeconds`.
 *
 * Why: anvil mines only when a transaction arrives, and `eth_call` runs with the latest
 * block's timestamp. After a long idle period (a demo left open), a simulated
 * `transferWithAuthorization` would see a timestamp older than the client's
 * `validAfter = now - 600` and fail. Real chains produce blocks every few seconds; the
 * facilitators call this before verifying or settling to behave like one.
 *
 * @param rpcUrl - The node's URL.
 * @param maxAgeSeconds - Largest acceptable age of the latest block. Default 30.
 * @returns An idempotent, cheap (one RPC call when fresh) async function.
 */
export function createBlockFreshener(rpcUrl: string, maxAgeSeconds = 30): () => Promise<void> {
  return async () => {
    const block = (await rpcRequest(rpcUrl, 'eth_getBlockByNumber', ['latest', false])) as { timestamp?: string } | null;
    const timestamp = block?.timestamp ? Number(BigInt(block.timestamp)) : 0;
    if (Date.now() / 1000 - timestamp > maxAgeSeconds) await rpcRequest(rpcUrl, 'evm_mine');
  };
}

// ---------------------------------------------------------------------------------------------
// process management

/**
 * On POSIX, anvil runs under a tiny `sh` watchdog that kills it as soon as our end of the
 * watchdog's stdin closes: that happens on `stop()`, but also when this Node process dies in
 * any way (even SIGKILL), so no orphaned anvil outlives the tests.
 */
const WATCHDOG_SCRIPT = [
  '"$@" &',
  'child=$!',
  'echo "ANVIL_PID=$child" >&2',
  'trap \'kill "$child" 2>/dev/null; wait "$child"; exit 0\' INT TERM HUP',
  'while read -r _line; do :; done',
  'kill "$child" 2>/dev/null',
  'wait "$child"',
].join('\n');

const live = new Set<{ child: ChildProcess; anvilPid: () => number | undefined }>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const entry of live) {
      const pid = entry.anvilPid();
      try {
        if (pid !== undefined) process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
      try {
        entry.child.kill('SIGKILL');
      } catch {
        // already gone
      }
    }
  });
}

function waitForExit(child: ChildProcess, timeoutMs: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), timeoutMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

/**
 * Starts a private anvil node on 127.0.0.1 with an OS-assigned free port (`--port 0`), so
 * several nodes can run in parallel. Waits until it answers JSON-RPC, then (by default) puts
 * a Multicall3-compatible contract at {@link MULTICALL3_ADDRESS}.
 *
 * The node is killed by {@link AnvilInstance.stop}, when this process exits, and (POSIX) when
 * this process dies abruptly.
 *
 * @param options - See {@link StartAnvilOptions}.
 * @returns The running node's URL, port, viem chain and `stop()`.
 * @example
 * ```ts
 * const anvil = await startAnvil();
 * const client = createLocalPublicClient(anvil.chain);
 * console.log(await client.getChainId()); // 84532
 * await anvil.stop();
 * ```
 */
export async function startAnvil(options: StartAnvilOptions = {}): Promise<AnvilInstance> {
  const chainId = options.chainId ?? LOCAL_CHAIN_ID;
  const binary = options.binary ?? resolveAnvilBinary();
  const startTimeoutMs = options.startTimeoutMs ?? 20_000;
  const anvilArgs = [
    '--host',
    '127.0.0.1',
    '--port',
    '0',
    '--chain-id',
    String(chainId),
    ...(options.extraArgs ?? []),
  ];

  const useWatchdog = process.platform !== 'win32';
  const child = useWatchdog
    ? spawn('/bin/sh', ['-c', WATCHDOG_SCRIPT, 'anvil-watchdog', binary, ...anvilArgs], { stdio: ['pipe', 'pipe', 'pipe'] })
    : spawn(binary, anvilArgs, { stdio: ['ignore', 'pipe', 'pipe'] });

  // Never keep the event loop alive just for anvil: a forgotten stop() must not hang the
  // process (the exit hook and the watchdog still kill anvil when the process ends).
  child.unref();
  for (const stream of [child.stdin, child.stdout, child.stderr]) {
    if (stream && 'unref' in stream && typeof stream.unref === 'function') stream.unref();
  }

  let anvilPid: number | undefined = useWatchdog ? undefined : child.pid;
  const entry = { child, anvilPid: () => anvilPid };
  live.add(entry);
  installExitHook();

  // Keep the last few KB of output for error messages, and always drain the pipes.
  let recentOutput = '';
  const remember = (chunk: Buffer): void => {
    recentOutput = (recentOutput + chunk.toString('utf8')).slice(-8192);
  };
  child.stderr?.on('data', (chunk: Buffer) => {
    const text = chunk.toString('utf8');
    const match = /ANVIL_PID=(\d+)/.exec(text);
    if (match?.[1]) anvilPid = Number(match[1]);
    remember(chunk);
  });

  let stopped: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopped ??= (async () => {
      if (useWatchdog) child.stdin?.end();
      else child.kill('SIGTERM');
      if (!(await waitForExit(child, 5_000))) {
        if (anvilPid !== undefined) {
          try {
            process.kill(anvilPid, 'SIGKILL');
          } catch {
            // already gone
          }
        }
        child.kill('SIGKILL');
        await waitForExit(child, 2_000);
      }
      live.delete(entry);
    })();
    return stopped;
  };

  try {
    const port = await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`anvil did not start within ${startTimeoutMs} ms:\n${recentOutput}`)),
        startTimeoutMs,
      );
      let buffered = '';
      let found = false;
      child.stdout?.on('data', (chunk: Buffer) => {
        remember(chunk);
        if (found) return;
        buffered += chunk.toString('utf8');
        const match = /Listening on 127\.0\.0\.1:(\d+)/.exec(buffered);
        if (match?.[1]) {
          found = true;
          clearTimeout(timer);
          resolve(Number(match[1]));
        }
      });
      child.once('error', (error) => {
        clearTimeout(timer);
        reject(error);
      });
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`anvil exited early (code ${code}, signal ${signal}):\n${recentOutput}`));
      });
    });

    const rpcUrl = `http://127.0.0.1:${port}`;
    const deadline = Date.now() + startTimeoutMs;
    for (;;) {
      try {
        const id = await rpcRequest(rpcUrl, 'eth_chainId');
        if (Number(id) !== chainId) throw new Error(`anvil answered chain id ${String(id)}, expected ${chainId}`);
        break;
      } catch (error) {
        if (Date.now() > deadline) throw error;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    }

    const multicall3 = options.multicall3 ?? true;
    if (multicall3) {
      await rpcRequest(rpcUrl, 'anvil_setCode', [MULTICALL3_ADDRESS, loadArtifact('LocalMulticall').deployedBytecode]);
    }
    // The genesis block is stamped 1970; mine one block so "latest" carries the current time.
    await rpcRequest(rpcUrl, 'evm_mine');

    return { rpcUrl, port, chain: createLocalChain(rpcUrl, chainId, multicall3), stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
