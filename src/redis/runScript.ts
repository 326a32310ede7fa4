import type { RedisScriptClient } from './client.js';

/**
 * One Lua script of the Redis store: its name (for error messages) and its source.
 *
 * @example
 * ```ts
 * import type { LuaScript } from './runScript.js';
 * const PING: LuaScript = { name: 'ping', source: "return 'PONG'" };
 * ```
 */
export interface LuaScript {
  readonly name: string;
  readonly source: string;
}

/**
 * Runs a script: by source (`EVAL`, which also caches it in Redis) until it has run once through
 * this runner, then by SHA-1 (`EVALSHA`), falling back to `EVAL` when the server answers
 * `NOSCRIPT` (after a restart, a failover or `SCRIPT FLUSH`; a script that was not found did not
 * run, so running it again is safe). Rejects after `timeoutMs` whatever the client does; the
 * script may still run later, which for a reserve only ever over-counts (fail closed).
 *
 * @example
 * ```ts
 * import { createScriptRunner } from './runScript.js';
 * const run = createScriptRunner(client, 2_000);
 * const reply = await run(RESERVE_SCRIPT, keys, args);
 * ```
 */
export function createScriptRunner(
  client: RedisScriptClient,
  timeoutMs: number,
): (script: LuaScript, keys: readonly string[], args: readonly string[]) => Promise<unknown> {
  // SHA-1 of each script that has run through this runner (so Redis has cached it, until a restart).
  const shas = new Map<LuaScript, string>();
  return (script, keys, args) => {
    const call = async () => {
      const params = [...keys, ...args];
      const sha = shas.get(script);
      if (sha !== undefined) {
        try {
          return await client.evalsha(sha, keys.length, ...params);
        } catch (error) {
          if (!isNoScript(error)) throw error;
        }
      }
      const reply = await client.eval(script.source, keys.length, ...params);
      if (sha === undefined) shas.set(script, await sha1Hex(script.source));
      return reply;
    };
    return withTimeout(call(), timeoutMs, script.name).catch((cause: unknown) => {
      throw new Error(`redisStore: ${script.name} failed: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
    });
  };
}

function isNoScript(error: unknown): boolean {
  return error instanceof Error && error.message.startsWith('NOSCRIPT');
}

async function sha1Hex(text: string): Promise<string> {
  const digest = await globalThis.crypto.subtle.digest('SHA-1', new TextEncoder().encode(text));
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, '0')).join('');
}

function withTimeout<T>(promise: Promise<T>, ms: number, name: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer from Redis within ${ms} ms (${name} may still run; a reserve then stays counted)`)), ms);
  });
  // A late rejection of the abandoned call must not become an unhandled rejection.
  promise.catch(() => undefined);
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
