/** Result of {@link readBody}: the bytes, or the fact that there were more than allowed. */
export type BodyRead = { ok: true; bytes: Uint8Array<ArrayBuffer> } | { ok: false; oversize: true };

/**
 * Reads a body stream up to `maxBytes` and no further: a declared `Content-Length` above the
 * bound is refused without reading, and a stream that grows past it is cancelled.
 * The cancel is started, never awaited: on a tee'd body (`response.clone()`, or an interceptor
 * that cloned it) it only settles once every branch is cancelled, which may be never.
 */
export async function readBody(
  body: ReadableStream<Uint8Array> | null,
  maxBytes: number,
  declaredLength?: string | null,
): Promise<BodyRead> {
  if (declaredLength && /^[0-9]+$/.test(declaredLength) && Number(declaredLength) > maxBytes) {
    body?.cancel().catch(() => undefined);
    return { ok: false, oversize: true };
  }
  if (!body) return { ok: true, bytes: new Uint8Array(0) };
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      total += value.byteLength;
      if (total > maxBytes) {
        reader.cancel().catch(() => undefined);
        return { ok: false, oversize: true };
      }
      chunks.push(value);
    }
  } finally {
    reader.releaseLock();
  }
  const bytes = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return { ok: true, bytes };
}
