/**
 * A local HTTP server for the browser tests, on 127.0.0.1 (a secure context, so Web Locks and
 * Web Crypto exist). It serves:
 *
 * - `/` — a test page whose import map resolves `x402-autopay/browser` and
 *   `x402-autopay/testing` to the built `dist/browser.js` and `dist/testing.js` (which load their
 *   chunks themselves) and the peers `viem` and `zod/mini` to bundles made here with esbuild.
 *   Once loaded, the page holds the package as `window.x402`, its testing entry as
 *   `window.x402Testing` and `viem/accounts` as `window.viemAccounts`, and sets `window.x402Ready`: use
 *   {@link openTestPage} to wait for it.
 * - `/dist/<file>` — the built ESM files as they are (run `npm run build` first), as they were
 *   when the server started;
 * - `/resolved/<file>` — the same files with the peers' bare specifiers rewritten to `/vendor/…`,
 *   for workers, which have no import map;
 * - `/worker.js` — a module worker holding the package; from the page, `await window.startWorker()`
 *   gives `{ run(source, args) }`, which runs the function whose source text is `source` in the
 *   worker as `fn(x402, args)` and resolves with its (structured-cloneable) result;
 * - `/vendor/viem.js`, `/vendor/viem-accounts.js`, `/vendor/zod-mini.js` — the peers;
 * - anything a test's `routes` handler answers (a 402 endpoint, …), tried first.
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { build } from 'esbuild';
import type { Page } from 'playwright-core';

const ROOT = join(import.meta.dirname, '../..');
const DIST = join(ROOT, 'dist');

/** Answers a request and returns true, or returns false to let the server answer it. */
export type RouteHandler = (request: IncomingMessage, response: ServerResponse) => boolean | Promise<boolean>;

/** A running {@link startBrowserServer}. */
export interface BrowserServer {
  /** `http://127.0.0.1:<port>` */
  readonly origin: string;
  /** Absolute URL of a path on this server. */
  url(path: string): string;
  close(): Promise<void>;
}

let vendorCache: Promise<Map<string, string>> | undefined;

/** Bundles the peers once per process: every export of `viem` plus `viem/accounts`, and `zod/mini`. */
function vendor(): Promise<Map<string, string>> {
  vendorCache ??= (async () => {
    const bundle = async (contents: string) => {
      const result = await build({
        stdin: { contents, resolveDir: ROOT, loader: 'js' },
        bundle: true,
        format: 'esm',
        platform: 'browser',
        target: 'es2022',
        write: false,
        logLevel: 'silent',
      });
      return result.outputFiles[0]!.text;
    };
    const [viem, zodMini] = await Promise.all([bundle(`export * from 'viem';`), bundle(`export * from 'zod/mini';`)]);
    const accounts = await bundle(`export * from 'viem/accounts';`);
    return new Map([
      ['/vendor/viem.js', viem],
      ['/vendor/viem-accounts.js', accounts],
      ['/vendor/zod-mini.js', zodMini],
    ]);
  })();
  return vendorCache;
}

const PAGE = `<!doctype html>
<html>
<head>
<meta charset="utf-8">
<title>x402-autopay browser test page</title>
<script type="importmap">
{ "imports": {
  "x402-autopay/browser": "/dist/browser.js",
  "x402-autopay/testing": "/dist/testing.js",
  "viem": "/vendor/viem.js",
  "viem/accounts": "/vendor/viem-accounts.js",
  "zod/mini": "/vendor/zod-mini.js"
} }
</script>
<script type="module">
import * as x402 from 'x402-autopay/browser';
import * as x402Testing from 'x402-autopay/testing';
import * as viemAccounts from 'viem/accounts';
window.x402 = x402;
window.x402Testing = x402Testing;
window.viemAccounts = viemAccounts;
window.startWorker = async () => {
  const worker = new Worker('/worker.js', { type: 'module' });
  await new Promise((resolve, reject) => {
    worker.addEventListener('message', (event) => event.data?.ready && resolve(), { once: true });
    worker.addEventListener('error', (event) => reject(new Error('worker failed to start: ' + event.message)), { once: true });
  });
  let serial = 0;
  return {
    worker,
    run: (source, args) =>
      new Promise((resolve, reject) => {
        const id = ++serial;
        const listener = (event) => {
          if (event.data?.id !== id) return;
          worker.removeEventListener('message', listener);
          event.data.ok ? resolve(event.data.value) : reject(new Error(event.data.error));
        };
        worker.addEventListener('message', listener);
        worker.postMessage({ id, source, args });
      }),
  };
};
window.x402Ready = true;
</script>
</head>
<body><h1>x402-autopay</h1></body>
</html>
`;

