/**
 * Bookkeeping for the fuzz suite: run counts (scaled by FUZZ_SCALE, default 1; FUZZ_SEED fixes
 * the seed), a tripwire for unhandled rejections, and one printed line per file:
 * `[fuzz] <file>: <cases> cases, <ms> ms, seed <seed>` (the closing note quotes these).
 */
import { afterAll, beforeAll, expect } from 'vitest';

const scale = Number(process.env['FUZZ_SCALE'] ?? '1');
const fixedSeed = process.env['FUZZ_SEED'] === undefined ? undefined : Number(process.env['FUZZ_SEED']);

export interface FuzzStats {
  /** fast-check parameters for `runs` cases (scaled). */
  params(runs: number): { numRuns: number; seed?: number };
  /** Counts cases that ran. */
  count(n?: number): void;
  /** Counts an outcome by label (printed with the totals). */
  tally(label: string): void;
}

export function useFuzzStats(file: string): FuzzStats {
  let cases = 0;
  let started = 0;
  const tallies = new Map<string, number>();
  const seed = fixedSeed ?? Date.now() % 2 ** 31;
  const rejections: unknown[] = [];
  const onRejection = (reason: unknown) => rejections.push(reason);
  beforeAll(() => {
    started = performance.now();
    process.on('unhandledRejection', onRejection);
  });
  afterAll(() => {
    process.off('unhandledRejection', onRejection);
    const ms = Math.round(performance.now() - started);
    const outcomes = [...tallies].map(([label, n]) => `${label} ${n}`).join(', ');
    process.stdout.write(`[fuzz] ${file}: ${cases} cases, ${ms} ms, seed ${seed}${outcomes ? ` (${outcomes})` : ''}\n`);
    expect(rejections, 'unhandled rejections during fuzzing').toEqual([]);
  });
  return {
    params: (runs) => ({ numRuns: Math.max(1, Math.round(runs * scale)), seed }),
    count: (n = 1) => {
      cases += n;
    },
    tally: (label) => {
      tallies.set(label, (tallies.get(label) ?? 0) + 1);
    },
  };
}
