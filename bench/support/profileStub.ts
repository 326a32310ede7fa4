/**
 * Profiles a client's own work per paid request, with the in-process stub server (no socket):
 *   npx tsx bench/support/profileStub.ts [autopay|prepay|reference] [count] [out.cpuprofile]
 */
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts';
import { autopayClient, paidRequest, referenceClient } from './clients.js';
import { stubPaidServerFetch } from './stubFetch.js';

const which = process.argv[2] ?? 'autopay';
const count = Number(process.argv[3] ?? 2000);
const out = process.argv[4];
const account = privateKeyToAccount(generatePrivateKey());
const stub = stubPaidServerFetch({ payTo: '0xa0Ee7A142d267C1f36714E4a8F75612F20a79720', usdc: '0x036CbD53842c5426634e7929541eC2318f3dCF7e', payer: account.address });
const client = which === 'reference' ? referenceClient(account, stub) : await autopayClient(account, stub, { prepay: which === 'prepay' });
const url = 'https://api.example.com/weather';
for (let i = 0; i < 200; i++) await paidRequest(client, url);
const session = new Session();
if (out) {
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.setSamplingInterval', { interval: 50 });
  await session.post('Profiler.start');
}
const cpu = process.cpuUsage();
const start = performance.now();
for (let i = 0; i < count; i++) await paidRequest(client, url);
const d = process.cpuUsage(cpu);
if (out) {
  const { profile } = await session.post('Profiler.stop');
  writeFileSync(out, JSON.stringify(profile));
  session.disconnect();
}
console.log(`${client.name}: ${((performance.now() - start) / count).toFixed(3)} ms wall, ${((d.user + d.system) / 1000 / count).toFixed(3)} ms CPU per paid request${out ? ` (profiled -> ${out})` : ''}`);
