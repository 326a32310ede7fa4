/**
 * A paying process for the crash tests: pays `url` over and over, `concurrency` calls at a time,
 * through wrapFetch with a file ledger, until it is killed. Prints `ready` once the first payment
 * is made (so every kill lands in a warm loop), then one line per call.
 *
 * With `killAt`, it kills itself (SIGKILL, no cleanup) at that point of the first payment after
 * `ready`: `post-reserve` (reserved, nothing signed), `post-sign` (signed, not recorded as sent,
 * not sent), `post-write-ahead` (recorded as sent, not sent), `in-flight` (sent, no answer yet),
 * `post-response` (the server answered, the outcome not recorded) or `post-settle` (recorded as
 * settled). Before `ready` nothing is armed. With `key`, the calls after `ready` carry it as
 * their `Idempotency-Key` (one logical request, delivered again and again).
 *   node --import tsx test/support/payingWorker.ts '<json { url, privateKey, ledger, concurrency, killAt?, key? }>'
 */
import { privateKeyToAccount } from 'viem/accounts';
import type { Hex } from 'viem';
import { wrapFetch, type SpendStore } from '../../src/index.js';
import { fileStore } from '../../src/node/index.js';

/** Where the worker may kill itself. */
export type KillPoint = 'post-reserve' | 'post-sign' | 'post-write-ahead' | 'in-flight' | 'post-response' | 'post-settle';

const spec = JSON.parse(process.argv[2] ?? '{}') as { url: string; privateKey: Hex; ledger: string; concurrency: number; killAt?: KillPoint; key?: string };
let armed = false;
const die = (point: KillPoint) => {
  if (armed && spec.killAt === point) process.kill(process.pid, 'SIGKILL');
};

const ledger = fileStore(spec.ledger);
const store: SpendStore = {
  reserve: async (request) => {
    const result = await ledger.reserve(request);
    die('post-reserve');
    return result;
  },
  release: (id) => ledger.release(id),
  settle: async (id, status, transaction, authorization) => {
    await ledger.settle(id, status, transaction, authorization);
    // The write-ahead is the first settle: `unknown`, with the authorization, before sending.
    if (status === 'unknown' && transaction === undefined && authorization) die('post-write-ahead');
    if (status === 'settled') die('post-settle');
  },
  usage: (checks) => ledger.usage(checks),
  report: (query) => ledger.report(query),
};
const account = privateKeyToAccount(spec.privateKey);
const wallet = {
  address: account.address,
  signTypedData: async (args: Parameters<typeof account.signTypedData>[0]) => {
    const signature = await account.signTypedData(args);
    die('post-sign');
    return signature;
  },
};
const transport: typeof fetch = async (input, init) => {
  const paid = new Headers(init?.headers ?? (input instanceof Request ? input.headers : undefined)).has('payment-signature');
  const answer = fetch(input, init);
  if (paid && armed && spec.killAt === 'in-flight') setTimeout(() => die('in-flight'), 2);
  const response = await answer;
  if (paid) die('post-response');
  return response;
};

const paidFetch = wrapFetch(transport, wallet, {
  store,
  budget: { perRequest: '0.10', daily: '100.00', maxPayments: { perMinute: 100_000 } },
  breaker: false,
  resend: false,
});
const once = async () => {
  const outcome = await paidFetch(spec.url, armed && spec.key !== undefined ? { headers: { 'Idempotency-Key': spec.key } } : undefined).then(
    async (response) => `${response.status} ${(await response.arrayBuffer()).byteLength}`,
    (error: unknown) => String((error as { code?: unknown }).code ?? error),
  );
  process.stdout.write(`${outcome}\n`);
};
await once();
process.stdout.write('ready\n');
armed = true;
await Promise.all(Array.from({ length: spec.concurrency }, async () => {
  for (;;) await once();
}));
