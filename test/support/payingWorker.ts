/**
 * A paying process for the crash test: pays `url` over and over, `concurrency` calls at a time,
 * through wrapFetch with a file ledger, until it is killed. Prints `ready` once the first payment
 * is made (so every kill lands in a warm loop), then one line per call.
 *   node --import tsx test/support/payingWorker.ts '<json { url, privateKey, ledger, concurrency }>'
 */
import { privateKeyToAccount } from 'viem/accounts';
import type { Hex } from 'viem';
import { wrapFetch } from '../../src/index.js';
import { fileStore } from '../../src/node/index.js';

const spec = JSON.parse(process.argv[2] ?? '{}') as { url: string; privateKey: Hex; ledger: string; concurrency: number };
const paidFetch = wrapFetch(fetch, privateKeyToAccount(spec.privateKey), {
  store: fileStore(spec.ledger),
  budget: { perRequest: '0.10', daily: '100.00', maxPayments: { perMinute: 100_000 } },
  breaker: false,
  resend: false,
});
const once = async () => {
  const outcome = await paidFetch(spec.url).then(
    async (response) => `${response.status} ${(await response.arrayBuffer()).byteLength}`,
    (error: unknown) => String((error as { code?: unknown }).code ?? error),
  );
  process.stdout.write(`${outcome}\n`);
};
await once();
process.stdout.write('ready\n');
await Promise.all(Array.from({ length: spec.concurrency }, async () => {
  for (;;) await once();
}));
