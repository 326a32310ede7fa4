import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * The package as a user gets it: `npm pack`, install the tarball into a fresh project (with the
 * required peer, viem, but none of the optional ones), then load every export from Node as ESM
 * and as CJS, and through a browser bundler. Needs `npm run build` first.
 */
const root = join(import.meta.dirname, '../..');
const repoPkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const NAME: string = repoPkg.name;
const subpaths = Object.keys(repoPkg.exports).filter((k) => k !== './package.json');
const specifier = (subpath: string) => NAME + subpath.slice(1);
/** Entries Node must not load: the browser build maps `node` to null. */
const browserOnly = subpaths.filter((s) => repoPkg.exports[s].node === null);
/** Entries a browser bundle must not load. */
const nodeOnly = subpaths.filter((s) => repoPkg.exports[s].browser === null);

/** Names each entry must export (the rest is compared with the repo's own build). */
const MAIN_NAMES: Record<string, string[]> = {
  '.': ['wrapFetch', 'getPayment', 'memoryStore', 'isX402Error', 'X402Error', 'BudgetExceededError', 'PaymentRejectedError'],
  './node': ['wrapFetch', 'getPayment', 'fileStore', 'guardAddresses', 'RequestBlockedError'],
  './browser': ['wrapFetch', 'getPayment', 'browserStore'],
  './ky': ['withPayment', 'paymentHooks'],
  './redis': ['redisStore'],
  './testing': ['mockX402Server', 'MOCK_PAY_TO'],
};

let project = '';
let files: string[] = [];

function run(file: string, args: string[], cwd: string): string {
  return execFileSync(file, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 90_000 });
}

/** Loads every export in a child Node process; prints `{ subpath: names[] | { error } }`. */
function loadAll(kind: 'esm' | 'cjs'): Record<string, string[] | { error: string }> {
  const script =
    kind === 'esm'
      ? `const out = {};
for (const s of ${JSON.stringify(subpaths)}) {
  try { out[s] = Object.keys(await import(${JSON.stringify(NAME)} + s.slice(1))).sort(); } catch (e) { out[s] = { error: e.code ?? String(e) }; }
}
console.log(JSON.stringify(out));`
      : `const out = {};
for (const s of ${JSON.stringify(subpaths)}) {
  try { out[s] = Object.keys(require(${JSON.stringify(NAME)} + s.slice(1))).sort(); } catch (e) { out[s] = { error: e.code ?? String(e) }; }
}
console.log(JSON.stringify(out));`;
  const file = join(project, kind === 'esm' ? 'load.mjs' : 'load.cjs');
  writeFileSync(file, script);
  return JSON.parse(run(process.execPath, [file], project));
}

/** The names the repo's own build exports for an entry (the tarball must carry the same). */
async function builtNames(subpath: string): Promise<string[]> {
  const target = repoPkg.exports[subpath];
  const file: string = target.import?.default ?? target.import;
  return Object.keys(await import(join(root, file))).sort();
}

beforeAll(() => {
  if (!existsSync(join(root, 'dist/index.js'))) throw new Error('run `npm run build` first');
  project = mkdtempSync(join(tmpdir(), 'x402-autopay-pack-'));
  const packed = JSON.parse(run('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', project], root));
  files = packed[0].files.map((f: { path: string }) => f.path);
  const tarball = join(project, packed[0].filename);
  writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'pack-check', version: '0.0.0', private: true }));
  // Required peers at the version this repo tests with; optional peers (ky, ioredis) stay out.
  const optional = repoPkg.peerDependenciesMeta ?? {};
  const peers = Object.keys(repoPkg.peerDependencies ?? {})
    .filter((name) => !optional[name]?.optional)
    .map((name) => `${name}@${repoPkg.devDependencies[name]}`);
  run('npm', ['install', tarball, ...peers, '--no-audit', '--no-fund', '--prefer-offline', '--ignore-scripts', '--no-package-lock'], project);
}, 120_000);

afterAll(() => {
  if (project) rmSync(project, { recursive: true, force: true });
});

describe('the packed tarball', () => {
  it('ships the build, the docs and the README, and no sources or tests', () => {
    expect(files).toContain('package.json');
    expect(files).toContain('README.md');
    for (const subpath of subpaths) {
      const e = repoPkg.exports[subpath];
      for (const file of [e.import?.default ?? e.import, e.require?.default ?? e.require, e.import?.types ?? e.types?.import, e.require?.types ?? e.types?.require]) {
        expect(files, `${subpath}: ${file}`).toContain(file.replace(/^\.\//, ''));
      }
    }
    expect(files.filter((f) => /^(src|test|scripts|contracts)\//.test(f))).toEqual([]);
  });

  it.each(['esm', 'cjs'] as const)('every export loads in Node as %s, with the names of the build', async (kind) => {
    const loaded = loadAll(kind);
    for (const subpath of subpaths) {
      if (browserOnly.includes(subpath)) {
        expect(loaded[subpath], subpath).toEqual({ error: 'ERR_PACKAGE_PATH_NOT_EXPORTED' });
        continue;
      }
      const names = loaded[subpath];
      expect(Array.isArray(names), `${subpath}: ${JSON.stringify(names)}`).toBe(true);
      expect(names).toEqual(expect.arrayContaining(MAIN_NAMES[subpath] ?? []));
      expect(names, subpath).toEqual(await builtNames(subpath));
    }
  });

  it('optional peers are optional: the ky entry loads without ky installed', () => {
    expect(existsSync(join(project, 'node_modules/ky'))).toBe(false);
    expect(loadAll('esm')['./ky']).toEqual(expect.arrayContaining(['withPayment', 'paymentHooks']));
  });

  it.each(['esm', 'cjs'] as const)('every browser-safe export bundles for the browser (%s) and the bundle runs', async (kind) => {
    for (const subpath of subpaths.filter((s) => !nodeOnly.includes(s))) {
      const spec = JSON.stringify(specifier(subpath));
      const result = await build({
        stdin: { contents: kind === 'esm' ? `export * from ${spec};` : `module.exports = require(${spec});`, resolveDir: project, loader: 'js' },
        absWorkingDir: project,
        bundle: true,
        format: kind,
        platform: 'browser',
        external: ['viem', 'viem/*'],
        write: false,
        logLevel: 'silent',
      });
      const code = result.outputFiles[0]!.text;
      expect(code, subpath).not.toMatch(/["']node:/);
      const file = join(project, `bundle-${subpath.slice(2) || 'index'}.${kind === 'esm' ? 'mjs' : 'cjs'}`);
      writeFileSync(file, code);
      const loader = kind === 'esm' ? `import(${JSON.stringify(file)}).then((m) => console.log(JSON.stringify(Object.keys(m).sort())))` : `console.log(JSON.stringify(Object.keys(require(${JSON.stringify(file)})).sort()))`;
      const names = JSON.parse(run(process.execPath, ['-e', loader], project));
      expect(names, subpath).toEqual(expect.arrayContaining(MAIN_NAMES[subpath] ?? []));
    }
  });

  it('a browser bundle cannot reach the Node-only entries', async () => {
    for (const subpath of nodeOnly) {
      await expect(
        build({
          stdin: { contents: `export * from ${JSON.stringify(specifier(subpath))};`, resolveDir: project, loader: 'js' },
          absWorkingDir: project,
          bundle: true,
          platform: 'browser',
          external: ['viem', 'viem/*'],
          write: false,
          logLevel: 'silent',
        }),
        subpath,
      ).rejects.toThrow(/not exported|Could not resolve/);
    }
  });
});
