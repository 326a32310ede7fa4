import { LUA_PRELUDE } from './luaPrelude.js';
import type { LuaScript } from './runScript.js';

/**
 * Reads the spend report: the JSON records of reservations made at or after `since` (ms), oldest
 * first (reservation order within one millisecond), at most the `limit` newest. Read-only.
 *
 * KEYS: 1 records (hash of id → JSON), 2 report index (sorted set, score = time in ms, member =
 * 16-digit sequence number, ':', id), 3 the format key. ARGV: 1 since ('-inf' for all), 2 limit ('' for all).
 * Reply: an array of JSON strings.
 *
 * @example
 * ```ts
 * import { REPORT_SCRIPT } from './reportScript.js';
 * const json = (await run(REPORT_SCRIPT, [recordsKey, indexKey, formatKey], ['-inf', '100'])) as string[];
 * ```
 */
export const REPORT_SCRIPT: LuaScript = {
  name: 'report',
  source: `${LUA_PRELUDE}
checkFormat(KEYS[#KEYS])
expectType(KEYS[1], 'hash')
expectType(KEYS[2], 'zset')
local members
if ARGV[2] == '' then
  members = redis.call('ZRANGEBYSCORE', KEYS[2], ARGV[1], '+inf')
else
  local newest = redis.call('ZREVRANGEBYSCORE', KEYS[2], '+inf', ARGV[1], 'LIMIT', 0, natural(ARGV[2], 'limit'))
  members = {}
  for i = #newest, 1, -1 do members[#members + 1] = newest[i] end
end
local out = {}
for _, member in ipairs(members) do
  local json = redis.call('HGET', KEYS[1], string.sub(member, 18))
  if json then out[#out + 1] = json end
end
return out
`,
};
