import { afterAll, beforeAll, expect } from 'vitest';
import { startLocalStack, type LocalStack } from '../../examples/local-stack/index.js';
import { loopbackOnly } from './loopbackOnly.js';

/**
 * Starts the local x402 stack (anvil + the official servers and facilitators) before the file's
 * tests and stops it after them, allowing loopback connections only (any other is listed, and
 * fails the file). Returns the running stack.
 */
export function useLocalStack(timeoutMs: number): () => LocalStack {
  const refusedConnections = loopbackOnly();
  let stack: LocalStack | undefined;
  beforeAll(async () => {
    stack = await startLocalStack();
  }, timeoutMs);
  afterAll(async () => {
    await stack?.stop();
    expect(refusedConnections).toEqual([]);
  });
  return () => {
    if (!stack) throw new Error('the local stack is not running (did its beforeAll fail?)');
    return stack;
  };
}
