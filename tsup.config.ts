import { defineConfig } from 'tsup';

/**
 * One build for every entry: with `splitting`, the core (engine, protocol, schemes, wallets)
 * lands in shared chunks that `.`, `./node` and `./browser` all import, so an app that loads
 * two entries holds one copy of the core (one error brand, one receipt registry).
 */
export default defineConfig({
  entry: {
    index: 'src/index.ts',
    node: 'src/node/index.ts',
    browser: 'src/browser/index.ts',
    ky: 'src/ky.ts',
    redis: 'src/redis/index.ts',
    testing: 'src/testing/index.ts',
    // The `x402-autopay` command (package.json `bin`: ./dist/cli.js, Node only). In this build so
    // that it shares the core chunks with the library entries: one engine, one copy.
    cli: 'src/cli/main.ts',
  },
  format: ['esm', 'cjs'],
  dts: true,
  splitting: true,
  treeshake: true,
  sourcemap: true,
  clean: true,
  target: 'es2022',
  platform: 'neutral',
  external: ['viem', 'zod'],
});
