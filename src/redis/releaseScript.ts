import { LUA_PRELUDE } from './luaPrelude.js';
import type { LuaScript } from './runScript.js';

/**
 * Undoes a pending reservation: subtracts what it added from the buckets that still exist
 * (dropped buckets stay dropped), marks it released, and updates its report record. A no-op for
 * unknown, settled or already released ids, and for reservations older than the pending TTL.
 *
 * KEYS: 1 reservation, 2 records. ARGV: 1 id, 2 pending TTL in ms.
 * Reply: 1 when something was released, else 0.
 *
 * @example
 * ```ts
 * import { RELEASE_SCRIPT } from './releaseScript.js';
 * await run(RELEASE_SCRIPT, [reservationKey, recordsKey], [id, '3600000']);
 * ```
 */
export const RELEASE_SCRIPT: LuaScript = {
  name: 'release',
  source: `${LUA_PRELUDE}
local id = ARGV[1]
local _, nowMs = serverTime()
expectType(KEYS[1], 'hash')
expectType(KEYS[2], 'hash')
local reservation = redis.call('HMGET', KEYS[1], 'status', 'time', 'adds')
if reservation[1] ~= 'reserved' then return 0 end
if nowMs - natural(reservation[2], 'reservation time') > natural(ARGV[2], 'pending TTL') then return 0 end
local adds = cjson.decode(reservation[3])
for _, add in ipairs(adds) do
  expectType(add[1], 'hash')
  decimal(add[3], 'reserved amount')
  local current = redis.call('HGET', add[1], add[2])
  if current then decimal(current, 'counter ' .. add[1] .. ' bucket ' .. add[2]) end
end
-- Everything was validated above, so the writes below cannot fail half way.
for _, add in ipairs(adds) do
  local current = redis.call('HGET', add[1], add[2])
  if current then
    current = decimal(current, 'bucket')
    if cmpDec(current, add[3]) <= 0 then
      redis.call('HDEL', add[1], add[2])
    else
      redis.call('HSET', add[1], add[2], subDec(current, add[3]))
    end
  end
end
redis.call('HSET', KEYS[1], 'status', 'released')
redis.call('HDEL', KEYS[1], 'adds')
local json = redis.call('HGET', KEYS[2], id)
if json then
  local record = cjson.decode(json)
  record.status = 'released'
  redis.call('HSET', KEYS[2], id, cjson.encode(record))
end
return 1
`,
};
