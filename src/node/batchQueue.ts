/**
 * Serialises work within this process and groups it: items pushed while a batch runs wait, and
 * the next batch takes all of them (up to `maxBatch`), so concurrent callers share one lock,
 * one read and one durable write instead of queueing for one each. Batches never overlap.
 * `run` must settle every item of its batch itself and never reject.
 *
 * @param run - processes one batch.
 * @param maxBatch - most items per batch.
 * @returns a function that queues one item.
 *
 * @example
 * ```ts
 * import { batchQueue } from './batchQueue.js';
 * const push = batchQueue<{ resolve: () => void }>(async (batch) => {
 *   await doTheWorkOnce();
 *   for (const item of batch) item.resolve();
 * }, 256);
 * await new Promise<void>((resolve) => push({ resolve }));
 * ```
 */
export function batchQueue<T>(run: (batch: T[]) => Promise<void>, maxBatch: number): (item: T) => void {
  const queue: T[] = [];
  let running = false;
  const drain = async () => {
    try {
      while (queue.length > 0) await run(queue.splice(0, maxBatch));
    } finally {
      running = false;
    }
  };
  return (item) => {
    queue.push(item);
    if (!running) {
      running = true;
      void drain();
    }
  };
}
