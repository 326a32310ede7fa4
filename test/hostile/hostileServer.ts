/**
 * A real hostile HTTP server (node:http on 127.0.0.1, ephemeral port) with scenario routes, for
 * the hostile suite (THREATS.md §1 harness "H"). Routes are keyed by virtual host and path, so
 * one server plays many origins (`api.hostile.test`, `billing.hostile.test`, lookalikes…);
 * `installTestDns()` makes every `*.test` name resolve to 127.0.0.1. A second instance plays the
 * canary origin "C": it records every request and every payment header it receives.
 */
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import dns from 'node:dns';
import type { AddressInfo } from 'node:net';
import { once } from 'node:events';
import { encodeBase64Json } from '../../src/protocol/codec.js';

/** One request as the server received it. */
export interface Seen {
  readonly host: string;
  readonly method: string;
  readonly path: string;
  /** Header names lower-cased. */
  readonly headers: Readonly<Record<string, string>>;
  /** `PAYMENT-SIGNATURE` or `X-PAYMENT`, when present. */
  readonly payment: string | undefined;
}

/** What a scenario handler gets besides the raw request and response. */
export interface Ctx {
  readonly seen: Seen;
  /** True when the request carried a payment header. */
  readonly paid: boolean;
  /** How many requests this route has received, this one included. */
  readonly count: number;
  /** The request body, read in full (small in this suite). */
  readonly body: string;
}

export type Handler = (req: IncomingMessage, res: ServerResponse, ctx: Ctx) => void | Promise<void>;

export interface HostileServer {
  readonly port: number;
  /** `http://<host>:<port><path>`. */
  url(host: string, path: string): string;
  /** Serves `path` on virtual host `host` (`*` for any host). Replaces an earlier route. */
  route(host: string, path: string, handler: Handler): void;
  /** Every request received, in order. */
  readonly seen: readonly Seen[];
  /** Every payment header received, in order. */
  paymentHeaders(): string[];
  /** Forgets routes and records. */
  reset(): void;
  close(): Promise<void>;
}

/** Starts a hostile server on 127.0.0.1 (ephemeral port). */
export async function startHostileServer(): Promise<HostileServer> {
  const routes = new Map<string, { handler: Handler; count: number }>();
  const seen: Seen[] = [];
  const sockets = new Set<import('node:net').Socket>();
  const server = http.createServer(async (req, res) => {
    const hostHeader = req.headers.host ?? '';
    const host = hostHeader.replace(/:\d+$/, '').toLowerCase();
    const path = (req.url ?? '/').split('?')[0]!;
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(req.headers)) headers[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : (value ?? '');
    const payment = headers['payment-signature'] ?? headers['x-payment'];
    const record: Seen = { host, method: req.method ?? 'GET', path, headers, payment };
    seen.push(record);
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const route = routes.get(`${host}${path}`) ?? routes.get(`*${path}`);
    if (!route) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('no such route');
      return;
    }
    route.count++;
    try {
      await route.handler(req, res, { seen: record, paid: payment !== undefined, count: route.count, body: Buffer.concat(chunks).toString('utf8') });
    } catch {
      if (!res.headersSent) res.writeHead(500).end();
      else res.destroy();
    }
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    url: (host, path) => `http://${host}:${port}${path}`,
    route(host, path, handler) {
      routes.set(`${host.toLowerCase()}${path}`, { handler, count: 0 });
    },
    seen,
    paymentHeaders: () => seen.flatMap((s) => (s.payment === undefined ? [] : [s.payment])),
    reset() {
      routes.clear();
      seen.length = 0;
    },
    async close() {
      for (const socket of sockets) socket.destroy();
      server.close();
      await once(server, 'close').catch(() => undefined);
    },
  };
}

