import { http, HttpResponse, type HttpHandler } from 'msw';
import { setupServer } from 'msw/node';
import { encodeBase64Json } from '../../src/protocol/codec.js';
import { afterAll, afterEach, beforeAll } from 'vitest';

/** An msw server for one test file; unhandled requests fail the test. */
export function useMswServer() {
  const server = setupServer();
  beforeAll(() => server.listen({ onUnhandledRequest: 'error' }));
  afterEach(() => server.resetHandlers());
  afterAll(() => server.close());
  return server;
}

/** What a handler saw of one request: everything a test asserts about the wire. */
export interface SeenRequest {
  readonly method: string;
  readonly url: string;
  /** Every header, names lower-cased. */
  readonly headers: Record<string, string>;
  /** The raw body bytes as received. */
  readonly bytes: Uint8Array<ArrayBuffer>;
  /** The body as UTF-8 text. */
  readonly text: string;
  readonly credentials: RequestCredentials;
  readonly redirect: RequestRedirect;
  /** True when the request carried `PAYMENT-SIGNATURE` or `X-PAYMENT`. */
  readonly paid: boolean;
}

/** Records a request as a handler received it (reads a clone, so the handler may still read it). */
export async function recordRequest(request: Request): Promise<SeenRequest> {
  const bytes = new Uint8Array(await request.clone().arrayBuffer());
  const headers: Record<string, string> = {};
  request.headers.forEach((value, name) => {
    headers[name.toLowerCase()] = value;
  });
  return {
    method: request.method,
    url: request.url,
    headers,
    bytes,
    text: new TextDecoder().decode(bytes),
    credentials: request.credentials,
    redirect: request.redirect,
    paid: 'payment-signature' in headers || 'x-payment' in headers,
  };
}

/** Parses the multipart body a handler received, the way a server would. */
export async function parseFormData(seen: SeenRequest): Promise<FormData> {
  return new Response(seen.bytes, { headers: { 'content-type': seen.headers['content-type'] ?? '' } }).formData();
}

/** A v2 402: `PAYMENT-REQUIRED` header with the challenge, `{}` JSON body (as the ref server). */
export function challengeV2(required: unknown, init: { body?: unknown; headers?: Record<string, string> } = {}): Response {
  return HttpResponse.json((init.body ?? {}) as Record<string, unknown>, {
    status: 402,
    headers: { 'PAYMENT-REQUIRED': encodeBase64Json(required), ...init.headers },
  });
}

/** A v1 402: the challenge as the JSON body. */
export function challengeV1(body: unknown): Response {
  return HttpResponse.json(body as Record<string, unknown>, { status: 402 });
}

/** A paywalled endpoint: answers unpaid requests with `challenge()`, paid ones with `paid(seen)`. */
export interface Paywall {
  readonly handler: HttpHandler;
  /** Every request the endpoint received, in order. */
  readonly seen: SeenRequest[];
  /** The requests that carried a payment header. */
  paid(): SeenRequest[];
}

/** Builds a {@link Paywall} for `method url`. */
export function paywall(args: {
  url: string;
  method?: 'get' | 'post' | 'put' | 'patch' | 'delete' | 'all';
  challenge: (seen: SeenRequest) => Response;
  paid?: (seen: SeenRequest) => Response | Promise<Response>;
}): Paywall {
  const seen: SeenRequest[] = [];
  const handler = http[args.method ?? 'all'](args.url, async ({ request }) => {
    const record = await recordRequest(request);
    seen.push(record);
    if (!record.paid) return args.challenge(record);
    return args.paid ? args.paid(record) : HttpResponse.json({ ok: true });
  });
  return { handler, seen, paid: () => seen.filter((s) => s.paid) };
}

/**
 * The global fetch (so msw still answers), whose answers are remade as the `undici` package's
 * Response: another realm's class, for which `instanceof Response` is false, as a caller's
 * `fetch` (undici's own, a polyfill) may give.
 */
export const foreignRealmFetch: typeof fetch = async (input, init) => {
  const { Response: ForeignResponse } = await import('undici');
  const answer = await fetch(input, init);
  const body = answer.body === null ? null : await answer.arrayBuffer();
  const foreign = new ForeignResponse(body, { status: answer.status, statusText: answer.statusText, headers: [...answer.headers] });
  if (foreign instanceof Response) throw new Error('foreignRealmFetch: undici Response is the global Response here');
  return foreign as unknown as Response;
};
