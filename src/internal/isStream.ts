/**
 * Whether a request body is one fetch reads only once: a web `ReadableStream`, or an async
 * iterable (Node's fetch takes both), but not a `Blob` or `FormData`, which can be sent again.
 *
 * @param body - a fetch body.
 * @returns true for a body that cannot be sent twice as it is.
 *
 * @example
 * ```ts
 * import { isStream } from './isStream.js';
 * isStream(new ReadableStream()); // true
 * isStream('text'); // false
 * ```
 */
export function isStream(body: unknown): body is ReadableStream<Uint8Array> | AsyncIterable<Uint8Array> {
  if (typeof ReadableStream !== 'undefined' && body instanceof ReadableStream) return true;
  return (
    typeof body === 'object' &&
    body !== null &&
    typeof (body as AsyncIterable<unknown>)[Symbol.asyncIterator] === 'function' &&
    !(typeof Blob !== 'undefined' && body instanceof Blob) &&
    !(typeof FormData !== 'undefined' && body instanceof FormData)
  );
}
