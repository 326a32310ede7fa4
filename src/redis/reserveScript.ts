import { LUA_PRELUDE } from './luaPrelude.js';
import type { LuaScript } from './runScript.js';

/**
 * The check-and-reserve, as one Lua script: Redis runs it atomically, so every process sharing
 * the prefix sees one budget (THREATS H2, H3). Time comes from the server (`TIME`).
 *
 * KEYS: 1 reservation, 2 records (hash), 3 report index (sorted set), 4 report sequence,
 * 5… one counter per check, then the format key (see `luaPrelude.ts`).
 * ARGV: 1 id, 2 record JSON (host, payee, amount, asset, network, the planned authorization if any), 3 most records kept,
 * 4 seconds a reservation id is remembered, 5 clock-jump grace in seconds (how long a bucket is
 * kept after it stops counting), then five per check: bucket width, span, TTL seconds
 * (0 = none), amount, limit (decimal strings, exact at any size).
 *
 * Reply: `{'ok', timeMs}` (also for an id already reserved or settled: idempotent, THREATS H7),
 * or `{'exceeded', checkIndex, used}`; an error for a released id or a malformed key or value.
 * Every read and check happens before the first write, so an error changes nothing (the only
 * writes before it change no sum: deleting buckets no window within the grace counts, and moving
 * the counters' running sums along).
 *
 * Its cost does not grow with the history: each counter is read through its running sum (see
 * `luaPrelude.ts`), and report records are evicted in batches: the index may grow to
 * `maxRecords + slack` (slack = `maxRecords / 64`, at least 1, at most 1,000), then the oldest
 * are dropped down to `maxRecords` in one go, instead of one record per reservation.
 *
 * @example
 * ```ts
 * import { RESERVE_SCRIPT } from './reserveScript.js';
 * const reply = await run(RESERVE_SCRIPT, keys, args);
 * ```
 */
export const RESERVE_SCRIPT: LuaScript = {
  name: 'reserve',
  source: `${LUA_PRELUDE}
checkFormat(KEYS[#KEYS])
local id = ARGV[1]
local nowSeconds, nowMs = serverTime()
expectType(KEYS[1], 'hash')
expectType(KEYS[2], 'hash')
expectType(KEYS[3], 'zset')
expectType(KEYS[4], 'string')

local existing = redis.call('HMGET', KEYS[1], 'status', 'time')
if existing[1] then
  if existing[1] == 'released' then fail('reservation ' .. id .. ' was released; a new payment needs a new id') end
  return { 'ok', existing[2] }
end

local grace = natural(ARGV[5], 'grace')
local checks = {}
for i = 1, #KEYS - 5 do
  local a = 6 + (i - 1) * 5
  checks[i] = {
    key = KEYS[4 + i],
    width = natural(ARGV[a], 'width'),
    span = natural(ARGV[a + 1], 'span'),
    ttl = natural(ARGV[a + 2], 'ttl'),
    amount = decimal(ARGV[a + 3], 'amount'),
    limit = decimal(ARGV[a + 4], 'limit'),
  }
end

local reservationTtl = natural(ARGV[4], 'reservation TTL')
local maxRecords = natural(ARGV[3], 'maxRecords')
local record = cjson.decode(ARGV[2])
local seqText = redis.call('GET', KEYS[4])
if seqText then natural(seqText, 'report sequence') end

-- The check. Buckets no window within the grace would count are deleted as they are passed, and
-- the running sums moved (saved only with the writes below, or on refusal): neither changes a sum.
local running = {}
for i, check in ipairs(checks) do
  check.bucket = 0
  if check.width > 0 then check.bucket = math.floor(nowSeconds / check.width) end
  check.field = int(check.bucket)
  local field = nil
  if check.amount ~= '0' then field = check.field end
  local used
  used, running[check.key] = counterValue(check.key, check.width, check.span, nowSeconds, grace, field)
  if cmpDec(addDec(used, check.amount), check.limit) > 0 then
    for j = 1, i do saveRunning(checks[j].key, running[checks[j].key]) end
    return { 'exceeded', tostring(i - 1), used }
  end
end

-- Every key and value was validated above, so the writes below cannot fail half way.
local adds = {}
for _, check in ipairs(checks) do
  if check.amount ~= '0' then
    addToBucket(check.key, check.field, check.bucket, check.amount, running[check.key])
    if check.ttl > 0 and redis.call('TTL', check.key) < check.ttl then redis.call('EXPIRE', check.key, check.ttl) end
    adds[#adds + 1] = { check.key, check.field, check.amount }
  else
    saveRunning(check.key, running[check.key])
  end
end

redis.call('HSET', KEYS[1], 'time', int(nowMs), 'status', 'reserved', 'adds', cjson.encode(adds))
redis.call('EXPIRE', KEYS[1], reservationTtl)

record.id = id
record.time = nowMs
record.status = 'reserved'
redis.call('HSET', KEYS[2], id, cjson.encode(record))
local seq = redis.call('INCR', KEYS[4])
redis.call('ZADD', KEYS[3], int(nowMs), string.format('%016d', seq) .. ':' .. id)
-- Records are evicted in batches: the index may hold up to maxRecords + slack records, then the
-- oldest are dropped down to maxRecords in one go (one trim per slack + 1 reservations).
local slack = math.max(1, math.min(1000, math.floor(maxRecords / 64)))
local excess = redis.call('ZCARD', KEYS[3]) - maxRecords
if excess > slack then
  local dropped = redis.call('ZRANGE', KEYS[3], 0, excess - 1)
  redis.call('ZREMRANGEBYRANK', KEYS[3], 0, excess - 1)
  local ids = {}
  for j, member in ipairs(dropped) do ids[j] = string.sub(member, 18) end
  for j = 1, #ids, 200 do redis.call('HDEL', KEYS[2], unpack(ids, j, math.min(j + 199, #ids))) end
end
return { 'ok', int(nowMs) }
`,
};
