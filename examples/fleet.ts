/**
 * A fleet of agents sharing one budget through Redis: several agent processes, each with its own
 * wallet, all reserving against the same daily cap with `redisStore`. Each check-and-reserve is
 * one Lua script in Redis, so however the calls interleave the fleet never pays more than the cap.
 *
 *   npx tsx examples/fleet.ts                  # local chain + paid API + a private redis-server
 *   REDIS_URL=redis://127.0.0.1:6379 npx tsx examples/fleet.ts
 *   REDIS_URL=… X402_PRIVATE_KEY=0x… npx tsx examples/fleet.ts <url>   # real URL, one key for all agents
 *
 * Without REDIS_URL it starts `redis-server` (Debian: apt-get install redis-server) on a free
 * loopback port, without persistence, and stops it at the end. Needs `npm run build` first (the
 * example imports the package, `x402-autopay`, from dist/).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Redis } from 'ioredis';
import { formatUnits, type Hex } from 'viem';
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts';
import { wrapFetch, getPayment, isX402Error, type BudgetOptions } from 'x402-autopay';
import { redisStore } from 'x402-autopay/redis';

/** The fleet's budget: shared by every agent that uses the same Redis and key prefix. */
const FLEET_BUDGET: BudgetOptions = { perRequest: '0.05', daily: '0.05' };
const AGENTS = 4;
const CALLS_PER_AGENT = 3;

/** What one agent process is told to do (passed as JSON on its command line). */
interface AgentSpec {
  name: string;
  key: Hex;
  url: string;
  calls: number;
  redisUrl: string;
  prefix: string;
}

/** What one agent process reports back (its last stdout line, after `RESULT `). */
interface AgentResult {
  name: string;
  paid: number;
  refused: Record<string, number>;
}

/** An ioredis client as the docs advise for redisStore: give up rather than queue while disconnected. */
async function connect(url: string): Promise<Redis> {
  const redis = new Redis(url, { maxRetriesPerRequest: 1, enableOfflineQueue: false, lazyConnect: true });
  redis.on('error', () => undefined); // failures surface as refused payments (budget_unavailable)
  await redis.connect();
  return redis;
}

/** One agent: `calls` concurrent paid calls through a fetch whose budget lives in Redis. */
async function runAgent(spec: AgentSpec): Promise<AgentResult> {
  const redis = await connect(spec.redisUrl);
  const paidFetch = wrapFetch(fetch, privateKeyToAccount(spec.key), {
    budget: FLEET_BUDGET,
    store: redisStore(redis, { prefix: spec.prefix }),
  });
  const result: AgentResult = { name: spec.name, paid: 0, refused: {} };
  await Promise.all(
    Array.from({ length: spec.calls }, async (_, i) => {
      try {
        const response = await paidFetch(spec.url);
        await response.arrayBuffer();
        const payment = getPayment(response);
        if (payment) result.paid++;
        console.log(`[${spec.name}] call ${i + 1}: HTTP ${response.status}, paid ${payment ? formatUnits(payment.amount, 6) : '0'} (${payment?.status ?? 'free'})`);
      } catch (error) {
        if (!isX402Error(error)) throw error;
        result.refused[error.code] = (result.refused[error.code] ?? 0) + 1;
        console.log(`[${spec.name}] call ${i + 1}: ${error.code} (money moved: ${error.moneyMoved})`);
      }
    }),
  );
  redis.disconnect();
  return result;
}

/** Starts this file as an agent process and resolves with its result; its log lines are passed through. */
function spawnAgent(spec: AgentSpec): Promise<AgentResult> {
  const tsx = import.meta.resolve('tsx'); // the TypeScript loader this example runs under
  const child: ChildProcess = spawn(process.execPath, ['--import', tsx, fileURLToPath(import.meta.url), '--agent', JSON.stringify(spec)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    let result: AgentResult | undefined;
    createInterface({ input: child.stdout! }).on('line', (line) => {
      if (line.startsWith('RESULT ')) result = JSON.parse(line.slice(7)) as AgentResult;
      else console.log(line);
    });
    child.on('error', reject);
    child.on('close', (code) => (code === 0 && result ? resolve(result) : reject(new Error(`${spec.name} exited with code ${code}`))));
  });
}

