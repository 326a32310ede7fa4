/**
 * Profiles a loop of paid requests by one client (after warm-up), with the V8 CPU profiler:
 *   npx tsx bench/support/profileLoop.ts [autopay|prepay|reference] [count] [out.cpuprofile]
 * The server runs in a child process (not profiled). Open the profile in Chrome DevTools.
 */
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts';
import { autopayClient, paidRequest, referenceClient } from './clients.js';
import { startPaidServerProcess } from './paidServer.js';

const which = process.argv[2] ?? 'autopay';
const count = Number(process.argv[3] ?? 500);
const out = process.argv[4] ?? `${which}.cpuprofile`;
const server = await startPaidServerProcess();
const account = privateKeyToAccount(generatePrivateKey());
const client = which === 'reference' ? referenceClient(account) : await autopayClient(account, fetch, { prepay: which === 'prepay' });
const url = `${server.url}/weather`;
for (let i = 0; i < 50; i++) await paidRequest(client, url);
const session = new Session();
session.connect();
await session.post('Profiler.enable');
await session.post('Profiler.setSamplingInterval', { interval: 100 });
await session.post('Profiler.start');
const cpu = process.cpuUsage();
const start = performance.now();
for (let i = 0; i < count; i++) await paidRequest(client, url);
const d = process.cpuUsage(cpu);
const { profile } = await session.post('Profiler.stop');
writeFileSync(out, JSON.stringify(profile));
console.log(`${client.name}: ${((performance.now() - start) / count).toFixed(2)} ms wall, ${((d.user + d.system) / 1000 / count).toFixed(2)} ms CPU per paid request (profiled) -> ${out}`);
session.disconnect();
await server.stop();
