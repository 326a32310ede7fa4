/**
 * The bounded body reader on its own: the byte bound at its edge (declared and streamed), a
 * declared length that is not a plain number, a chunk that is not bytes, no body at all, the
 * time limit (and no limit), and the stream handed back unlocked whatever the outcome.
 */
import { describe, expect, it } from 'vitest';
import { readBody } from '../../src/protocol/readBody.js';

function stream(chunks: unknown[]): ReadableStream<Uint8Array> & { cancelled: () => boolean } {
  let cancelled = false;
  const s = new ReadableStream<Uint8Array>({
    start(controller) {
      for (const chunk of chunks) controller.enqueue(chunk as Uint8Array);
      controller.close();
    },
    cancel() {
      cancelled = true;
    },
  });
  return Object.assign(s, { cancelled: () => cancelled });
}

const bytes = (n: number) => new Uint8Array(n).fill(0x20);

describe('readBody', () => {
  it('a declared length of exactly the bound is read; one more is refused unread, and the stream cancelled', async () => {
    expect(await readBody(stream([bytes(10)]), 10, '10')).toMatchObject({ ok: true });
    const over = stream([bytes(11)]);
    expect(await readBody(over, 10, '11')).toEqual({ ok: false, why: 'oversize' });
    expect(over.cancelled()).toBe(true);
    expect(await readBody(null, 10, '11')).toEqual({ ok: false, why: 'oversize' });
  });

  it('a declared length that is not a plain number is not trusted: the bytes are counted', async () => {
    for (const declared of ['1e3', '+11', '11 ', ' 11', '0x20', '-1', '', null, undefined]) {
      expect(await readBody(stream([bytes(4)]), 10, declared)).toMatchObject({ ok: true });
    }
  });

  it('a streamed body of exactly the bound is read whole; one byte more is oversize', async () => {
    const read = await readBody(stream([bytes(6), bytes(4)]), 10);
    expect(read.ok && read.bytes.byteLength).toBe(10);
    expect(await readBody(stream([bytes(6), bytes(5)]), 10)).toEqual({ ok: false, why: 'oversize' });
  });

  it('a chunk that is not bytes makes the body broken', async () => {
    expect(await readBody(stream(['text']), 10)).toEqual({ ok: false, why: 'broken' });
  });

  it('no body is an empty one', async () => {
    expect(await readBody(null, 10)).toEqual({ ok: true, bytes: new Uint8Array(0) });
  });

  it('without a time limit a slow body is waited for; with one, a body that has not ended in time is cancelled', async () => {
    const slow = () =>
      new ReadableStream<Uint8Array>({
        async pull(controller) {
          await new Promise((resolve) => setTimeout(resolve, 40));
          controller.enqueue(bytes(3));
          controller.close();
        },
      });
    const waited = await readBody(slow(), 10);
    expect(waited.ok && waited.bytes.byteLength).toBe(3);
    const body = slow();
    expect(await readBody(body, 10, null, 5)).toEqual({ ok: false, why: 'timeout' });
    expect(body.locked).toBe(false);
  });

  it('hands the stream back unlocked whatever the outcome: read whole, oversize, broken', async () => {
    for (const [chunks, expected] of [
      [[bytes(4)], true],
      [[bytes(11)], 'oversize'],
      [['text'], 'broken'],
    ] as const) {
      const body = stream([...chunks]);
      const read = await readBody(body, 10);
      expect(read.ok ? true : read.why).toBe(expected);
      expect(body.locked, `after ${String(expected)}`).toBe(false);
    }
  });
});
