/**
 * Runs the local x402 stack in the foreground for manual exploration:
 *
 *   npx tsx examples/local-stack/serve.ts [--cors]
 *
 * Prints the URLs and a funded payer key, then serves until Ctrl-C.
 */
import { startLocalStack } from './index.js';

const stack = await startLocalStack({ cors: process.argv.includes('--cors') });
const payer = await stack.newPayer(10_000_000n);

console.log(
  [
    'Local x402 stack (loopback only)',
    `  chain        ${stack.chain.id} at ${stack.rpcUrl}`,
    `  USDC         ${stack.usdc} (canonical Base Sepolia address)`,
    `  custom token ${stack.customToken}`,
    `  payTo        ${stack.payTo}`,
    `  v2 server    ${stack.v2.url}   facilitator ${stack.v2.facilitatorUrl}`,
    `  v1 server    ${stack.v1.url}   facilitator ${stack.v1.facilitatorUrl}`,
    `  routes       GET /weather, POST /echo, GET /two-options, GET /free, GET /premium`,
    `  payer        ${payer.address} (10 USDC + 10 custom)`,
    `  payer key    ${payer.privateKey}`,
    'Ctrl-C to stop.',
  ].join('\n'),
);

const shutdown = (): void => {
  void stack.stop().then(() => process.exit(0));
};
process.once('SIGINT', shutdown);
process.once('SIGTERM', shutdown);
