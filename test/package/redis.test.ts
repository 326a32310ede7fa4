import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { dist, distGraph } from '../support/distGraph.js';

const pkg = JSON.parse(readFileSync(join(import.meta.dirname, '../../package.json'), 'utf8'));

describe('built x402-autopay/redis (npm run build first)', () => {
  it('is a Node-only entry with ESM, CJS and types, and ioredis an optional peer', () => {
    const e = pkg.exports['./redis'];
    expect(Object.keys(e)[0]).toBe('browser');
    expect(e.browser).toBeNull();
    expect(e.import).toEqual({ types: './dist/redis.d.ts', default: './dist/redis.js' });
    expect(e.require).toEqual({ types: './dist/redis.d.cts', default: './dist/redis.cjs' });
    expect(pkg.peerDependencies.ioredis).toBe('^5.0.0 || ^6.0.0');
    expect(pkg.peerDependenciesMeta.ioredis).toEqual({ optional: true });
    expect(pkg.dependencies?.ioredis).toBeUndefined();
  });

  it.each(['redis.js', 'redis.cjs'])('%s never loads ioredis (the client is passed in)', (entry) => {
    for (const file of distGraph(entry)) {
      expect(readFileSync(join(dist, file), 'utf8'), file).not.toMatch(/(?:from\s*|import\(\s*|require\(\s*)["']ioredis["']/);
    }
  });

  it('exports only redisStore, the same from ESM and CJS, and the built store runs its scripts through the client', async () => {
    const esm = await import(join(dist, 'redis.js'));
    const cjs = createRequire(import.meta.url)(join(dist, 'redis.cjs'));
    expect(Object.keys(esm)).toEqual(['redisStore']);
    expect(Object.keys(cjs)).toEqual(['redisStore']);
    const calls: unknown[][] = [];
    let cached = false;
    const client = {
      evalsha: async (...args: unknown[]) => {
        calls.push(['evalsha', ...args]);
        if (!cached) throw new Error('NOSCRIPT No matching script. Please use EVAL.');
        return ['ok', '1750000000001'];
      },
      eval: async (...args: unknown[]) => {
        calls.push(['eval', ...args]);
        return ['ok', '1750000000000'];
      },
    };
    const request = {
      id: 'pay_1',
      checks: [{ key: 'global|USD|total', window: { kind: 'total' }, amount: 5n, limit: 10n }],
      record: { host: 'h', payee: '0x1', amount: '5', asset: '0x2', network: 'eip155:1' },
    };
    for (const { redisStore } of [esm, cjs]) {
      calls.length = 0;
      cached = false;
      const store = redisStore(client, { prefix: 'p:' });
      // First by source; then by SHA-1; NOSCRIPT (a restarted server) → by source again.
      expect(await store.reserve(request)).toEqual({ ok: true, time: 1_750_000_000_000 });
      expect(calls[0]!.slice(0, 1).concat(calls[0]!.slice(2, 9))).toEqual(['eval', 6, 'p:r:pay_1', 'p:records', 'p:report', 'p:seq', 'p:c:global|USD|total', 'p:format']);
      cached = true;
      expect(await store.reserve(request)).toEqual({ ok: true, time: 1_750_000_000_001 });
      cached = false;
      expect(await store.reserve(request)).toEqual({ ok: true, time: 1_750_000_000_000 });
      expect(calls.map((c) => c[0])).toEqual(['eval', 'evalsha', 'evalsha', 'eval']);
      expect(calls[1]![1]).toMatch(/^[0-9a-f]{40}$/);
    }
  });
});
