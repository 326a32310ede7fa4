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
