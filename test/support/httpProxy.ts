/**
 * Reverse proxies for the browser payment tests, on 127.0.0.1, forwarding to the local stack's
 * official x402 servers byte for byte (request and answer bodies are buffered: they are small):
 *
 * - {@link proxyRoutes}: a `RouteHandler` for `startBrowserServer({ routes })` that mounts the
 *   paid APIs under the page's own origin (`/api/v2/*` → the v2 server, …), the way an app puts
 *   its API behind the same host as its pages. No CORS is involved.
 * - {@link startCorsFront}: another origin in front of one paid server, with a chosen CORS
 *   behaviour: no CORS headers at all, or `Access-Control-Allow-Origin` (and preflight answers)
 *   WITHOUT `Access-Control-Expose-Headers` — what an operator gets by adding a plain CORS
 *   middleware to the official servers — optionally also copying the v2 `PAYMENT-REQUIRED`
 *   object into the 402 body (a server that offers the body fallback). Upstream
 *   `Access-Control-*` headers are always dropped, so the front alone decides what the browser
 *   may read.
 *
 * The `Host` header is passed on unchanged (like `proxy_set_header Host $host`), so the servers
 * name the origin the browser used.
 */
import { createServer, request as httpRequest, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { RouteHandler } from './browserServer.js';

/** Hop-by-hop headers (RFC 9110 §7.6.1): never forwarded. */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'te', 'trailer', 'upgrade', 'proxy-authenticate', 'proxy-authorization']);

/** An upstream answer, buffered. */
export interface ProxiedAnswer {
  status: number;
  headers: Record<string, string | string[]>;
  body: Buffer;
}

function readAll(stream: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    stream.on('end', () => resolve(Buffer.concat(chunks)));
    stream.on('error', reject);
  });
}

function endToEnd(headers: IncomingHttpHeaders): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined && !HOP_BY_HOP.has(name) && name !== 'content-length') out[name] = value;
  }
  return out;
}

/** Sends `request` (with its buffered body) to `target` + `path`, and buffers the answer. */
export async function forward(request: IncomingMessage, target: string, path: string): Promise<ProxiedAnswer> {
  const body = await readAll(request);
  const url = new URL(path, target);
  const headers = endToEnd(request.headers);
  if (body.byteLength > 0) headers['content-length'] = String(body.byteLength);
  return new Promise<ProxiedAnswer>((resolve, reject) => {
    const upstream = httpRequest(url, { method: request.method, headers }, (answer) => {
      readAll(answer).then((bytes) => resolve({ status: answer.statusCode ?? 502, headers: endToEnd(answer.headers), body: bytes }), reject);
    });
    upstream.on('error', reject);
    upstream.end(body);
  });
}

function reply(response: ServerResponse, answer: ProxiedAnswer): void {
  response.writeHead(answer.status, { ...answer.headers, 'content-length': String(answer.body.byteLength) });
  response.end(answer.body);
}

/**
 * Mounts paid APIs on the page's origin: `{ '/api/v2': stack.v2.url }` forwards
 * `/api/v2/weather?x` to `<v2>/weather?x`. Other paths are left to the page server.
 */
export function proxyRoutes(mounts: Readonly<Record<string, string>>): RouteHandler {
  return async (request, response) => {
    const raw = request.url ?? '/';
    for (const [prefix, target] of Object.entries(mounts)) {
      if (raw === prefix || raw.startsWith(`${prefix}/`) || raw.startsWith(`${prefix}?`)) {
        const rest = raw.slice(prefix.length);
        reply(response, await forward(request, target, rest.startsWith('/') ? rest : `/${rest}`));
        return true;
      }
    }
    return false;
  };
}

/** How a {@link startCorsFront} answers cross-origin pages. */
export interface CorsFrontOptions {
  /** The paid server behind it (`stack.v2.url`, …). */
  readonly target: string;
  /**
   * `'none'`: no CORS headers at all (the official servers as they ship). `'allow-origin'`:
   * `Access-Control-Allow-Origin: *` and preflight answers allowing the payment headers, but no
   * `Access-Control-Expose-Headers`, so `PAYMENT-REQUIRED` / `PAYMENT-RESPONSE` /
   * `X-PAYMENT-RESPONSE` stay invisible to the page.
   */
  readonly cors: 'none' | 'allow-origin';
  /** Also put the v2 PaymentRequired (decoded from the header) in a 402's empty or `{}` body. */
  readonly bodyFallback?: boolean;
}

/** A running {@link startCorsFront}. */
export interface CorsFront {
  /** `http://127.0.0.1:<port>`: an origin of its own. */
  readonly url: string;
  /** Every request it received: method, path, and which payment header it carried. */
  readonly requests: { method: string; path: string; payment: string | undefined }[];
  close(): Promise<void>;
}

/** Starts a {@link CorsFrontOptions} front on 127.0.0.1 with a free port. */
export async function startCorsFront(options: CorsFrontOptions): Promise<CorsFront> {
  const requests: CorsFront['requests'] = [];
  const server = createServer((request, response) => {
    void (async () => {
      const payment = ['payment-signature', 'x-payment'].find((name) => request.headers[name] !== undefined);
      requests.push({ method: request.method ?? '', path: request.url ?? '/', payment });
      if (options.cors === 'allow-origin' && request.method === 'OPTIONS') {
        response.writeHead(204, {
          'access-control-allow-origin': '*',
          'access-control-allow-methods': 'GET, POST, OPTIONS',
          'access-control-allow-headers': 'Content-Type, PAYMENT-SIGNATURE, X-PAYMENT',
          'access-control-max-age': '0',
        });
        response.end();
        return;
      }
      const answer = await forward(request, options.target, request.url ?? '/');
      for (const name of Object.keys(answer.headers)) if (name.startsWith('access-control-')) delete answer.headers[name];
      if (options.cors === 'allow-origin') answer.headers['access-control-allow-origin'] = '*';
      const required = answer.headers['payment-required'];
      if (options.bodyFallback && answer.status === 402 && typeof required === 'string' && /^\s*(\{\s*\})?\s*$/.test(answer.body.toString('utf8'))) {
        answer.body = Buffer.from(Buffer.from(required, 'base64').toString('utf8'), 'utf8');
        answer.headers['content-type'] = 'application/json; charset=utf-8';
      }
      reply(response, answer);
    })().catch((error: unknown) => {
      if (!response.headersSent) {
        response.writeHead(502, { 'content-type': 'text/plain' });
        response.end(String(error));
      } else response.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
