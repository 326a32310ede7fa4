/**
 * The built `x402-autopay` command without a chain: `--help` of every command, bad input (exit 2
 * with a clear message), the key file, and a paid request whose outcome is unknown (exit 5)
 * against a small local server. The key given in the environment never appears in any output.
 */
import { createServer, type Server } from 'node:http';
import { existsSync } from 'node:fs';
import { chmod, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CANARY_KEY } from '../support/signers.js';
import { paymentRequiredV1 } from '../support/challenges.js';
import { expectKeysNeverPrinted, removeDirs, runCli, tempDir } from './cliRunner.js';

expectKeysNeverPrinted(() => [CANARY_KEY]);

const dirs: string[] = [];
let home: string;
let env: Record<string, string>;
let server: Server;
let base: string;
/** A second local server: a redirect must never reach it. */
let canary: Server;
let canaryPort = 0;
let canaryHits = 0;
/** Payment headers the server received (to prove none is ever printed). */
const paymentHeaders: string[] = [];

beforeAll(async () => {
  home = await tempDir(dirs);
  env = { HOME: home, X402_PRIVATE_KEY: CANARY_KEY };
  // `/free` answers 200; `/paid` asks for 0.01 USDC (v1) and answers 500 to the paid retry.
  server = createServer((req, res) => {
    if (req.url === '/free') {
      res.writeHead(200, { 'content-type': 'text/plain' }).end('free body\n');
      return;
    }
    if (req.url === '/elsewhere') {
      // Another loopback origin: a local service the command must not be redirected into.
      res.writeHead(302, { location: `http://localhost:${canaryPort}/collect` }).end();
      return;
    }
    if (req.url === '/around') {
      res.writeHead(302, { location: '/free' }).end();
      return;
    }
    if (req.url === '/echo') {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const echo = { method: req.method, contentType: req.headers['content-type'] ?? null, body: Buffer.concat(chunks).toString('utf8') };
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(echo));
      });
      return;
    }
    const payment = req.headers['x-payment'];
    if (typeof payment === 'string') {
      paymentHeaders.push(payment);
      res.writeHead(500, { 'content-type': 'text/plain' }).end('upstream broke');
      return;
    }
    res.writeHead(402, { 'content-type': 'application/json' }).end(JSON.stringify(paymentRequiredV1()));
  });
  canary = createServer((_req, res) => {
    canaryHits++;
    res.writeHead(402, { 'content-type': 'application/json' }).end(JSON.stringify(paymentRequiredV1()));
  });
  await new Promise<void>((resolve) => canary.listen(0, '127.0.0.1', resolve));
  const canaryAddress = canary.address();
  canaryPort = typeof canaryAddress === 'object' && canaryAddress ? canaryAddress.port : 0;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  base = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
});
afterAll(async () => {
  await new Promise((resolve) => server?.close(resolve));
  await new Promise((resolve) => canary?.close(resolve));
  await removeDirs(dirs);
});

