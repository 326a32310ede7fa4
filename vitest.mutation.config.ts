import { defineConfig } from 'vitest/config';

/**
 * The tests `npm run mutation` (Stryker) runs against each mutant: the unit and hostile suites,
 * which need no chain, browser or Redis. The fuzz suites are left out (each would run for every
 * parser mutant it covers, for minutes), and so is the secrets file (its I4 case scans the
 * source files, which Stryker's instrumented copies fail by design).
 */
export default defineConfig({
  test: {
    include: ['test/unit/**/*.test.ts', 'test/hostile/**/*.test.ts'],
    exclude: ['test/hostile/I.secrets.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});
