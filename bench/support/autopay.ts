/**
 * x402-autopay as the benchmarks measure it: the current `src/`, compiled the way the package
 * is built (esbuild, ES2022, ESM, viem/zod/ioredis external, one shared core for the entries),
 * into `node_modules/.cache/x402-autopay-bench/`. Running `src/` through tsx instead would add
 * tsx's dev-only helpers (`keepNames`) to every function and overstate the library's cost; the
 * reference client is likewise measured from its published build in node_modules. The bundle's
 * directory (one per process) is removed when the process exits.
 */
import { build } from 'esbuild';
import { rmSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { dirname, join } from 'node:path';

type Index = typeof import('../../src/index.js');
type NodeEntry = typeof import('../../src/node/index.js');
type RedisEntry = typeof import('../../src/redis/index.js');
type LedgerWriter = typeof import('./fileLedgerWriter.js');
type Loaded = { index: Index; node: NodeEntry; redis: RedisEntry; ledgerWriter: LedgerWriter };

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
// One directory per process (the client processes build too), removed when the process exits.
const outdir = join(root, 'node_modules', '.cache', 'x402-autopay-bench', String(process.pid));

let loaded: Promise<Loaded> | undefined;

/**
 * Builds `src/` (once per process) and imports its entries, plus the benchmark's file-ledger
 * writer (which uses the file store's internals, so it shares their chunks).
 */
export function loadAutopay(): Promise<Loaded> {
  loaded ??= (async () => {
    process.once('exit', () => rmSync(outdir, { recursive: true, force: true }));
    await build({
      entryPoints: {
        index: join(root, 'src/index.ts'),
        node: join(root, 'src/node/index.ts'),
        redis: join(root, 'src/redis/index.ts'),
        ledgerWriter: join(root, 'bench/support/fileLedgerWriter.ts'),
      },
      outdir,
      bundle: true,
      splitting: true,
      format: 'esm',
      platform: 'node',
      target: 'es2022',
      outExtension: { '.js': '.mjs' },
      external: ['viem', 'viem/*', 'zod', 'zod/*', 'ioredis'],
      logLevel: 'silent',
    });
    const load = (name: string) => import(pathToFileURL(join(outdir, `${name}.mjs`)).href);
    const [index, node, redis, ledgerWriter] = await Promise.all([load('index'), load('node'), load('redis'), load('ledgerWriter')]);
    return { index: index as Index, node: node as NodeEntry, redis: redis as RedisEntry, ledgerWriter: ledgerWriter as LedgerWriter };
  })();
  return loaded;
}
