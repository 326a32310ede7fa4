import { readFileSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { dist, distGraph } from '../support/distGraph.js';

const pkg = JSON.parse(readFileSync(join(import.meta.dirname, '../../package.json'), 'utf8'));
const NODE_BUILTIN = /(?:from\s*|import\(\s*|require\(\s*)["'](node:[^"']+|fs|path|os|crypto|http|https|net|tls|stream|buffer|util|child_process|worker_threads)["']/;

describe('built package (npm run build first)', () => {
  it('declares ESM, CJS and types for ., ./node and ./browser, with the other platform mapped to null', () => {
    expect(pkg.sideEffects).toBe(false);
    expect(pkg.peerDependencies.viem).toBeDefined();
    expect(pkg.exports['./node'].browser).toBeNull();
    expect(pkg.exports['./browser'].node).toBeNull();
    for (const entry of Object.keys(pkg.exports).filter((k) => k !== './package.json')) {
      const e = pkg.exports[entry];
      // Types either under import/require, or (./browser) first under `types`, so that TypeScript,
      // which always sets the `node` condition, never reaches `node: null` (TS issue 50762).
      expect(e.import.types ?? e.types.import, entry).toMatch(/\.d\.ts$/);
      expect(e.require.types ?? e.types.require, entry).toMatch(/\.d\.cts$/);
    }
    expect(Object.keys(pkg.exports['./browser'])[0]).toBe('types');
  });

  it.each(['index.js', 'browser.js', 'ky.js', 'index.cjs', 'browser.cjs', 'ky.cjs'])('%s pulls in no Node built-in', (entry) => {
    for (const file of distGraph(entry)) {
      expect(readFileSync(join(dist, file), 'utf8'), file).not.toMatch(NODE_BUILTIN);
    }
  });

  it('shares one copy of the core between entries', () => {
    // Platform code (fileStore, browserStore…) may live in its entry file; the core may not.
    const files = readdirSync(dist).filter((f) => f.endsWith('.js'));
    for (const marker of [/\bX402Error = class\b|\bclass X402Error\b/, /\bfunction createEngine\(/]) {
      const holders = files.filter((f) => marker.test(readFileSync(join(dist, f), 'utf8')));
      expect(holders, String(marker)).toHaveLength(1);
      expect(holders[0], String(marker)).toMatch(/^chunk-/);
      for (const entry of ['index.js', 'node.js', 'browser.js', 'ky.js']) expect(distGraph(entry).has(holders[0]!), `${entry} loads ${marker}`).toBe(true);
    }
  });

  it('imports every entry as ESM and as CJS with the same public names', async () => {
    const require = createRequire(import.meta.url);
    for (const name of ['index', 'node', 'browser']) {
      const esm = await import(join(dist, `${name}.js`));
      const cjs = require(join(dist, `${name}.cjs`));
      expect(typeof esm.wrapFetch, name).toBe('function');
      expect(typeof esm.getPayment, name).toBe('function');
      expect(Object.keys(cjs).sort(), name).toEqual(Object.keys(esm).sort());
    }
    const kyEsm = await import(join(dist, 'ky.js'));
    const kyCjs = require(join(dist, 'ky.cjs'));
    for (const mod of [kyEsm, kyCjs]) {
      expect(typeof mod.withPayment).toBe('function');
      expect(typeof mod.paymentHooks).toBe('function');
    }
    // The ky entry shares the core: its errors are the ones `x402-autopay` exports.
    expect(readFileSync(join(dist, 'ky.js'), 'utf8')).not.toMatch(/class \w+ extends Error/);
  });
});
