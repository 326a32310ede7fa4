import { readFileSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const dist = join(import.meta.dirname, '../../dist');
const pkg = JSON.parse(readFileSync(join(import.meta.dirname, '../../package.json'), 'utf8'));
const NODE_BUILTIN = /(?:from\s*|import\(\s*|require\(\s*)["'](node:[^"']+|fs|path|os|crypto|http|https|net|tls|stream|buffer|util|child_process|worker_threads)["']/;

/** Every file an entry loads, following relative imports through the shared chunks. */
function graph(file: string, seen = new Set<string>()): Set<string> {
  if (seen.has(file)) return seen;
  seen.add(file);
  const text = readFileSync(join(dist, file), 'utf8');
  for (const match of text.matchAll(/(?:from\s*|import\(\s*|require\(\s*)["']\.\/([^"']+)["']/g)) graph(match[1]!, seen);
  return seen;
}

describe('built package (npm run build first)', () => {
  it('declares ESM, CJS and types for ., ./node and ./browser, with the other platform mapped to null', () => {
    expect(pkg.sideEffects).toBe(false);
    expect(pkg.peerDependencies.viem).toBeDefined();
    expect(pkg.exports['./node'].browser).toBeNull();
    expect(pkg.exports['./browser'].node).toBeNull();
    for (const entry of ['.', './node', './browser']) {
      const e = pkg.exports[entry];
      expect(e.import.types).toMatch(/\.d\.ts$/);
      expect(e.require.types).toMatch(/\.d\.cts$/);
    }
  });

  it.each(['index.js', 'browser.js', 'index.cjs', 'browser.cjs'])('%s pulls in no Node built-in', (entry) => {
    for (const file of graph(entry)) {
      expect(readFileSync(join(dist, file), 'utf8'), file).not.toMatch(NODE_BUILTIN);
    }
  });

  it('shares one copy of the core between entries', () => {
    const chunks = readdirSync(dist).filter((f) => f.startsWith('chunk-') && f.endsWith('.js'));
    expect(chunks.length).toBeGreaterThan(0);
    for (const entry of ['index.js', 'node.js', 'browser.js']) {
      expect(readFileSync(join(dist, entry), 'utf8').length, entry).toBeLessThan(2_000);
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
  });
});
