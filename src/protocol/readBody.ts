/**
 * Result of {@link readBody}: the bytes, or why there are none: more than allowed (`oversize`),
 * too slow (`timeout`), or the stream failed (`broken`, e.g. the connection was reset).
 */
export type BodyRead = { ok: true; bytes: Uint8Array<ArrayBuffer> } | { ok: false; why: 'oversize' | 'timeout' | 'broken' };

/**
 * Reads a body stream up to `maxBytes` and no further, within `timeoutMs` in total: a declared
 * `Content-Length` above the bound is refused without reading, a stream that grows past it is
 * cancelled, and so is one that has not ended when the time is up (a body trickling 1 byte a
 * second cannot hold the caller).
 * The cancel is started, never awaited: on a tee'd body (`response.clone()`, or an interceptor
 * that cloned it) it only settles once every branch is cancelled, which may be never.
 *
 * @example
 * ```ts
 * import { readBody } from './readBody.js';
 * const read = await readBody(response.body, 64 * 1024, response.headers.get('content-length'), 5_000);
 * if (!read.ok) console.log(read.why); // 'oversize' | 'timeout' | 'broken'
 * ```
 */
export async function readBody(
  body: ReadableStream<Uint8Array> | null,
  maxBytes: number,
  declaredLength?: string | null,
  timeoutMs?: number,
): Promise<BodyRead> {
  if (declaredLength && /^[0-9]+$/.test(declaredLength) && Number(declaredLength) > maxBytes) {
    body?.cancel().catch(() => undefined);
    return { ok: false, why: 'oversize' };
  }
  if (!body) return { ok: true, bytes: new Uint8Array(0) };
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const expired =
    timeoutMs === undefined
      ? undefined
      : new Promise<'timeout'>((resolve) => {
          timer = setTimeout(() => resolve('timeout'), timeoutMs);
        });
  try {
    for (;;) {
      const read = reader.read();
      // A read left pending by the deadline settles later (or rejects on releaseLock): never unhandled.
      read.catch(() => undefined);
      let next: ReadableStreamReadResult<Uint8Array> | 'timeout';
      try {
        next = expired ? await Promise.race([read, expired]) : await read;
      } catch {
        return { ok: false, why: 'broken' };
      }
      if (next === 'timeout') {
        reader.cancel().catch(() => undefined);
        return { ok: false, why: 'timeout' };
      }
      const { done, value } = next;
      if (done) break;
      if (!(value instanceof Uint8Array)) {
        reader.cancel().catch(() => undefined);
        return { ok: false, why: 'broken' };
      }
      total += value.byteLength;
      if (total > maxBytes) {
        reader.cancel().catch(() => undefined);
        return { ok: false, why: 'oversize' };
      }
      chunks.push(value);
    }
  } finally {
    clearTimeout(timer);
    try {
      reader.releaseLock();
    } catch {
      // Already released or errored: nothing to give back.
    }
  }
  const bytes = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return { ok: true, bytes };
}
