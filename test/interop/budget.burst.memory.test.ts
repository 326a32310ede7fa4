import { afterAll, beforeAll, it } from 'vitest';
import { startLocalStack, type LocalStack } from '../../examples/local-stack/index.js';
import { expectExactBurst } from '../support/burst.js';

let stack: LocalStack;
beforeAll(async () => {
  stack = await startLocalStack();
});
afterAll(() => stack?.stop());

it('memory store, one process: 1,000 concurrent paid calls under a daily cap of 100× the price pay exactly 100', async () => {
  await expectExactBurst({ stack, processes: 1, store: { kind: 'memory' }, label: 'memory, 1 process' });
}, 180_000);
