import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileStore } from '../../src/node/index.js';
import { describeSpendStore } from '../support/storeContract.js';

describeSpendStore('fileStore', async (clock) => {
  const dir = await mkdtemp(join(tmpdir(), 'x402-file-contract-'));
  return { store: fileStore(join(dir, 'ledger.json'), { clock: () => clock.now }), cleanup: () => rm(dir, { recursive: true, force: true }) };
});
