import { once } from 'node:events';
import type { Writable } from 'node:stream';

/** What a command may touch of the process: environment, streams and fetch. */
export interface Io {
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Writes text for people or machines to stdout (scrubbed of secrets). */
  out(text: string): Promise<void>;
  /** Writes one message line to stderr, prefixed `x402-autopay: ` (scrubbed of secrets). */
  err(text: string): void;
  /** Writes raw bytes (a response body) to stdout, honouring back-pressure. */
  outBytes(bytes: Uint8Array): Promise<void>;
  /** Registers a secret: from now on it is replaced by `[redacted]` in every message. */
  secret(value: string): void;
  /** Reads all of standard input (for `-d @-`). */
  stdin(): Promise<Uint8Array>;
  readonly fetch: typeof fetch;
}

/** Writes a chunk, waiting for `drain` when the stream asks to. */
export async function writeChunk(stream: Writable, chunk: Uint8Array | string): Promise<void> {
  if (!stream.write(chunk)) await once(stream, 'drain');
}

/** The process's own {@link Io}. */
export function processIo(): Io {
  const secrets = new Set<string>();
  const scrub = (text: string) => {
    let out = text;
    for (const secret of secrets) {
      // Case-insensitively: a hex key may be printed in either case.
      const escaped = secret.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      out = out.replace(new RegExp(escaped, 'gi'), '[redacted]');
    }
    return out;
  };
  return {
    env: process.env,
    out: (text) => writeChunk(process.stdout, scrub(text)),
    err: (text) => {
      process.stderr.write(`${scrub(text)
        .split('\n')
        .map((line, i) => (i === 0 ? `x402-autopay: ${line}` : line))
        .join('\n')}\n`);
    },
    outBytes: (bytes) => writeChunk(process.stdout, bytes),
    secret: (value) => {
      // Only values long enough to be keys: scrubbing short strings would garble output.
      if (value.length >= 16) secrets.add(value);
    },
    stdin: async () => {
      const chunks: Buffer[] = [];
      for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
      return Buffer.concat(chunks);
    },
    fetch: globalThis.fetch,
  };
}
