import { readFile } from 'node:fs/promises';
import { stringFlag, stringsFlag, show, UsageError, type FlagValues } from './args.js';

/** Header names a caller may not set by hand: the payment headers belong to the engine. */
const RESERVED_HEADERS = new Set(['payment-signature', 'x-payment']);

/**
 * The `RequestInit` of `-X`, `-H` and `-d`, as curl reads them: `-d` sends its text as is
 * (`@file` reads a file, `@-` standard input) and makes the method POST unless `-X` says
 * otherwise, with `content-type: application/x-www-form-urlencoded` unless `-H` sets one.
 */
export async function requestFromFlags(command: string, values: FlagValues, stdin: () => Promise<Uint8Array>): Promise<RequestInit> {
  const headers = new Headers();
  for (const line of stringsFlag(values, 'header')) {
    const colon = line.indexOf(':');
    const name = colon > 0 ? line.slice(0, colon).trim() : '';
    const value = colon > 0 ? line.slice(colon + 1).trim() : '';
    if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(name)) throw new UsageError(`-H ${show(line)} is not a 'Name: value' header`, command);
    if (RESERVED_HEADERS.has(name.toLowerCase())) throw new UsageError(`-H ${name}: the payment header is set by x402-autopay, not by hand`, command);
    try {
      headers.append(name, value);
    } catch {
      throw new UsageError(`-H ${show(line)} is not a valid header`, command);
    }
  }
  const data = stringFlag(values, 'data');
  let body: Uint8Array<ArrayBuffer> | string | undefined;
  if (data !== undefined) {
    if (data === '@-') body = new Uint8Array(await stdin());
    else if (data.startsWith('@')) {
      try {
        body = new Uint8Array(await readFile(data.slice(1)));
      } catch (error) {
        throw new UsageError(`-d ${show(data)}: cannot read the file (${(error as NodeJS.ErrnoException).code ?? 'error'})`, command);
      }
    } else body = data;
    if (!headers.has('content-type')) headers.set('content-type', 'application/x-www-form-urlencoded');
  }
  const method = (stringFlag(values, 'request') ?? (body !== undefined ? 'POST' : 'GET')).toUpperCase();
  if (!/^[A-Z]+$/.test(method)) throw new UsageError(`-X ${show(method)} is not an HTTP method`, command);
  if (body !== undefined && (method === 'GET' || method === 'HEAD')) throw new UsageError(`-d cannot be sent with -X ${method}`, command);
  return { method, headers, ...(body !== undefined ? { body } : {}) };
}
