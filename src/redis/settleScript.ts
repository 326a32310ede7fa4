import { LUA_PRELUDE } from './luaPrelude.js';
import type { LuaScript } from './runScript.js';

/**
 * Records the outcome of a sent payment, and its report record takes the status and
 * transaction. The amount stays counted. A `settled` payment can no longer be released (its adds
 * are dropped); a `failed` or `unknown` one keeps them, so that a reconciliation that finds its
 * authorization expired unused can still release it. A no-op for unknown and released ids.
 *
 * KEYS: 1 reservation, 2 records, 3 the format key. ARGV: 1 id, 2 status, 3 transaction ('' for none),
 * 4 the authorization as JSON ('' for none; checked by the caller).
 * Reply: 1.
 *
 * @example
 * ```ts
 * import { SETTLE_SCRIPT } from './settleScript.js';
 * await run(SETTLE_SCRIPT, [reservationKey, recordsKey, formatKey], [id, 'settled', '0xabc…']);
 * ```
 */
export const SETTLE_SCRIPT: LuaScript = {
  name: 'settle',
  source: `${LUA_PRELUDE}
checkFormat(KEYS[#KEYS])
local id = ARGV[1]
expectType(KEYS[1], 'hash')
expectType(KEYS[2], 'hash')
local status = redis.call('HGET', KEYS[1], 'status')
if status == 'released' then return 1 end
if status == 'reserved' or status == 'failed' or status == 'unknown' then
  redis.call('HSET', KEYS[1], 'status', ARGV[2])
  if ARGV[2] == 'settled' then redis.call('HDEL', KEYS[1], 'adds') end
end
local json = redis.call('HGET', KEYS[2], id)
if json then
  local record = cjson.decode(json)
  record.status = ARGV[2]
  if ARGV[3] ~= '' then record.transaction = ARGV[3] end
  if ARGV[4] ~= nil and ARGV[4] ~= '' then record.authorization = cjson.decode(ARGV[4]) end
  redis.call('HSET', KEYS[2], id, cjson.encode(record))
end
return 1
`,
};
