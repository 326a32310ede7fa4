/**
 * Bundle size of `import { wrapFetch } from 'x402-autopay'` against the reference client
 * (`@x402/fetch` `wrapFetchWithPayment` + `x402Client` + the `@x402/evm` exact client), both
 * minified and gzipped with viem external. The measurement is `scripts/size.mjs` itself
 * (`npm run size`), run with `--src` so that it bundles the current source rather than `dist/`.
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { formatRatio, table } from './support/stats.js';

export interface SizeResult {
  /** gzip bytes of `import { wrapFetch }`. */
  readonly autopay: number;
  readonly autopayMinified: number;
  /** gzip bytes of the reference. */
  readonly reference: number;
  readonly referenceMinified: number;
  readonly ratio: number;
}

interface SizeJson {
  readonly reference: { readonly minified: number; readonly gzip: number };
  readonly entries: readonly { readonly name: string; readonly minified: number; readonly gzip: number }[];
}

export async function runSize(): Promise<SizeResult> {
  const script = fileURLToPath(new URL('../scripts/size.mjs', import.meta.url));
  // size.mjs exits 1 when an entry is over its budget; the numbers are printed all the same.
  const { stdout } = await promisify(execFile)(process.execPath, [script, '--json', '--src']).catch((error: { stdout?: string }) => {
    if (typeof error.stdout === 'string' && error.stdout.startsWith('{')) return { stdout: error.stdout };
    throw error;
  });
  const json = JSON.parse(stdout) as SizeJson;
  const entry = json.entries.find((e) => e.name === "import { wrapFetch } from 'x402-autopay'");
  if (!entry) throw new Error('size bench: scripts/size.mjs no longer measures `import { wrapFetch }`');
  return {
    autopay: entry.gzip,
    autopayMinified: entry.minified,
    reference: json.reference.gzip,
    referenceMinified: json.reference.minified,
    ratio: entry.gzip / json.reference.gzip,
  };
}

const kb = (n: number) => `${(n / 1000).toFixed(1)} KB`;

export function formatSize(r: SizeResult): string {
  return [
    table(
      ['bundle (viem external)', 'minified', 'min + gzip'],
      [
        ["import { wrapFetch } from 'x402-autopay'", kb(r.autopayMinified), kb(r.autopay)],
        ['@x402/fetch wrapFetchWithPayment + x402Client + @x402/evm exact client', kb(r.referenceMinified), kb(r.reference)],
      ],
    ),
    `x402-autopay / reference (gzip): ${formatRatio(r.ratio)}`,
  ].join('\n');
}

if (import.meta.url === `file://${process.argv[1]}`) {
  console.log(formatSize(await runSize()));
}
