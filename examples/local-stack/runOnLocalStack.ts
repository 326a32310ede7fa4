import { startLocalStack, type LocalStack } from './index.js';

/**
 * Runs an example against a fresh local stack and exits: 0 when `body` reports the expected
 * outcome, 1 when it does not or throws. The stack is always stopped first.
 *
 * @param body - The example; returns true when what happened is what it expects.
 * @example
 * ```ts
 * import { runOnLocalStack } from './local-stack/runOnLocalStack.js';
 * await runOnLocalStack(async (stack) => (await fetch(`${stack.v2.url}/free`)).ok);
 * ```
 */
export async function runOnLocalStack(body: (stack: LocalStack) => Promise<boolean>): Promise<never> {
  const stack = await startLocalStack();
  let exitCode = 0;
  try {
    if (!(await body(stack))) exitCode = 1;
  } catch (error) {
    console.error(error);
    exitCode = 1;
  } finally {
    await stack.stop();
  }
  process.exit(exitCode);
}