describe('x402-autopay (built CLI): help and bad input', () => {
  it.each([
    [['--help'], 'Usage:\n  x402-autopay fetch [options] <url>'],
    [['help'], 'Usage:\n  x402-autopay fetch [options] <url>'],
    [['fetch', '--help'], 'Usage: x402-autopay fetch [options] <url>'],
    [['help', 'fetch'], 'Usage: x402-autopay fetch [options] <url>'],
    [['quote', '-h'], 'Usage: x402-autopay quote [options] <url>'],
    [['spend', '--help'], 'Usage: x402-autopay spend [options]'],
  ])('%j prints the usage and the exit codes, exit 0', async (args, usage) => {
    const run = await runCli(args, env);
    expect(run.code).toBe(0);
    expect(run.stderr).toBe('');
    expect(run.stdout).toContain(usage);
    expect(run.stdout).toContain('Exit codes:');
    for (const code of ['0  success', '1  other error', '2  bad input', '3  refused by the budget', '4  rejected by the server', '5  outcome unknown']) {
      expect(run.stdout).toContain(code);
    }
  });

  it('fetch --help documents the curl flags, the budget, the ledger and the key', async () => {
    const { stdout } = await runCli(['fetch', '--help'], env);
    for (const flag of ['-X, --request', '-H, --header', '-d, --data', '-o, --output', '-i, --include', '--max-per-request', '--daily', '--network', '--assets <file>', '--ledger', '--key-file', 'X402_PRIVATE_KEY', '~/.local/state/x402-autopay/ledger.json']) {
      expect(stdout).toContain(flag);
    }
  });

  it.each([
    [[], 'missing command'],
    [['pay', 'https://x.test/'], 'unknown command "pay"'],
    [['fetch'], 'missing <url>'],
    [['fetch', 'not a url'], '"not a url" is not an absolute URL'],
    [['fetch', 'ftp://x.test/'], 'is not an http(s) URL'],
    [['fetch', '--bogus', 'https://x.test/'], "Unknown option '--bogus'"],
    [['fetch', '--daily', 'ten', 'https://x.test/'], "--daily must be a USD amount with at most 6 decimals, such as 1.00, or 'unlimited'; got \"ten\""],
    [['fetch', '--daily', '-1', 'https://x.test/'], '--daily'],
    [['fetch', '--max-per-request', '0.0000001', 'https://x.test/'], '--max-per-request must be a USD amount'],
    [['fetch', '--network', 'base', 'https://x.test/'], '--network must be a CAIP-2 eip155 network id'],
    [['fetch', '-H', 'no colon', 'https://x.test/'], "is not a 'Name: value' header"],
    [['fetch', '-H', 'X-PAYMENT: abc', 'https://x.test/'], 'the payment header is set by x402-autopay'],
    [['fetch', 'https://a.test/', 'https://b.test/'], 'unexpected argument "https://b.test/"'],
    [['spend', '--since', 'yesterday'], '--since must be a date'],
    [['quote'], 'missing <url>'],
  ])('%j exits 2 with a clear message', async (args, message) => {
    const run = await runCli(args, env);
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toContain(message);
    expect(run.stderr).toMatch(/Run 'x402-autopay (\w+ )?--help' for usage\.\n$/);
  });

  it('--assets: a token file that is missing, not JSON or not a valid declaration exits 2 naming the problem; nothing is sent', async () => {
    const dir = await tempDir(dirs);
    const file = (name: string, text: string) => writeFile(join(dir, name), text).then(() => join(dir, name));
    const valid = { network: 'eip155:84532', address: '0x1111111111111111111111111111111111111111', decimals: 6, name: 'Token', version: '1', symbol: 'TOK', perRequest: '1' };
    const cases: [string, string][] = [
      [join(dir, 'absent.json'), 'cannot read'],
      [await file('bad.json', '"not json'), 'is not valid JSON (expected an array of token declarations)'],
      [await file('object.json', JSON.stringify(valid)), 'assets must be an array of declared tokens'],
      [await file('decimals.json', JSON.stringify([{ ...valid, decimals: 40 }])), 'assets[0].decimals must be an integer from 0 to 36; got 40'],
      [await file('limits.json', JSON.stringify([{ ...valid, perRequest: undefined }])), 'assets[0].perRequest is required for a token that is not usdPegged'],
      [await file('usdc.json', JSON.stringify([{ ...valid, address: '0x036CbD53842c5426634e7929541eC2318f3dCF7e', name: 'Fake' }])), 'assets[0] contradicts the built-in entry for USDC'],
    ];
    const before = paymentHeaders.length;
    for (const [path, message] of cases) {
      for (const command of ['fetch', 'quote']) {
        const run = await runCli([command, '--assets', path, `${base}/paid`], env);
        expect(run.code, `${command} ${path}`).toBe(2);
        expect(run.stdout).toBe('');
        expect(run.stderr, `${command} ${path}`).toContain(message);
        expect(run.stderr).toContain(`Run 'x402-autopay ${command} --help' for usage.`);
      }
    }
    expect(paymentHeaders.length).toBe(before);
  });

  it('a flag value that looks like a key is never echoed', async () => {
    const run = await runCli(['fetch', '--daily', CANARY_KEY, `${base}/free`], env);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('--daily must be a USD amount');
    expect(run.stderr).toContain('not shown');
  });

  it('fetch without a key exits 2 and says where the key goes', async () => {
    const run = await runCli(['fetch', `${base}/paid`], { HOME: home });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('no private key: set X402_PRIVATE_KEY (0x-prefixed hex) or pass --key-file <path>');
  });

  it('a malformed key exits 2 without showing it', async () => {
    const broken = `${CANARY_KEY.slice(0, -1)}z`;
    const run = await runCli(['fetch', `${base}/paid`], { HOME: home, X402_PRIVATE_KEY: broken });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('X402_PRIVATE_KEY does not hold a private key: expected 0x followed by 64 hex digits (the value is not shown)');
    expect(run.stderr.toLowerCase()).not.toContain(broken.slice(2, 40).toLowerCase());
  });

  it('a missing key file exits 2', async () => {
    const run = await runCli(['fetch', '--key-file', join(home, 'nope'), `${base}/free`], { HOME: home });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('cannot read the key file');
    expect(run.stderr).toContain('ENOENT');
  });
});

