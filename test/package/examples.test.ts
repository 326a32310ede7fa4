/**
 * The self-contained examples run and check themselves (they import the built package, so
 * `npm run build` first, as `npm test` does): the offline testing-kit example, and the
 * reconciliation and sign-in examples on their own local chains.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const root = join(import.meta.dirname, '../..');

async function example(file: string): Promise<string> {
  const { stdout } = await run(process.execPath, ['--import', 'tsx', join(root, 'examples', file)], { cwd: root, timeout: 120_000 });
  return stdout;
}

describe('examples', { timeout: 150_000 }, () => {
  it('testing.ts: the budget stops at the cap, a lost answer is one counted payment, a keyed retry pays once', async () => {
    const out = await example('testing.ts');
    expect(out).toContain('budget: bought 5, then budget_exceeded');
    expect(out).toContain('keyed retry: settlement_unknown, then 200 with the same nonce; a third call: duplicate_request');
    expect(out).toContain('All checks passed.');
  });

  it('reconcile.ts: the settled payment stays counted, the expired one is given back, and the chain agrees', async () => {
    const out = await example('reconcile.ts');
    expect(out).toContain('reconcile() now: used, pending; used today: 0.02 USD');
    expect(out).toContain('reconcile() after the expiry: expired (given back); used today: 0.01 USD');
  });

  it('signIn.ts: the article is paid once on chain, then read by signing in, and the members page lets the wallet in', async () => {
    const out = await example('signIn.ts');
    expect(out).toContain('GET /article: 200, paid 0.01 USDC (settled)');
    expect(out.match(/GET \/article: 200, nothing paid/g)).toHaveLength(2);
    expect(out).toContain('GET /members: 200, nothing paid, {"members":true}');
    expect(out).toContain('On chain the payer spent 0.01 USDC for 4 calls');
  });
});
