/**
 * Paying from a real page, for the browser payment tests (with ./browser.ts and
 * ./browserServer.ts):
 *
 * - {@link injectWallet}: an EIP-1193 provider put in the page as `window.ethereum` before any
 *   script of the page runs (as a wallet extension's content script does). Its `request()`
 *   crosses to Node through `page.exposeBinding`, where a viem local account answers
 *   `eth_accounts`, `eth_requestAccounts`, `eth_chainId`, `eth_signTypedData_v4` — by parsing
 *   the typed-data JSON text the page sent and signing exactly that, with the checks a wallet
 *   makes (the signer is the connected account, the domain's chainId is the wallet's chain) —
 *   and `personal_sign` (hex data, then the connected account).
 *   Errors are EIP-1193 `ProviderRpcError`s (`{ code, message }`; 4001 when the user rejects).
 * - {@link examplePageRoutes}: serves examples/browser/ (its index.html, and its main.ts bundled by
 *   esbuild, which takes `x402-autopay/browser` from dist/ through the package's exports) at `/example/`.
 * - {@link payInPage}: calls `wrapFetch(fetch, wallet)` of the built `x402-autopay/browser` IN
 *   THE PAGE with one of three wallets (a viem local account made in the page from a key, the
 *   injected provider itself, or a viem `WalletClient` over `custom(window.ethereum)`), and
 *   returns the response's status, body and `getPayment()` receipt, or the error's fields.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';
import type { Page } from 'playwright-core';
import type { Hex, LocalAccount } from 'viem';
import type { RouteHandler } from './browserServer.js';

/** A JSON-RPC request as the page sent it. */
export interface WalletCall {
  method: string;
  params: unknown[];
}

/** The Node side of an injected wallet. */
export interface InjectedWallet {
  /** Every request the page made, in order. */
  readonly calls: WalletCall[];
  /** The user rejects the next signature request (EIP-1193 error 4001). */
  rejectNextSignature(): void;
}

type RpcReply = { result: unknown } | { error: { code: number; message: string } };

/** `window.ethereum` as injected: talks to the binding `__x402TestWallet` with JSON text both ways. */
const PROVIDER_SCRIPT = `(() => {
  const listeners = new Map();
  const provider = {
    isX402TestWallet: true,
    async request(args) {
      if (!args || typeof args.method !== 'string') throw Object.assign(new Error('Invalid request'), { code: -32600 });
      const reply = JSON.parse(await window.__x402TestWallet(JSON.stringify({ method: args.method, params: args.params ?? [] })));
      if (reply.error) throw Object.assign(new Error(reply.error.message), { code: reply.error.code });
      return reply.result;
    },
    on(event, listener) { (listeners.get(event) ?? listeners.set(event, new Set()).get(event)).add(listener); return provider; },
    removeListener(event, listener) { listeners.get(event)?.delete(listener); return provider; },
  };
  Object.defineProperty(window, 'ethereum', { value: provider, configurable: false, writable: false });
})();`;

/**
 * Injects `window.ethereum` backed by `account` into every document `page` loads from now on
 * (call it before `openTestPage`). The wallet starts disconnected: `eth_accounts` is `[]` until
 * the page asks `eth_requestAccounts` (the user approves at once).
 */