const WORKER = `import * as x402 from '/resolved/browser.js';
self.onmessage = async (event) => {
  const { id, source, args } = event.data;
  try {
    const fn = (0, eval)('(' + source + ')');
    self.postMessage({ id, ok: true, value: await fn(x402, args) });
  } catch (error) {
    self.postMessage({ id, ok: false, error: String(error && error.stack || error) });
  }
};
self.postMessage({ ready: true });
`;

const PEERS: Record<string, string> = { viem: '/vendor/viem.js', 'viem/accounts': '/vendor/viem-accounts.js', 'zod/mini': '/vendor/zod-mini.js' };

/** A built file with the peers' bare specifiers replaced by their `/vendor/` URLs. */
function resolvePeers(code: string): string {
  return code.replace(/(\bfrom\s*|\bimport\s*\(\s*|\bimport\s+)(["'])(viem|viem\/accounts|zod\/mini)\2/g, (_, lead: string, quote: string, name: string) => `${lead}${quote}${PEERS[name]}${quote}`);
}

/** Starts the server on 127.0.0.1 with a free port. */
export async function startBrowserServer(options: { routes?: RouteHandler } = {}): Promise<BrowserServer> {
  if (!existsSync(join(DIST, 'browser.js'))) throw new Error('dist/browser.js is missing: run `npm run build` before the browser tests.');
  const files = await vendor();
  // A snapshot of the build taken now, so that a rebuild during the run cannot pull files away.
  const built = new Map(readdirSync(DIST).filter((f) => /^[\w-]+\.js(?:\.map)?$/.test(f)).map((f) => [f, readFileSync(join(DIST, f), 'utf8')]));
  const send = (response: ServerResponse, status: number, type: string, body: string | Buffer) => {
    response.writeHead(status, { 'Content-Type': type, 'Cache-Control': 'no-store' });
    response.end(body);
  };
  const server = createServer((request, response) => {
    void (async () => {
      try {
        if (options.routes && (await options.routes(request, response))) return;
        const path = new URL(request.url ?? '/', 'http://127.0.0.1').pathname;
        if (request.method !== 'GET') return send(response, 405, 'text/plain', 'method not allowed');
        if (path === '/favicon.ico') return send(response, 204, 'text/plain', '');
        if (path === '/' || path === '/index.html') return send(response, 200, 'text/html; charset=utf-8', PAGE);
        const vendored = files.get(path);
        if (vendored !== undefined) return send(response, 200, 'text/javascript; charset=utf-8', vendored);
        if (path === '/worker.js') return send(response, 200, 'text/javascript; charset=utf-8', WORKER);
        const dist = /^\/(dist|resolved)\/([\w-]+\.js(?:\.map)?)$/.exec(path);
        const code = dist ? built.get(dist[2]!) : undefined;
        if (dist && code !== undefined) {
          if (dist[2]!.endsWith('.map')) return send(response, 200, 'application/json', code);
          return send(response, 200, 'text/javascript; charset=utf-8', dist[1] === 'resolved' ? resolvePeers(code) : code);
        }
        send(response, 404, 'text/plain', 'not found');
      } catch (error) {
        if (!response.headersSent) send(response, 500, 'text/plain', String(error));
        else response.destroy();
      }
    })();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    origin,
    url: (path) => new URL(path, origin).href,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/**
 * Opens the test page in `page` and waits until the package is loaded. Errors of the page
 * (uncaught exceptions, console errors, answers ≥ 400 other than 402) are collected in the
 * returned list, which keeps filling while the page lives.
 */
export async function openTestPage(page: Page, server: BrowserServer): Promise<string[]> {
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(error.message));
  page.on('console', (message) => {
    if (message.type() === 'error') errors.push(message.text());
  });
  page.on('response', (response) => {
    if (response.status() >= 400 && response.status() !== 402) errors.push(`${response.status()} ${response.url()}`);
  });
  await page.goto(server.url('/'));
  try {
    await page.waitForFunction(() => (window as unknown as { x402Ready?: boolean }).x402Ready === true, undefined, { timeout: 10_000 });
  } catch (error) {
    throw new Error(`the test page did not load the package: ${errors.join('; ') || String(error)}`);
  }
  return errors;
}