describe('x402-autopay (built CLI): key file, free routes, unknown outcome', () => {
  it('reads --key-file, warns when it is open to others, and a free route pays nothing', async () => {
    const file = join(await tempDir(dirs), 'key');
    await writeFile(file, `${CANARY_KEY}\n`);
    await chmod(file, 0o644);
    const open = await runCli(['fetch', '--key-file', file, `${base}/free`], { HOME: home });
    expect(open.code).toBe(0);
    expect(open.stdout).toBe('free body\n');
    expect(open.stderr).toMatch(/^x402-autopay: warning: the key file ".*key" is open to its group and others \(mode 0644\); run: chmod 600 ".*key"\n$/);

    await chmod(file, 0o600);
    const closed = await runCli(['fetch', '--key-file', file, `${base}/free`], { HOME: home });
    expect(closed.code).toBe(0);
    expect(closed.stderr).toBe('');
  });

  it('-d sends text, @file and @- (stdin) as is, POST by default, form content-type unless -H sets one', async () => {
    const text = await runCli(['fetch', '-d', 'a=1&b=2', `${base}/echo`], env);
    expect(text.code).toBe(0);
    expect(JSON.parse(text.stdout)).toEqual({ method: 'POST', contentType: 'application/x-www-form-urlencoded', body: 'a=1&b=2' });

    const file = join(await tempDir(dirs), 'body.json');
    await writeFile(file, '{"from":"file"}\n');
    const fromFile = await runCli(['fetch', '-X', 'PUT', '-H', 'Content-Type: application/json', '-d', `@${file}`, `${base}/echo`], env);
    expect(JSON.parse(fromFile.stdout)).toEqual({ method: 'PUT', contentType: 'application/json', body: '{"from":"file"}\n' });

    const fromStdin = await runCli(['fetch', '-H', 'content-type: text/plain', '-d', '@-', `${base}/echo`], env, 'naïve ☂ from stdin');
    expect(JSON.parse(fromStdin.stdout)).toEqual({ method: 'POST', contentType: 'text/plain', body: 'naïve ☂ from stdin' });
  });

  it('quote reads the 402 without touching the key (a broken one is ignored) and sends no payment', async () => {
    const before = paymentHeaders.length;
    const run = await runCli(['quote', `${base}/paid`], { HOME: home, X402_PRIVATE_KEY: 'not a key' });
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('asks for payment (x402 v1, 1 option)');
    expect(run.stdout).toContain('Would pay: option #0, 0.01 USD (0.01 USDC on eip155:84532)');
    expect(paymentHeaders).toHaveLength(before);
  });

  it('quote of a free route says no payment is required, exit 0', async () => {
    const run = await runCli(['quote', `${base}/free`], { HOME: home });
    expect(run.code).toBe(0);
    expect(run.stdout).toBe(`No payment required: ${base}/free answered HTTP 200 OK. Nothing was paid.\n`);
  });

  it('a paid request answered 500 (twice: the same payment is sent again) exits 5 (settlement_unknown), prints no payment header, and the ledger counts it', async () => {
    const ledger = join(await tempDir(dirs), 'ledger.json');
    const run = await runCli(['fetch', '--ledger', ledger, `${base}/paid`], env);
    expect(run.code).toBe(5);
    expect(run.stdout).toBe('');
    expect(run.stderr).toContain('error settlement_unknown');
    expect(run.stderr).toContain('Money moved: maybe');
    expect(run.stderr).toContain('authorization valid until:');
    // A GET may be repeated: the same payment was sent once more, and that is said.
    expect(run.stderr).toContain('no usable answer to the paid request (server_error); sending the same payment again (nothing new is signed)');
    expect(run.stderr).toContain('sent 2 times with the same payment');
    expect(paymentHeaders).toHaveLength(2);
    expect(paymentHeaders[1]).toBe(paymentHeaders[0]);
    expect(run.stderr).not.toContain(paymentHeaders[0]!.slice(0, 40));

    const spend = await runCli(['spend', '--ledger', ledger], { HOME: home });
    expect(spend.code).toBe(0);
    expect(spend.stdout).toContain('Total: 1 payment, 0.01 USD (1 unknown).');
  });

  it('two runs with one Idempotency-Key and one ledger pay once: the second exits 3 (duplicate_request), sends no payment, and says where to look', async () => {
    const ledger = join(await tempDir(dirs), 'ledger.json');
    const sentBefore = paymentHeaders.length;
    const first = await runCli(['fetch', '--ledger', ledger, '-H', 'Idempotency-Key: job-7', `${base}/paid`], env);
    expect(first.code, first.stderr).toBe(5);
    const sent = paymentHeaders.length - sentBefore;
    expect(sent).toBeGreaterThan(0);
    const second = await runCli(['fetch', '--ledger', ledger, '-H', 'Idempotency-Key: job-7', `${base}/paid`], env);
    expect(second.code, second.stderr).toBe(3);
    expect(second.stdout).toBe('');
    expect(second.stderr).toContain('error duplicate_request: Not paid: Idempotency-Key "job-7" was already used');
    expect(second.stderr).toContain('state: claimed');
    // The earlier run's payment, from the ledger: what `reconcile` (or a block explorer) looks up.
    expect(second.stderr).toMatch(/nonce: 0x[0-9a-f]{64}/);
    expect(second.stderr).toContain('authorization valid until:');
    expect(second.stderr).toContain('Money moved: no');
    expect(second.stderr).toContain('`x402-autopay spend` lists it');
    expect(paymentHeaders.length - sentBefore).toBe(sent);
    const spend = await runCli(['spend', '--ledger', ledger], { HOME: home });
    expect(spend.stdout).toContain('Total: 1 payment, 0.01 USD (1 unknown).');
    const other = await runCli(['fetch', '--ledger', ledger, '-H', 'Idempotency-Key: job-8', `${base}/paid`], env);
    expect(other.code, other.stderr).toBe(5);
    expect(paymentHeaders.length - sentBefore).toBeGreaterThan(sent);
  });

  it('spend of a ledger that does not exist yet is empty (and does not create it)', async () => {
    const dir = await tempDir(dirs);
    const run = await runCli(['spend', '--ledger', join(dir, 'sub', 'ledger.json')], { HOME: home });
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('No payments recorded in');
    const json = await runCli(['spend', '--json', '--ledger', join(dir, 'sub', 'ledger.json')], { HOME: home });
    expect(JSON.parse(json.stdout)).toMatchObject({ groups: [], records: [], total: { payments: 0, usd: '0.00' } });
    expect(existsSync(join(dir, 'sub'))).toBe(false);
  });

  it('a redirect into another local address is refused (exit 3, request_blocked) by fetch and quote; one that stays on the URL given is followed', async () => {
    for (const command of ['fetch', 'quote']) {
      const run = await runCli([command, `${base}/elsewhere`], env);
      expect(run.code, run.stderr).toBe(3);
      expect(run.stdout).toBe('');
      expect(run.stderr).toContain('error request_blocked: Blocked redirect 1: localhost:');
      expect(run.stderr).toContain('(loopback)');
      expect(run.stderr).toContain('Money moved: no');
      expect(run.stderr).toContain('What to do: The command never follows a redirect into a non-public address');
    }
    expect(canaryHits).toBe(0);
    const around = await runCli(['fetch', `${base}/around`], env);
    expect(around.code, around.stderr).toBe(0);
    expect(around.stdout).toBe('free body\n');
  });

  it('an unreachable server is an error (exit 1) that paid nothing', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const address = closed.address();
    await new Promise((resolve) => closed.close(resolve));
    const run = await runCli(['fetch', `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}/x`], env);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/^x402-autopay: error: fetch failed \(ECONNREFUSED/);
  });
});
