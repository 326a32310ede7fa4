/**
 * The built `x402-autopay` command against the official x402 servers on a local chain: `fetch`
 * pays (balances move on chain), refuses over its cap, reports a server's rejection; `quote`
 * shows the options and pays nothing; `spend` reads, in another process, the ledger the earlier
 * `fetch` runs wrote. The key given in the environment never appears in any output.
 */
import { readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts';
import { ARTICLE_PRICE, PRICES, startLocalStack, startSignInServer, type LocalStack, type SignInServer } from '../../examples/local-stack/index.js';
import { CANARY_KEY, canaryAccount } from '../support/signers.js';
import { expectKeysNeverPrinted, removeDirs, runCli, tempDir } from './cliRunner.js';

const TIMEOUT = 90_000;
const unfundedKey = generatePrivateKey();
expectKeysNeverPrinted(() => [CANARY_KEY, unfundedKey]);

const dirs: string[] = [];
let stack: LocalStack;
let signInServer: SignInServer;
let home: string;
/** The environment of a paying run: a temp HOME (so the default ledger lives there) and the key. */
let env: Record<string, string>;
let ledger: string;

beforeAll(async () => {
  stack = await startLocalStack();
  await stack.fundPayer(canaryAccount.address, 1_000_000n);
  signInServer = await startSignInServer({ facilitatorUrl: stack.v2.facilitatorUrl, usdc: stack.usdc, payTo: stack.payTo });
  home = await tempDir(dirs);
  env = { HOME: home, X402_PRIVATE_KEY: CANARY_KEY };
  ledger = join(home, '.local', 'state', 'x402-autopay', 'ledger.json');
}, TIMEOUT);
afterAll(async () => {
  await signInServer?.close();
  await stack?.stop();
  await removeDirs(dirs);
});

/** Payer and payee balances of the canary payer on `version`'s server. */
async function balances(version: 'v1' | 'v2') {
  return { payer: await stack.balanceOf(canaryAccount.address), payee: await stack.balanceOf(stack[version].payTo) };
}

const PAID_LINE = /^x402-autopay: paid 0\.01 USD \(0\.01 USDC on eip155:84532\) to 0xa0Ee7A142d267C1f36714E4a8F75612F20a79720 for 127\.0\.0\.1 \(x402 v[12]\): settled in transaction 0x[0-9a-f]{64}\n$/;

describe('x402-autopay (built CLI) on the local stack', { timeout: TIMEOUT }, () => {
  for (const version of ['v2', 'v1'] as const) {
    it(`fetch pays a ${version} GET: body on stdout, payment on stderr, exit 0, balances moved`, async () => {
      const before = await balances(version);
      const run = await runCli(['fetch', `${stack[version].url}/weather`], env);
      expect(run.stderr).toMatch(PAID_LINE);
      expect(run.code).toBe(0);
      expect(JSON.parse(run.stdout)).toEqual({ report: { city: 'Localhost', weather: 'sunny', temperatureC: 21 }, x402Version: version === 'v2' ? 2 : 1 });
      expect(await balances(version)).toEqual({ payer: before.payer - PRICES.weather, payee: before.payee + PRICES.weather });
      // The default ledger: under the (temp) home, private to the user.
      expect((await stat(ledger)).mode & 0o077).toBe(0);
    });
  }

  it('fetch --sign-in pays once, then signs in: the next run is let in and pays nothing', async () => {
    const url = `${signInServer.url}/article`;
    const before = await stack.balanceOf(canaryAccount.address);
    // A ledger of its own: the report tests below count the other runs' payments.
    const own = ['--ledger', join(await tempDir(dirs), 'ledger.json')];
    const first = await runCli(['fetch', '--sign-in', ...own, url], env);
    expect(first.code).toBe(0);
    expect(first.stderr).toContain(`x402-autopay: signed in to 127.0.0.1 as ${canaryAccount.address}, but it asks for a payment\n`);
    expect(first.stderr).toMatch(/x402-autopay: paid 0\.01 USD .* settled in transaction 0x[0-9a-f]{64}\n$/);
    const second = await runCli(['fetch', '--sign-in', ...own, url], env);
    expect(second.code).toBe(0);
    expect(second.stderr).toBe(`x402-autopay: signed in to 127.0.0.1 as ${canaryAccount.address}: nothing paid\n`);
    expect(JSON.parse(second.stdout)).toEqual({ article: 'x402 in practice' });
    expect(await stack.balanceOf(canaryAccount.address)).toBe(before - ARTICLE_PRICE);
    expect(signInServer.paidRequests()).toBe(1);
  });

  it('fetch -X POST -H -d sends the JSON body intact on the paid retry', async () => {
    const before = await balances('v2');
    const run = await runCli(['fetch', '-X', 'POST', '-H', 'content-type: application/json', '-d', '{"a":1}', `${stack.v2.url}/echo`], env);
    expect(run.stderr).toMatch(PAID_LINE);
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toEqual({ received: { a: 1 } });
    expect((await balances('v2')).payer).toBe(before.payer - PRICES.echo);
  });

  it('fetch -o writes the body to the file, nothing to stdout', async () => {
    const file = join(await tempDir(dirs), 'weather.json');
    const run = await runCli(['fetch', '-o', file, `${stack.v1.url}/weather`], env);
    expect(run.code).toBe(0);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(PAID_LINE);
    expect(JSON.parse(await readFile(file, 'utf8'))).toMatchObject({ report: { city: 'Localhost' } });
  });

  it('fetch -i prints the status line and headers, then the body', async () => {
    const run = await runCli(['fetch', '-i', `${stack.v2.url}/weather`], env);
    expect(run.code).toBe(0);
    expect(run.stderr).toMatch(PAID_LINE);
    const [head, body] = run.stdout.split('\r\n\r\n');
    const lines = head!.split('\r\n');
    expect(lines[0]).toBe('HTTP/1.1 200 OK');
    expect(lines).toContainEqual(expect.stringMatching(/^content-type: application\/json/));
    expect(lines).toContainEqual(expect.stringMatching(/^payment-response: /));
    expect(JSON.parse(body!)).toMatchObject({ report: { city: 'Localhost' } });
  });

  it('fetch of /premium over --max-per-request 0.10 exits 3 and pays nothing', async () => {
    const before = await balances('v2');
    const signedBefore = stack.v2.server.requests.filter((r) => r.paymentHeader).length;
    const run = await runCli(['fetch', '--max-per-request', '0.10', `${stack.v2.url}/premium`], env);
    expect(run.code).toBe(3);
    expect(run.stdout).toBe('');
    expect(run.stderr).toContain('error budget_exceeded: Paying 0.5 USD');
    expect(run.stderr).toContain('limit: perRequest');
    expect(run.stderr).toContain('Money moved: no');
    expect(run.stderr).toContain('--max-per-request');
    expect(stack.v2.server.requests.filter((r) => r.paymentHeader).length).toBe(signedBefore);
    expect(await balances('v2')).toEqual(before);
  });

  it('fetch limited by --network to another chain exits 3 (no_acceptable_option) and pays nothing', async () => {
    const before = await balances('v1');
    const run = await runCli(['fetch', '--network', 'eip155:8453', `${stack.v1.url}/weather`], env);
    expect(run.code).toBe(3);
    expect(run.stderr).toContain('error no_acceptable_option');
    expect(run.stderr).toContain('network eip155:84532 is not allowed by budget.networks');
    expect(await balances('v1')).toEqual(before);
  });

  for (const version of ['v2', 'v1'] as const) {
    it(`quote of ${version} /two-options shows both options and the chosen one in USD, without a key, and pays nothing`, async () => {
      const before = await balances(version);
      const requestsBefore = stack[version].server.requests.length;
      const run = await runCli(['quote', `${stack[version].url}/two-options`], { HOME: home });
      expect(run.code).toBe(0);
      expect(run.stdout).toContain(`x402 v${version === 'v2' ? 2 : 1}, 2 options`);
      expect(run.stdout).toMatch(/\n {2}0 +exact +eip155:84532 +0\.02 USD \(0\.02 USDC\) +0xa0Ee7A142d267C1f36714E4a8F75612F20a79720 +acceptable, chosen\n/);
      expect(run.stdout).toMatch(new RegExp(`\\n {2}1 +exact +eip155:84532 +5000 atomic units of ${stack.customToken} +0xa0Ee7A142d267C1f36714E4a8F75612F20a79720 +refused \\(unknown_asset\\)`, 'i'));
      expect(run.stdout).toContain('Would pay: option #0, 0.02 USD (0.02 USDC on eip155:84532) to 0xa0Ee7A142d267C1f36714E4a8F75612F20a79720');
      expect(run.stdout).toContain('Nothing was paid or signed.');
      // The ledger written by fetch shows what is left.
      expect(run.stdout).toMatch(/Ledger .*ledger\.json: .*daily 0\.95 of 1 USD left/);
      const seen = stack[version].server.requests.slice(requestsBefore);
      expect(seen.map((r) => [r.path, r.paymentHeader, r.status])).toEqual([['/two-options', undefined, 402]]);
      expect(await balances(version)).toEqual(before);
    });
  }

  it('--assets declares another token: quote prices it, fetch pays it on chain, and its own limits hold', async () => {
    const dir = await tempDir(dirs);
    const own = join(dir, 'ledger.json');
    const tokens = join(dir, 'tokens.json');
    // Not a USD stablecoin: limits of its own, in whole tokens (0.005 a call at /two-options).
    await writeFile(tokens, JSON.stringify([{ network: 'eip155:84532', address: stack.customToken, decimals: 6, name: 'USDC', version: '2', symbol: 'CUSD', perRequest: '1', daily: '0.008' }]));
    const url = `${stack.v2.url}/two-options`;
    const flags = ['--assets', tokens, '--max-per-request', '0.01', '--ledger', own]; // 0.02 USDC is over the USD cap
    const custom = async () => ({ payer: await stack.balanceOf(canaryAccount.address, stack.customToken), payee: await stack.balanceOf(stack.v2.payTo, stack.customToken) });
    const before = { usdc: await balances('v2'), custom: await custom() };

    const quote = await runCli(['quote', ...flags, url], { HOME: home });
    expect(quote.code).toBe(0);
    expect(quote.stdout).toMatch(/\n {2}0 +exact +eip155:84532 +0\.02 USD \(0\.02 USDC\) +0xa0Ee7A142d267C1f36714E4a8F75612F20a79720 +refused \(budget_exceeded\)/);
    expect(quote.stdout).toMatch(/\n {2}1 +exact +eip155:84532 +0\.005 CUSD +0xa0Ee7A142d267C1f36714E4a8F75612F20a79720 +acceptable, chosen\n/);
    expect(quote.stdout).toContain(`Would pay: option #1, 0.005 CUSD on eip155:84532 to ${stack.v2.payTo}`);

    const paid = await runCli(['fetch', ...flags, url], env);
    expect(paid.code, paid.stderr).toBe(0);
    expect(paid.stderr).toMatch(/^x402-autopay: paid 0\.005 CUSD on eip155:84532 to 0xa0Ee7A142d267C1f36714E4a8F75612F20a79720 for 127\.0\.0\.1 \(x402 v2\): settled in transaction 0x[0-9a-f]{64}\n$/);
    expect(await custom()).toEqual({ payer: before.custom.payer - 5_000n, payee: before.custom.payee + 5_000n });
    expect(await balances('v2')).toEqual(before.usdc);

    // 0.003 CUSD of the token's daily 0.008 is left: the ledger's token window refuses the next one.
    const again = await runCli(['quote', ...flags, url], { HOME: home });
    expect(again.code).toBe(3);
    expect(again.stdout).toMatch(/Ledger .*ledger\.json: .*daily 0\.003 of 0\.008 CUSD left/);
    expect(again.stderr).toContain('refused: the daily limit of CUSD has 0.003 CUSD left');
    const refused = await runCli(['fetch', ...flags, url], env);
    expect(refused.code).toBe(3);
    expect(refused.stderr).toContain('error budget_exceeded');
    expect(await custom()).toEqual({ payer: before.custom.payer - 5_000n, payee: before.custom.payee + 5_000n });

    // spend: atomic units without the file; whole tokens with it; in USD when declared a USD stablecoin.
    const key = `eip155:84532/${stack.customToken}`;
    const plain = await runCli(['spend', '--ledger', own], { HOME: home });
    expect(plain.stdout).toContain(`Total: 1 payment, 0.00 USD, plus 5000 of ${key} (1 settled).`);
    const named = await runCli(['spend', '--ledger', own, '--assets', tokens, '--json'], { HOME: home });
    expect(JSON.parse(named.stdout).total).toEqual({ payments: 1, usd: '0.00', other: [{ asset: key, amount: '5000', symbol: 'CUSD', tokens: '0.005' }], statuses: { settled: 1 } });
    const text = await runCli(['spend', '--ledger', own, '--assets', tokens], { HOME: home });
    expect(text.stdout).toContain(`Total: 1 payment, 0.00 USD, plus 0.005 CUSD (${key}) (1 settled).`);
    const pegged = join(dir, 'pegged.json');
    await writeFile(pegged, JSON.stringify([{ network: 'eip155:84532', address: stack.customToken, decimals: 6, name: 'USDC', version: '2', symbol: 'CUSD', usdPegged: true }]));
    const usd = await runCli(['spend', '--ledger', own, '--assets', pegged, '--json'], { HOME: home });
    expect(JSON.parse(usd.stdout).total).toEqual({ payments: 1, usd: '0.005', other: [], statuses: { settled: 1 } });
  });

  it('quote --json gives the options and the choice to machines (amounts as strings)', async () => {
    const run = await runCli(['quote', '--json', `${stack.v2.url}/two-options`], { HOME: home });
    expect(run.code).toBe(0);
    const result = JSON.parse(run.stdout);
    expect(result).toMatchObject({ status: 402, paymentRequired: true, version: 2, paid: false, refusal: null });
    expect(result.options).toHaveLength(2);
    expect(result.options[0]).toMatchObject({ index: 0, amount: '20000', usd: '0.02', symbol: 'USDC', acceptable: true, refusal: null });
    expect(result.options[1]).toMatchObject({ index: 1, amount: '5000', usd: null, acceptable: false, refusal: { code: 'unknown_asset' } });
    expect(result.chosen).toMatchObject({ index: 0, network: 'eip155:84532', amount: '20000', tokens: '0.02', usd: '0.02', payTo: stack.v2.payTo });
  });

  it('quote of a route over --max-per-request exits 3 and says why', async () => {
    const run = await runCli(['quote', '--max-per-request', '0.10', `${stack.v1.url}/premium`], { HOME: home });
    expect(run.code).toBe(3);
    expect(run.stdout).toContain('refused (budget_exceeded)');
    expect(run.stdout).toContain('Would pay: nothing (budget_exceeded).');
    expect(run.stderr).toContain('Money moved: no');
  });

  it('spend and spend --json show, in another process, the payments the fetch runs recorded', async () => {
    const text = await runCli(['spend'], { HOME: home });
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/\d{4}-\d{2}-\d{2} +127\.0\.0\.1 +0xa0Ee7A142d267C1f36714E4a8F75612F20a79720 +5 +0\.05 +5 settled\n/);
    expect(text.stdout).toContain('Total: 5 payments, 0.05 USD (5 settled).');

    const json = await runCli(['spend', '--json'], { HOME: home });
    expect(json.code).toBe(0);
    const report = JSON.parse(json.stdout);
    expect(report.ledger).toBe(ledger);
    expect(report.total).toEqual({ payments: 5, usd: '0.05', other: [], statuses: { settled: 5 } });
    expect(report.groups).toEqual([
      { day: expect.stringMatching(/^\d{4}-\d{2}-\d{2}$/), host: '127.0.0.1', payee: stack.payTo, payments: 5, usd: '0.05', other: [], statuses: { settled: 5 } },
    ]);
    expect(report.records).toHaveLength(5);
    for (const record of report.records) {
      expect(record).toMatchObject({ host: '127.0.0.1', payee: stack.payTo, amount: '10000', network: 'eip155:84532', status: 'settled', usd: '0.01' });
      expect(record.transaction).toMatch(/^0x[0-9a-f]{64}$/);
    }
  });

  it('a payment the server rejects (unfunded payer) exits 4 and says money may have moved', async () => {
    const own = join(await tempDir(dirs), 'ledger.json');
    const run = await runCli(['fetch', '--ledger', own, `${stack.v2.url}/weather`], { HOME: home, X402_PRIVATE_KEY: unfundedKey });
    expect(run.code).toBe(4);
    expect(run.stdout).toBe('');
    expect(run.stderr).toContain('error payment_rejected');
    expect(run.stderr).toContain('Money moved: maybe');
    const spend = await runCli(['spend', '--json', '--ledger', own], { HOME: home });
    expect(JSON.parse(spend.stdout).total).toMatchObject({ payments: 1, usd: '0.01' });
    expect(await stack.balanceOf(privateKeyToAccount(unfundedKey).address)).toBe(0n);
  });

  it('with --rpc, the unfunded payer is refused before signing: exit 3 (insufficient_balance), nothing recorded; a funded one pays', async () => {
    const own = join(await tempDir(dirs), 'ledger.json');
    const run = await runCli(['fetch', '--rpc', stack.rpcUrl, '--ledger', own, `${stack.v2.url}/weather`], { HOME: home, X402_PRIVATE_KEY: unfundedKey });
    expect(run.code).toBe(3);
    expect(run.stdout).toBe('');
    expect(run.stderr).toContain('error no_acceptable_option');
    expect(run.stderr).toContain('the payer holds 0 USDC on eip155:84532, less than the 0.01 asked');
    expect(run.stderr).toContain('Money moved: no');
    const spend = await runCli(['spend', '--json', '--ledger', own], { HOME: home });
    expect(JSON.parse(spend.stdout).total).toMatchObject({ payments: 0 });
    const funded = await runCli(['fetch', '--rpc', stack.rpcUrl, '--ledger', own, `${stack.v2.url}/weather`], env);
    expect(funded.code).toBe(0);
    expect(funded.stderr).toContain('paid');
  });

  it('--rpc that is not an http(s) URL is bad input (exit 2); a node that does not answer is exit 1, nothing paid', async () => {
    const bad = await runCli(['fetch', '--rpc', 'ftp://node', `${stack.v2.url}/weather`], env);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--rpc must be an http(s) URL');
    const down = await runCli(['fetch', '--rpc', 'http://127.0.0.1:9', `${stack.v2.url}/weather`], env);
    expect(down.code).toBe(1);
    expect(down.stderr).toContain('did not say which chain it serves');
    expect(down.stderr).toContain('nothing was paid');
  });

  it('XDG_STATE_HOME moves the default ledger', async () => {
    const state = await tempDir(dirs);
    const run = await runCli(['fetch', `${stack.v2.url}/weather`], { ...env, XDG_STATE_HOME: state });
    expect(run.code).toBe(0);
    expect((await stat(join(state, 'x402-autopay', 'ledger.json'))).isFile()).toBe(true);
    const spend = await runCli(['spend', '--json'], { HOME: home, XDG_STATE_HOME: state });
    expect(JSON.parse(spend.stdout).total).toMatchObject({ payments: 1, usd: '0.01' });
  });
});
