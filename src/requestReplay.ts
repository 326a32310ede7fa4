import { keccak256, stringToBytes } from 'viem';
import { RequestBodyTooLargeError } from './errors/RequestBodyTooLargeError.js';
import { asRequest } from './internal/asRequest.js';
import { isStream } from './internal/isStream.js';

type FetchArgs = [input: RequestInfo | URL, init?: RequestInit];

/**
 * A request that can be sent twice: once as the caller wrote it, once more (with a payment
 * header) after a 402. Bodies that can be re-read (string, Blob, BufferSource, FormData,
 * URLSearchParams) are reused as they are; a stream (or a `Request`'s body) is buffered once,
 * up to a bound.
 */
export interface RequestReplay {
  /** Absolute URL of the request. */
  readonly url: string;
  /** HTTP method. */
  readonly method: string;
  /** The signal that aborts the call, if any. */
  readonly signal: AbortSignal | undefined;
  /** The request's `Idempotency-Key` header (trimmed), when it has a non-empty one. */
  idempotencyKey(): string | undefined;
  /** Whether the caller's request carries this header. */
  hasHeader(name: string): boolean;
  /**
   * A digest of the body (keccak-256 of its bytes; of its entries for a `FormData`; `none`
   * without a body): two calls with one `Idempotency-Key` must send the same body.
   */
  bodyDigest(): Promise<string>;
  /** Arguments for the first, unpaid send. */
  first(): FetchArgs;
  /**
   * Arguments for the paid send to `url` (the URL that answered 402): every header of the
   * original plus `extraHeaders`, the same body, and `redirect: 'manual'` so the payment header
   * never follows a redirect.
   */
  paid(url: string, extraHeaders: Readonly<Record<string, string>>): FetchArgs;
}

/** Prepares a replayable request from fetch arguments; buffers a stream body up to `maxBodyBytes`. */
export async function prepareReplay(input: RequestInfo | URL, init: RequestInit | undefined, maxBodyBytes: number): Promise<RequestReplay> {
  const request = asRequest(input);
  const url = request ? request.url : absoluteUrl(String(input instanceof URL ? input.href : input));
  const method = (init?.method ?? request?.method ?? 'GET').toUpperCase();
  const signal = init?.signal ?? request?.signal ?? undefined;
  let body: BodyInit | null | undefined = init?.body;
  let buffered = false;
  if (body === undefined || body === null) {
    if (request && request.body !== null && body === undefined) {
      body = await bufferStream(request.body, maxBodyBytes, url);
      buffered = true;
    }
  } else if (isStream(body)) {
    body = await bufferStream(body, maxBodyBytes, url);
    buffered = true;
  }
  const withBody = (base: RequestInit | undefined): RequestInit | undefined =>
    buffered ? { ...base, body } : base;

  let key: { value: string | undefined } | undefined;
  return {
    url,
    method,
    signal: signal ?? undefined,
    idempotencyKey: () => {
      // Read only when paying: most requests never need it.
      key ??= { value: new Headers(init?.headers ?? request?.headers).get('idempotency-key')?.trim() || undefined };
      return key.value;
    },
    hasHeader: (name) => new Headers(init?.headers ?? request?.headers).has(name),
    bodyDigest: () => digestOf(body),
    first: () => [input, withBody(init)],
    paid: (target, extraHeaders) => {
      const headers = new Headers(init?.headers ?? request?.headers);
      for (const [name, value] of Object.entries(extraHeaders)) headers.set(name, value);
      const paidInit: RequestInit = { ...withBody(init), headers, redirect: 'manual' };
      if (target === url) return [input, paidInit];
      // The 402 came from where a redirect led: pay that URL, with the original request's fields.
      return [target, { ...requestFields(request), ...paidInit, method, ...(body !== undefined ? { body } : {}) }];
    },
  };
}

/**
 * A relative URL (`fetch('/api/data')` in a page or a worker) resolved the way fetch resolves
 * it: against the document's base URL, or the worker's location. Absolute URLs, and anything
 * when there is no base (Node), are returned as given.
 */
function absoluteUrl(raw: string): string {
  const scope = globalThis as { document?: { baseURI?: unknown }; location?: { href?: unknown } };
  const base = typeof scope.document?.baseURI === 'string' ? scope.document.baseURI : scope.location?.href;
  if (typeof base !== 'string') return raw;
  try {
    new URL(raw);
    return raw;
  } catch {
    try {
      return new URL(raw, base).href;
    } catch {
      return raw;
    }
  }
}

let opaqueBodies = 0;

/** See {@link RequestReplay.bodyDigest}: `body` is the caller's (a stream already buffered into bytes). */
async function digestOf(body: BodyInit | null | undefined): Promise<string> {
  if (body === undefined || body === null) return 'none';
  if (typeof body === 'string') return keccak256(stringToBytes(body));
  if (body instanceof URLSearchParams) return keccak256(stringToBytes(body.toString()));
  if (typeof Blob !== 'undefined' && body instanceof Blob) return keccak256(new Uint8Array(await body.arrayBuffer()));
  if (typeof FormData !== 'undefined' && body instanceof FormData) {
    // Its multipart encoding has a random boundary: the entries are digested instead.
    const parts: string[] = [];
    for (const [name, value] of body) parts.push(name, typeof value === 'string' ? `s:${value}` : `f:${value.name}:${value.type}:${await digestOf(value)}`);
    return keccak256(stringToBytes(JSON.stringify(parts)));
  }
  if (body instanceof ArrayBuffer || ArrayBuffer.isView(body)) return keccak256(toBytes(body));
  // A body of another kind cannot be compared: it never matches, not even itself.
  return `opaque:${++opaqueBodies}`;
}

async function bufferStream(stream: ReadableStream<Uint8Array> | AsyncIterable<Uint8Array>, max: number, url: string): Promise<Uint8Array<ArrayBuffer>> {
  const chunks: Uint8Array[] = [];
  let total = 0;
  const add = (chunk: unknown): boolean => {
    const bytes = typeof chunk === 'string' ? new TextEncoder().encode(chunk) : toBytes(chunk);
    total += bytes.byteLength;
    if (total > max) return false;
    chunks.push(bytes);
    return true;
  };
  if (typeof ReadableStream !== 'undefined' && stream instanceof ReadableStream) {
    const reader = stream.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      if (!add(value)) {
        // Not awaited: on a tee'd stream (a cloned Request) the cancel settles only with the other branch.
        reader.cancel().catch(() => undefined);
        throw new RequestBodyTooLargeError({ url, limit: max });
      }
    }
  } else {
    for await (const chunk of stream as AsyncIterable<unknown>) {
      if (!add(chunk)) throw new RequestBodyTooLargeError({ url, limit: max });
    }
  }
  const out = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return out;
}

function toBytes(chunk: unknown): Uint8Array {
  if (chunk instanceof Uint8Array) return chunk;
  if (chunk instanceof ArrayBuffer) return new Uint8Array(chunk);
  if (ArrayBuffer.isView(chunk)) return new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength);
  throw new TypeError('request body stream yielded a chunk that is not bytes');
}

function requestFields(request: Request | undefined): RequestInit {
  if (!request) return {};
  return {
    method: request.method,
    headers: request.headers,
    credentials: request.credentials,
    mode: request.mode === 'navigate' ? 'same-origin' : request.mode,
    cache: request.cache,
    referrer: request.referrer,
    referrerPolicy: request.referrerPolicy,
    integrity: request.integrity,
    keepalive: request.keepalive,
    signal: request.signal,
  };
}
