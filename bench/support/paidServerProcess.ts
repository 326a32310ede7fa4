/**
 * Child-process entry of the benchmark server: the official x402 v2 server
 * (`examples/local-stack/serverV2.ts`: `@x402/express` + `x402ResourceServer` + `@x402/evm`
 * exact) in front of the verifying, chain-less facilitator of `verifyingFacilitator.ts`. Runs
 * in its own process so that the client's process CPU is the client's alone.
 *
 * Prints one JSON line `{ "url", "payTo", "usdc" }` when ready; exits when its stdin closes.
 */
import { privateKeyToAccount } from 'viem/accounts';
import { ANVIL_PRIVATE_KEYS, LOCAL_NETWORK_V2 } from '../../examples/local-stack/anvil.js';
import { startServerV2 } from '../../examples/local-stack/serverV2.js';
import { CANONICAL_USDC_ADDRESS } from '../../examples/local-stack/token.js';
import { startVerifyingFacilitator } from './verifyingFacilitator.js';

const facilitator = await startVerifyingFacilitator({ network: LOCAL_NETWORK_V2 });
const payTo = privateKeyToAccount(ANVIL_PRIVATE_KEYS[9]!).address;
const server = await startServerV2({
  facilitatorUrl: facilitator.url,
  usdc: CANONICAL_USDC_ADDRESS,
  // The second token of /two-options; not used by the benchmarks.
  customToken: '0x00000000000000000000000000000000000c0ffe',
  payTo,
});
// The request log of the example server grows with every request; the benchmark does not read it.
setInterval(() => server.requests.splice(0), 1000).unref();

process.stdout.write(`${JSON.stringify({ url: server.url, payTo, usdc: CANONICAL_USDC_ADDRESS })}\n`);
process.stdin.resume();
process.stdin.on('end', async () => {
  if (facilitator.counts.refused > 0) process.stderr.write(`facilitator refused ${facilitator.counts.refused} payments\n`);
  await server.stop();
  await facilitator.close();
  process.exit(0);
});
process.on('message', (message) => {
  if (message === 'counts') process.send?.({ counts: facilitator.counts });
});