export async function injectWallet(page: Page, account: LocalAccount, chainId: number): Promise<InjectedWallet> {
  const calls: WalletCall[] = [];
  let connected = false;
  let rejectNext = false;
  const fail = (code: number, message: string): RpcReply => ({ error: { code, message } });

  const answer = async ({ method, params }: WalletCall): Promise<RpcReply> => {
    switch (method) {
      case 'eth_chainId':
        return { result: `0x${chainId.toString(16)}` };
      case 'eth_accounts':
        return { result: connected ? [account.address] : [] };
      case 'eth_requestAccounts':
        connected = true;
        return { result: [account.address] };
      case 'eth_signTypedData_v4': {
        const [from, text] = params;
        if (!connected) return fail(4100, 'The requested account and/or method has not been authorized by the user.');
        if (typeof from !== 'string' || from.toLowerCase() !== account.address.toLowerCase()) return fail(4100, `Unknown signer ${String(from)}`);
        if (typeof text !== 'string') return fail(-32602, 'Invalid params: typed data must be JSON text');
        if (rejectNext) {
          rejectNext = false;
          return fail(4001, 'User rejected the request.');
        }
        const typed = JSON.parse(text) as { domain: Record<string, unknown>; types: Record<string, { name: string; type: string }[]>; primaryType: string; message: Record<string, unknown> };
        const domainChain = typed.domain['chainId'];
        if (domainChain === undefined || BigInt(domainChain as string | number) !== BigInt(chainId)) {
          return fail(-32602, `Provided chainId "${String(domainChain)}" must match the active chainId "${chainId}"`);
        }
        // Integers arrive as decimal strings or numbers; viem takes bigints.
        const fields = typed.types[typed.primaryType] ?? [];
        const message = Object.fromEntries(
          Object.entries(typed.message).map(([name, value]) => {
            const type = fields.find((field) => field.name === name)?.type ?? '';
            return [name, /^u?int\d*$/.test(type) ? BigInt(value as string | number) : value];
          }),
        );
        const signature: Hex = await account.signTypedData({
          domain: { ...typed.domain, chainId: Number(domainChain) },
          types: typed.types,
          primaryType: typed.primaryType,
          message,
        } as Parameters<LocalAccount['signTypedData']>[0]);
        return { result: signature };
      }
      case 'personal_sign': {
        const [data, from] = params;
        if (!connected) return fail(4100, 'The requested account and/or method has not been authorized by the user.');
        if (typeof from !== 'string' || from.toLowerCase() !== account.address.toLowerCase()) return fail(4100, `Unknown signer ${String(from)}`);
        if (typeof data !== 'string' || !/^0x([0-9a-fA-F]{2})*$/.test(data)) return fail(-32602, 'Invalid params: the message must be hex data');
        if (rejectNext) {
          rejectNext = false;
          return fail(4001, 'User rejected the request.');
        }
        return { result: await account.signMessage({ message: { raw: data as Hex } }) };
      }
      default:
        return fail(4200, `The wallet does not support ${method}`);
    }
  };

  await page.exposeBinding('__x402TestWallet', async (_source, json: string) => {
    const call = JSON.parse(json) as WalletCall;
    calls.push(call);
    try {
      return JSON.stringify(await answer(call));
    } catch (error) {
      return JSON.stringify(fail(-32603, `Internal error: ${String(error)}`));
    }
  });
  await page.addInitScript({ content: PROVIDER_SCRIPT });
  return {
    calls,
    rejectNextSignature: () => {
      rejectNext = true;
    },
  };
}

/** Which wallet the page pays with. */
export type PageWallet =
  | { readonly kind: 'local-account'; readonly privateKey: Hex }
  | { readonly kind: 'eip1193' }
  | { readonly kind: 'wallet-client' };

/** What {@link payInPage} brings back from the page (JSON only). */
export type PageOutcome =
  | {
      ok: true;
      status: number;
      body: unknown;
      /** `JSON.parse(JSON.stringify(getPayment(response)))`: amounts as decimal strings; null when nothing was paid. */
      payment: { status: string; amount: string; asset: string; network: string; payTo: string; payer: string; transaction?: string } | null;
      /** What the page could read of the x402 receipt headers. */
      readable: { paymentResponse: boolean; xPaymentResponse: boolean };
      /** The spend report's statuses, oldest first. */
      report: string[];
      /** With `signIn`: each sign-in the call made, as its event said. */
      signIns: { granted: boolean; status?: number }[];
    }
  | {
      ok: false;
      error: { name: string; message: string; code?: string; reason?: string; moneyMoved?: string; x402: boolean };
      report: string[];
    };

/** Loads `viem` (the import map's bundle) into the page as `window.viem`, once. */
async function loadViem(page: Page): Promise<void> {
  const loaded = await page.evaluate(() => 'viem' in window);
  if (loaded) return;
  await page.addScriptTag({ type: 'module', content: `import * as viem from 'viem'; window.viem = viem;` });
  await page.waitForFunction(() => 'viem' in window, undefined, { timeout: 10_000 });
}

