import { LUA_PRELUDE } from './luaPrelude.js';
import type { LuaScript } from './runScript.js';

/**
 * Undoes a pending reservation, or a `failed` or `unknown` payment that a reconciliation found
 * expired unused: subtracts what it added from the buckets that still exist (dropped buckets
 * stay dropped) and from the running sums that count them (see `luaPrelude.ts`), marks it
 * released, and updates its report record. A no-op for unknown, settled or already released
 * ids, and for reservations older than the pending TTL.
 *
 * KEYS: 1 reservation, 2 records, 3 the format key. ARGV: 1 id, 2 pending TTL in ms.
 * Reply: 1 when something was released, else 0.
 *
 * @example
 * ```ts
 * import { RELEASE_SCRIPT } from './releaseScript.js';
 * await run(RELEASE_SCRIPT, [reservationKey, recordsKey, formatKey], [id, '3600000']);
 * ```
 */
export const RELEASE_SCRIPT: LuaScript = {
  name: 'release',
  source: `${LUA_PRELUDE}
checkFormat(KEYS[#KEYS])
local id = ARGV[1]
local _, nowMs = serverTime()
expectType(KEYS[1], 'hash')
expectType(KEYS[2], 'hash')
local reservation = redis.call('HMGET', KEYS[1], 'status', 'time', 'adds')
local status = reservation[1]
if status ~= 'reserved' and status ~= 'failed' and status ~= 'unknown' then return 0 end
-- A failed or unknown outcome settled by an earlier version kept no adds: it stays counted.
if not reservation[3] then return 0 end
if nowMs - natural(reservation[2], 'reservation time') > natural(ARGV[2], 'pending TTL') then return 0 end
local adds = cjson.decode(reservation[3])
for _, add in ipairs(adds) do
  expectType(add[1], 'hash')
  decimal(add[3], 'reserved amount')
  local got = redis.call('HMGET', add[1], add[2], RUNNING)
  if got[1] then decimal(got[1], 'counter ' .. add[1] .. ' bucket ' .. add[2]) end
  readRunning(add[1], got[2])
end
-- Everything was validated above, so the writes below cannot fail half way.
for _, add in ipairs(adds) do
  local got = redis.call('HMGET', add[1], add[2], RUNNING)
  if got[1] then
    local current = decimal(got[1], 'bucket')
    local amount = decimal(add[3], 'reserved amount')
    local taken = amount
    if cmpDec(current, amount) <= 0 then
      taken = current
      redis.call('HDEL', add[1], add[2])
    else
      redis.call('HSET', add[1], add[2], subDec(current, amount))
    end
    -- The counter's running sum (if any) loses what left a bucket it counts.
    local running = readRunning(add[1], got[2])
    if running and tonumber(add[2]) >= running.oldest then
      if cmpDec(running.sum, taken) < 0 then
        redis.call('HDEL', add[1], RUNNING) -- not kept by these scripts: the next check scans
      else
        running.sum = subDec(running.sum, taken)
        redis.call('HSET', add[1], RUNNING, encodeRunning(running))
      end
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
