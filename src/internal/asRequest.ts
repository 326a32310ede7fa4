/**
 * The caller's fetch input as a `Request`, when it is one: of this realm (`instanceof`), or of
 * another, such as the `undici` package's or another frame's, told by its WebIDL class tag
 * (`[object Request]`), which `instanceof` cannot see. Anything else (a URL, a string) is
 * undefined.
 *
 * @param input - the first argument of a fetch call.
 * @returns the input as a `Request`, or undefined.
 *
 * @example
 * ```ts
 * import { asRequest } from './asRequest.js';
 * asRequest(new Request('https://api.example.com/data'))?.method; // 'GET'
 * asRequest('https://api.example.com/data'); // undefined
 * ```
 */
export function asRequest(input: unknown): Request | undefined {
  if (input instanceof Request) return input;
  return Object.prototype.toString.call(input) === '[object Request]' ? (input as Request) : undefined;
}