/** A private redis-server on a free loopback port (no persistence, temp dir), like the Redis tests use. */
async function startRedisServer(): Promise<{ url: string; stop: () => Promise<void> }> {
  const port = await new Promise<number>((resolve, reject) => {
    const probe = net.createServer().once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port: free } = probe.address() as net.AddressInfo;
      probe.close(() => resolve(free));
    });
  });
  const dir = mkdtempSync(join(tmpdir(), 'x402-fleet-redis-'));
  const server = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir], {
    stdio: 'ignore',
  });
  const started = new Promise<void>((_, reject) =>
    server.once('error', (error) => reject(new Error(`could not start redis-server (${error.message}): install it (Debian: apt-get install redis-server) or set REDIS_URL`))),
  );
  const url = `redis://127.0.0.1:${port}`;
  const stop = async (): Promise<void> => {
    if (server.exitCode === null && server.signalCode === null) {
      const exited = new Promise((resolve) => server.once('exit', resolve));
      server.kill('SIGTERM');
      await exited;
    }
    rmSync(dir, { recursive: true, force: true });
  };
  const ready = (async () => {
    for (let attempt = 0; attempt < 200; attempt++) {
      const ok = await new Promise<boolean>((resolve) => {
        const socket = net.connect({ host: '127.0.0.1', port }, () => socket.write('PING\r\n'));
        socket.once('data', (d) => (socket.destroy(), resolve(d.toString().startsWith('+PONG'))));
        socket.once('error', () => resolve(false));
      });
      if (ok) return;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`redis-server did not answer on port ${port}`);
  })();
  try {
    await Promise.race([ready, started]);
  } catch (error) {
    await stop();
    throw error;
  }
  return { url, stop };
}

/** Runs the fleet and prints what the shared budget allowed. */
async function runFleet(args: { keys: Hex[]; url: string; redisUrl: string }): Promise<{ paid: number; refused: number }> {
  // One fixed prefix is one budget; this run takes a fresh one so that it starts from zero.
  const prefix = `x402:fleet-example:${randomBytes(4).toString('hex')}:`;
  console.log(`${args.keys.length} agents × ${CALLS_PER_AGENT} concurrent calls of ${args.url}; fleet budget ${JSON.stringify(FLEET_BUDGET)} in Redis (prefix ${prefix}).\n`);
  const results = await Promise.all(
    args.keys.map((key, i) => spawnAgent({ name: `agent ${i + 1}`, key, url: args.url, calls: CALLS_PER_AGENT, redisUrl: args.redisUrl, prefix })),
  );

  // Any process can read the shared budget: an operator's view through the same store.
  const redis = await connect(args.redisUrl);
  const view = wrapFetch(fetch, privateKeyToAccount(generatePrivateKey()), { budget: FLEET_BUDGET, store: redisStore(redis, { prefix }) }).budget;
  const report = await view.report();
  const remaining = await view.remaining();
  redis.disconnect();

  const paid = results.reduce((n, r) => n + r.paid, 0);
  const refused = results.reduce((n, r) => n + Object.values(r.refused).reduce((a, b) => a + b, 0), 0);
  console.log('');
  for (const r of results) console.log(`${r.name}: paid ${r.paid}, refused ${JSON.stringify(r.refused)}`);
  console.log(`\nShared report: ${report.length} record(s), ${report.filter((r) => r.status === 'settled').length} settled.`);
  for (const l of remaining) console.log(`  ${l.scope} ${l.limit}: used ${l.used} of ${l.max} ${l.unit}`);
  return { paid, refused };
}

const argv = process.argv.slice(2);
if (argv[0] === '--agent') {
  // An agent process, started by spawnAgent.
  const result = await runAgent(JSON.parse(argv[1] ?? '{}') as AgentSpec);
  console.log(`RESULT ${JSON.stringify(result)}`);
  process.exit(0);
} else if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const redis = process.env['REDIS_URL'] ? { url: process.env['REDIS_URL'], stop: async () => undefined } : await startRedisServer();
  let exitCode = 0;
  try {
    if (argv.length > 0) {
      const key = process.env['X402_PRIVATE_KEY'];
      if (!key || !/^0x[0-9a-fA-F]{64}$/.test(key) || !argv[0]) {
        console.error('usage: [REDIS_URL=redis://…] X402_PRIVATE_KEY=0x<64 hex> npx tsx examples/fleet.ts <url>   (or no URL: a local demo stack)');
        exitCode = 2;
      } else {
        await runFleet({ keys: Array.from({ length: AGENTS }, () => key as Hex), url: argv[0], redisUrl: redis.url });
      }
    } else {
      const { startLocalStack } = await import('./local-stack/index.js');
      const stack = await startLocalStack();
      try {
        const payers = await Promise.all(Array.from({ length: AGENTS }, () => stack.newPayer(1_000_000n)));
        const balances = () => Promise.all(payers.map((p) => stack.balanceOf(p.address)));
        const before = await balances();
        const { paid, refused } = await runFleet({ keys: payers.map((p) => p.privateKey), url: `${stack.v2.url}/weather`, redisUrl: redis.url });
        const after = await balances();
        const spent = before.reduce((sum, b, i) => sum + b - after[i]!, 0n);
        console.log(`\nThe fleet paid ${paid} call(s) and was refused ${refused}; on chain its ${AGENTS} wallets spent ${formatUnits(spent, 6)} USDC in all (cap 0.05).`);
        if (paid !== 5 || refused !== AGENTS * CALLS_PER_AGENT - 5 || spent !== 50_000n) {
          console.error('Unexpected outcome: expected exactly 5 paid calls (0.05 USDC, the fleet cap) and the rest refused.');
          exitCode = 1;
        }
      } finally {
        await stack.stop();
      }
    }
  } catch (error) {
    console.error(error);
    exitCode = 1;
  } finally {
    await redis.stop();
  }
  process.exit(exitCode);
}