/**
 * In the page: `wrapFetch(fetch, wallet, { budget })` then `paidFetch(url, init)`, and the
 * outcome. `url` may be relative to the page.
 */
export async function payInPage(
  page: Page,
  args: { url: string; wallet: PageWallet; init?: { method?: string; headers?: Record<string, string>; body?: string }; signIn?: boolean },
): Promise<PageOutcome> {
  if (args.wallet.kind === 'wallet-client') await loadViem(page);
  return page.evaluate(async ({ url, wallet, init, signIn }) => {
    type Globals = {
      x402: typeof import('../../src/browser/index.js');
      viemAccounts: typeof import('viem/accounts');
      viem: typeof import('viem');
      ethereum: import('../../src/index.js').Eip1193Provider;
    };
    const g = window as unknown as Globals;
    const { x402 } = g;
    let signer: import('../../src/index.js').WalletInput;
    if (wallet.kind === 'local-account') signer = g.viemAccounts.privateKeyToAccount(wallet.privateKey);
    else if (wallet.kind === 'eip1193') signer = g.ethereum;
    else {
      // The usual dapp flow: connect, then a WalletClient whose account is the JSON-RPC account.
      const [address] = await g.viem.createWalletClient({ transport: g.viem.custom(g.ethereum) }).requestAddresses();
      signer = g.viem.createWalletClient({ account: address!, transport: g.viem.custom(g.ethereum) });
    }
    const signIns: { granted: boolean; status?: number }[] = [];
    const paidFetch = x402.wrapFetch(fetch, signer, {
      budget: { perRequest: '0.05', daily: '0.50' },
      ...(signIn ? { signIn: x402.signInWithX(), on: { signIn: (e) => signIns.push({ granted: e.granted, ...(e.status === undefined ? {} : { status: e.status }) }) } } : {}),
    });
    const report = async () => (await paidFetch.budget.report()).map((record) => record.status);
    try {
      const response = await paidFetch(url, init);
      const text = await response.text();
      let body: unknown = text;
      try {
        body = JSON.parse(text);
      } catch {
        // not JSON: keep the text
      }
      const payment = x402.getPayment(response);
      return {
        ok: true as const,
        status: response.status,
        body,
        payment: payment ? (JSON.parse(JSON.stringify(payment)) as never) : null,
        readable: { paymentResponse: response.headers.has('PAYMENT-RESPONSE'), xPaymentResponse: response.headers.has('X-PAYMENT-RESPONSE') },
        report: await report(),
        signIns,
      };
    } catch (error) {
      const e = error as { name?: string; message?: string; code?: string; reason?: string; moneyMoved?: string };
      return {
        ok: false as const,
        error: { name: String(e?.name), message: String(e?.message), code: e?.code, reason: e?.reason, moneyMoved: e?.moneyMoved, x402: x402.isX402Error(error) },
        report: await report(),
      };
    }
  }, args);
}

const EXAMPLE = join(import.meta.dirname, '../../examples/browser');

/**
 * A `RouteHandler` serving examples/browser/ at `/example/`: `index.html` as written, and
 * `main.ts` as one ES module bundled here (from the built dist/, so `npm run build` first).
 */
export async function examplePageRoutes(): Promise<RouteHandler> {
  const html = readFileSync(join(EXAMPLE, 'index.html'), 'utf8');
  const bundled = await build({
    entryPoints: [join(EXAMPLE, 'main.ts')],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    write: false,
    logLevel: 'error',
  });
  const js = bundled.outputFiles[0]!.text;
  return (request, response) => {
    const path = new URL(request.url ?? '/', 'http://127.0.0.1').pathname;
    const file = path === '/example/' || path === '/example/index.html' ? { type: 'text/html; charset=utf-8', body: html } : path === '/example/main.ts' ? { type: 'text/javascript; charset=utf-8', body: js } : undefined;
    if (!file) return false;
    response.writeHead(200, { 'Content-Type': file.type, 'Cache-Control': 'no-store' });
    response.end(file.body);
    return true;
  };
}
