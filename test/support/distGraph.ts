import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** The built package (`npm run build` first). */
export const dist = join(import.meta.dirname, '../../dist');

/** Every file of `dist/` an entry loads, following relative imports through the shared chunks. */
export function distGraph(file: string, seen = new Set<string>()): Set<string> {
  if (seen.has(file)) return seen;
  seen.add(file);
  const text = readFileSync(join(dist, file), 'utf8');
  for (const match of text.matchAll(/(?:from\s*|import\(\s*|require\(\s*)["']\.\/([^"']+)["']/g)) distGraph(match[1]!, seen);
  return seen;
}
