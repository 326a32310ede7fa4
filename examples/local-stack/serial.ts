/**
 * A tiny FIFO lock: tasks passed to the returned function run one at a time, in call order.
 *
 * The local stack uses one per sending account, because viem fills a transaction's nonce
 * with `eth_getTransactionCount` just before sending: two sends in flight from the same
 * account would otherwise pick the same nonce and one of them would be rejected.
 *
 * @returns A function that runs `task` after every previously queued task has settled and
 *   resolves or rejects with the task's own result.
 * @example
 * ```ts
 * const serial = createSerialQueue();
 * const [a, b] = await Promise.all([serial(() => send(1)), serial(() => send(2))]);
 * ```
 */
export function createSerialQueue(): <T>(task: () => Promise<T>) => Promise<T> {
  let tail: Promise<unknown> = Promise.resolve();
  return <T>(task: () => Promise<T>): Promise<T> => {
    const run = tail.then(task, task);
    // Keep the chain alive whatever the task's outcome; callers see the real result via `run`.
    tail = run.catch(() => undefined);
    return run;
  };
}
