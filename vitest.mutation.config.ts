import { defineConfig } from 'vitest/config';

/**
 * The tests `npm run mutation` (Stryker) runs against each mutant: the unit and hostile suites,
 * which need no chain, browser or Redis, the request guard's (loopback servers only), and the parser fuzz suites at 5% of their cases with a
 * fixed seed (the same cases for every mutant; the whole suites would run for minutes per
 * mutant). The secrets file is left out (its I4 case scans the source files, which Stryker's
 * instrumented copies fail by design), and so is the wrapFetch fuzz suite (it pays through
 * the whole engine: minutes per mutant). A module-level mutant that makes an import throw is
 * killed, not survived: see `test/support/loadFailureReporter.ts`.
 */
export default defineConfig({
  test: {
    include: [
      'test/unit/**/*.test.ts',
      'test/hostile/**/*.test.ts',
      'test/node/addressRange.test.ts',
      'test/node/guardAddresses.test.ts',
      'test/node/publicAddressLookup.test.ts',
      'test/fuzz/strictJson.fuzz.test.ts',
      'test/fuzz/v1Body.fuzz.test.ts',
      'test/fuzz/v2Header.fuzz.test.ts',
    ],
    env: { FUZZ_SCALE: '0.05', FUZZ_SEED: '20261121' },
    exclude: ['test/hostile/I.secrets.test.ts'],
    // A test file that cannot load counts as a failed test (see the reporter).
    reporters: ['default', './test/support/loadFailureReporter.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});