let dnsInstalled = false;
/** Makes every `*.test` host name (RFC 2606) resolve to 127.0.0.1 in this process: virtual hosts on loopback. */
export function installTestDns(): void {
  if (dnsInstalled) return;
  dnsInstalled = true;
  const original = dns.lookup;
  const patched = function (this: unknown, hostname: string, options: unknown, callback?: unknown) {
    const cb = (typeof options === 'function' ? options : callback) as (...args: unknown[]) => void;
    const opts = (typeof options === 'object' && options !== null ? options : {}) as { all?: boolean };
    if (typeof hostname === 'string' && /\.test\.?$/i.test(hostname)) {
      if (opts.all) process.nextTick(cb, null, [{ address: '127.0.0.1', family: 4 }]);
      else process.nextTick(cb, null, '127.0.0.1', 4);
      return;
    }
    return (original as (...args: unknown[]) => unknown).call(this, hostname, options, callback);
  };
  (dns as { lookup: unknown }).lookup = patched;
}

// ---------------------------------------------------------------------------------------------
// Scenario building blocks.

/** Writes `chunk()` until `total` bytes went out (Infinity: forever), respecting backpressure, stopping when the client goes. */
export async function pump(res: ServerResponse, chunk: Buffer, total: number, pauseMs = 0): Promise<void> {
  let sent = 0;
  let gone = false;
  res.on('close', () => {
    gone = true;
  });
  while (!gone && sent < total) {
    const piece = total - sent >= chunk.length ? chunk : chunk.subarray(0, total - sent);
    sent += piece.length;
    if (!res.write(piece)) {
      await Promise.race([once(res, 'drain'), once(res, 'close')]).catch(() => undefined);
    }
    if (pauseMs > 0) await new Promise((r) => setTimeout(r, pauseMs));
  }
  if (!gone) res.end();
}

/** A v2 402: `PAYMENT-REQUIRED` with the challenge; a JSON body (`{}` unless given). */
export function send402v2(res: ServerResponse, required: unknown, init: { body?: string; headers?: Record<string, string> } = {}): void {
  res.writeHead(402, { 'content-type': 'application/json', 'payment-required': encodeBase64Json(required), ...init.headers });
  res.end(init.body ?? '{}');
}

/** A v1 402 (or a v2 one without the header): the challenge as the JSON body, or a raw body text. */
export function send402body(res: ServerResponse, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(402, { 'content-type': 'application/json', ...headers });
  res.end(typeof body === 'string' ? body : JSON.stringify(body));
}

/** A 200 with a JSON body and optional settlement header. */
export function sendOk(res: ServerResponse, settlement?: Record<string, unknown>, body = '{"ok":true}', contentType = 'application/json'): void {
  res.writeHead(200, {
    'content-type': contentType,
    ...(settlement ? { 'payment-response': encodeBase64Json(settlement), 'x-payment-response': encodeBase64Json(settlement) } : {}),
  });
  res.end(body);
}

/** A paywall: the unpaid request gets `challenge`, the paid one `paid` (default: 200 with a settled receipt). */
export function paywall(challenge: Handler, paid?: Handler): Handler {
  return (req, res, ctx) => (ctx.paid ? (paid ?? settledOk)(req, res, ctx) : challenge(req, res, ctx));
}

/** A random-looking transaction hash, different each call. */
export function txHash(seed: number): string {
  return `0x${seed.toString(16).padStart(8, '0').repeat(8)}`;
}

let txSeed = 1;
/** 200 with a successful settlement receipt naming the payer the payment header claims. */
export const settledOk: Handler = (req, res, ctx) => settledAs('application/json', '{"ok":true}')(req, res, ctx);

/** Like {@link settledOk}, with another body and `Content-Type` (an error page, say). */
export function settledAs(contentType: string, body: string): Handler {
  return (_req, res, ctx) => {
    const payer = payerOf(ctx.seen.payment);
    const network = networkOf(ctx.seen.payment);
    sendOk(res, { success: true, transaction: txHash(txSeed++), network, payer }, body, contentType);
  };
}

/** The decoded payment header (test side, lenient). */
export function decodePayment(value: string | undefined): Record<string, any> {
  if (value === undefined) throw new Error('no payment header');
  return JSON.parse(Buffer.from(value, 'base64').toString('utf8'));
}

function payerOf(header: string | undefined): string | undefined {
  try {
    return decodePayment(header).payload.authorization.from;
  } catch {
    return undefined;
  }
}

function networkOf(header: string | undefined): string | undefined {
  try {
    const p = decodePayment(header);
    return p.x402Version === 2 ? p.accepted.network : p.network;
  } catch {
    return undefined;
  }
}
