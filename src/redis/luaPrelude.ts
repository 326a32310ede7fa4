/**
 * The Redis store's format version: what its keys mean. Format 1 has no key saying so; a later
 * format is written to `<prefix>format` before anything else, and every script of this version
 * checks that key first and refuses to run under a higher number (`newer_format`), reading and
 * writing nothing else, so processes of an older version stop paying instead of misreading the
 * budget.
 */
export const REDIS_FORMAT_VERSION = 1;

/**
 * Lua helpers shared by the Redis store's scripts: errors, key type checks, the server clock,
 * exact decimal arithmetic, and the bucketed counters with their running sums.
 *
 * Bucket semantics are those of `src/budget/windows.ts`, which the TypeScript side uses to
 * compute each check's bucket `width` (seconds; 0 for a total) and `span` (buckets that count):
 * the current bucket is `floor(now / width)` (0 for a total), and a check counts every bucket
 * index `>= current - span + 1` (for a total: every bucket), future ones included. A bucket is
 * deleted (when the caller may write) only once it would not count even `grace` seconds earlier,
 * i.e. below `floor((now - grace) / width) - span + 1`, so a clock stepping back by up to the
 * grace finds what was spent (`oldestKept` in windows.ts).
 *
 * A check costs the same whatever the history and however many buckets a counter keeps (up to
 * some 1,450 for a per-minute count: the window plus the 2 h grace, in 5 s buckets), as in
 * windows.ts: each rolling or calendar counter hash carries, in its field `running-sum`, the
 * text `<oldest>:<kept>:<sum>`: the sum of its buckets at index `oldest` or above, and the index
 * below which it holds no bucket. A check moves it to the current bounds by reading (`HMGET`)
 * only the buckets that leave or come back into the counted range, and by deleting only those
 * between the old and the new `kept`; the reserve and release scripts keep it right when they
 * change a bucket. A hash without it (written by an older version, or by another tool) is scanned
 * in full (`HGETALL`) once, and so is one whose bounds moved by more indices than it holds
 * buckets (a long idle time, a clock stepping back beyond the grace): then a scan costs less.
 * Totals have one bucket and no running sum. Versions before the running sum refuse to check a
 * counter hash that has one (a field that is not a bucket index: fail closed); their release,
 * which does not look at it, leaves it counting what it gave back (over-counting, the safe side)
 * until the counter empties or is scanned again, so a fleet is best upgraded at once.
 *
 * Amounts are non-negative decimal strings of at most 100 digits, added, subtracted and compared
 * as strings (in 7-digit limbs), so they are exact at any size: Lua numbers are doubles (exact
 * only below 2^53) and `HINCRBY` stops at 2^63. Numbers of at most 15 digits take a fast path
 * through doubles, which is exact for them. Stored values are checked to be plain decimal
 * integers before they are used.
 *
 * @example
 * ```ts
 * import { LUA_PRELUDE } from './luaPrelude.js';
 * const source = `${LUA_PRELUDE}\nreturn addDec(ARGV[1], ARGV[2])`;
 * ```
 */
export const LUA_PRELUDE = `
local function fail(message)
  error({ err = 'ERR x402-autopay: ' .. message })
end

local function expectType(key, want)
  local found = redis.call('TYPE', key)['ok']
  if found ~= 'none' and found ~= want then
    fail('key ' .. key .. ' holds a ' .. found .. ' where a ' .. want .. ' was expected')
  end
end

-- The store's format version, in the key '<prefix>format' that every script gets as its last
-- key: absent for format ${REDIS_FORMAT_VERSION}. A version that changes what the keys mean writes its number
-- there before anything else; a script of a version that reads only a lower one refuses to run,
-- before it reads or writes anything else (fail closed).
local function checkFormat(key)
  expectType(key, 'string')
  local found = redis.call('GET', key)
  if not found then return end
  if not string.match(found, '^%d+$') or string.len(found) > 9 then
    fail('key ' .. key .. ' holds ' .. string.sub(found, 1, 40) .. ', not a format version')
  end
  if tonumber(found) > ${REDIS_FORMAT_VERSION} then
    fail('newer_format: the keys under this prefix are in format ' .. found .. ', written by a newer x402-autopay; this version reads format ${REDIS_FORMAT_VERSION}. ' ..
      'Nothing was read or written. Upgrade x402-autopay in this process: every process sharing a prefix must run a version that reads its format')
  end
end

-- Redis 3.2 to 4 need effects replication to write after TIME; later versions always do it.
if redis.replicate_commands then redis.replicate_commands() end

-- The server's clock: whole seconds, and milliseconds, since the epoch.
local function serverTime()
  local t = redis.call('TIME')
  local seconds = tonumber(t[1])
  return seconds, seconds * 1000 + math.floor(tonumber(t[2]) / 1000)
end

local function int(n)
  return string.format('%.0f', n)
end

-- A non-negative decimal integer string of at most 100 digits, without leading zeros.
local function decimal(text, what)
  if type(text) ~= 'string' or not string.match(text, '^%d+$') then
    fail(what .. ' is not a non-negative decimal integer: ' .. tostring(text))
  end
  local canonical = string.match(text, '^0*(%d-)$')
  if canonical == '' then canonical = '0' end
  if string.len(canonical) > 100 then fail(what .. ' has more than 100 digits') end
  return canonical
end

-- A small non-negative integer parameter (width, span, TTL, counts), as a number.
local function natural(text, what)
  if type(text) ~= 'string' or not string.match(text, '^%d+$') or string.len(text) > 15 then
    fail(what .. ' is not a small non-negative integer: ' .. tostring(text))
  end
  return tonumber(text)
end

local function stripZeros(text)
  local canonical = string.match(text, '^0*(%d-)$')
  if canonical == '' then return '0' end
  return canonical
end

-- Compares two canonical decimal strings: -1, 0 or 1.
local function cmpDec(a, b)
  if string.len(a) ~= string.len(b) then
    if string.len(a) < string.len(b) then return -1 end
    return 1
  end
  if a == b then return 0 end
  if a < b then return -1 end
  return 1
end

local function limb(text, last)
  if last < 1 then return 0 end
  return tonumber(string.sub(text, math.max(1, last - 6), last))
end

-- a + b, for canonical decimal strings.
local function addDec(a, b)
  if string.len(a) <= 15 and string.len(b) <= 15 then return int(tonumber(a) + tonumber(b)) end
  local out = {}
  local carry = 0
  local i, j = string.len(a), string.len(b)
  while i > 0 or j > 0 or carry > 0 do
    local sum = limb(a, i) + limb(b, j) + carry
    carry = math.floor(sum / 10000000)
    table.insert(out, 1, string.format('%07d', sum - carry * 10000000))
    i = i - 7
    j = j - 7
  end
  return stripZeros(table.concat(out))
end

-- a - b, for canonical decimal strings with a >= b.
local function subDec(a, b)
  if string.len(a) <= 15 then return int(tonumber(a) - tonumber(b)) end
  local out = {}
  local borrow = 0
  local i, j = string.len(a), string.len(b)
  while i > 0 do
    local difference = limb(a, i) - limb(b, j) - borrow
    borrow = 0
    if difference < 0 then
      difference = difference + 10000000
      borrow = 1
    end
    table.insert(out, 1, string.format('%07d', difference))
    i = i - 7
    j = j - 7
  end
  return stripZeros(table.concat(out))
end

-- The field of a counter hash that holds its running sum, '<oldest>:<kept>:<sum>': the sum of
-- the buckets at or above the index <oldest>, and <kept>, below which the hash holds no bucket.
-- Not a bucket index, so it never collides with one. Every script that changes a bucket keeps it
-- right; a hash without it (written by an older version, or by another tool) is scanned once.
local RUNNING = 'running-sum'

-- A sum of buckets: a non-negative decimal string (a few digits more than one amount may have).
local function sumDec(text, what)
  if type(text) ~= 'string' or not string.match(text, '^%d+$') or string.len(text) > 120 then
    fail(what .. ' is not a non-negative decimal integer: ' .. tostring(text))
  end
  return stripZeros(text)
end

-- The running sum stored in a counter hash (false when there is none), validated.
local function readRunning(key, text)
  if not text then return nil end
  local oldest, kept, sum = string.match(text, '^(%-?%d+):(%-?%d+):(%d+)$')
  if not oldest or string.len(oldest) > 15 or string.len(kept) > 15 then
    fail('counter ' .. key .. ' has a malformed running sum: ' .. tostring(text))
  end
  return { oldest = tonumber(oldest), kept = tonumber(kept), sum = sumDec(sum, 'counter ' .. key .. ' running sum'), stored = true }
end

local function encodeRunning(running)
  return int(running.oldest) .. ':' .. int(running.kept) .. ':' .. running.sum
end

-- Sum of the buckets from index first to last (numbers), each validated; HMGET in slices.
local function sumRange(key, first, last)
  local sum = '0'
  local from = first
  while from <= last do
    local to = math.min(from + 199, last)
    local fields = {}
    for i = from, to do fields[#fields + 1] = int(i) end
    local values = redis.call('HMGET', key, unpack(fields))
    for j = 1, #fields do
      if values[j] then sum = addDec(sum, decimal(values[j], 'counter ' .. key .. ' bucket ' .. fields[j])) end
    end
    from = to + 1
  end
  return sum
end

-- Deletes the buckets from index first to last (numbers), without reading them; how many there were.
local function dropRange(key, first, last)
  local dropped = 0
  local from = first
  while from <= last do
    local to = math.min(from + 199, last)
    local fields = {}
    for i = from, to do fields[#fields + 1] = int(i) end
    dropped = dropped + redis.call('HDEL', key, unpack(fields))
    from = to + 1
  end
  return dropped
end

-- Full scan (HGETALL): every bucket validated; those below kept (when given) deleted; the sum of
-- those at or above oldest (every one when oldest is nil), how many are left, and whether every
-- index left is written as the scripts write it (else no running sum: HMGET would miss them).
local function scanCounter(key, oldest, kept)
  local flat = redis.call('HGETALL', key)
  local sum = '0'
  local size = 0
  local canonical = true
  local stale = {}
  for j = 1, #flat, 2 do
    local field = flat[j]
    if field ~= RUNNING then
      if not string.match(field, '^%-?%d+$') or string.len(field) > 15 then fail('counter ' .. key .. ' has a bad bucket index') end
      local value = decimal(flat[j + 1], 'counter ' .. key .. ' bucket ' .. field)
      local index = tonumber(field)
      if kept ~= nil and index < kept then
        stale[#stale + 1] = field
      else
        size = size + 1
        if oldest == nil or index >= oldest then sum = addDec(sum, value) end
        if field ~= '0' and not string.match(field, '^%-?[1-9]%d*$') then canonical = false end
      end
    end
  end
  for j = 1, #stale, 200 do
    redis.call('HDEL', key, unpack(stale, j, math.min(j + 199, #stale)))
  end
  return sum, size, canonical, #stale
end

-- Stores a running sum returned by counterValue (when the hash still has buckets; else removes it,
-- so that an empty counter goes away with its buckets). Semantically neutral: it changes no sum.
local function saveRunning(key, running)
  if running == nil then return end
  if running.canonical and running.size > 0 then
    redis.call('HSET', key, RUNNING, encodeRunning(running))
    running.stored = true
  elseif running.stored then
    redis.call('HDEL', key, RUNNING)
    running.stored = false
  end
end

-- Sum (a decimal string) of the buckets of one counter that count now.
--
-- When grace is given (a number of seconds: the caller may write), also deletes the buckets that
-- would not count even grace seconds ago, and returns as second value the counter's new running
-- sum (a table: oldest, kept, sum, size = buckets left, canonical, stored = whether the hash holds
-- one now) for the caller to store with its writes (saveRunning, or with an added bucket); nil
-- for a total. Without grace it writes nothing. current (a bucket index as a string, or nil: the
-- bucket the caller will add to) is validated too, since it may not be among the buckets read.
--
-- Rolling and calendar counters keep a running sum, moved with the clock by reading only the
-- buckets that leave or re-enter the counted range (and deleting only those that leave the kept
-- one), so the work does not grow with the number of buckets kept; a hash without a running sum,
-- or whose bounds moved by more indices than it has buckets (+16), is scanned in full instead
-- (as is a total, which has one bucket). Values read are validated before use.
local function counterValue(key, width, span, nowSeconds, grace, current)
  expectType(key, 'hash')
  if width == 0 then
    return (scanCounter(key, nil, nil)), nil
  end
  local oldest = math.floor(nowSeconds / width) - span + 1
  local kept = nil
  if grace ~= nil then kept = math.floor((nowSeconds - grace) / width) - span + 1 end
  local got = redis.call('HMGET', key, RUNNING, current or RUNNING)
  if current and got[2] then decimal(got[2], 'counter ' .. key .. ' bucket ' .. current) end
  local running = readRunning(key, got[1])
  local size = redis.call('HLEN', key)
  if running then
    size = size - 1
    local gap = math.abs(oldest - running.oldest)
    if gap > size + 16 or (kept ~= nil and kept > running.kept and kept - running.kept > size + 16) then
      running = nil
    elseif oldest > running.oldest then
      -- Buckets leaving the counted range (the clock moved on).
      local leaving = sumRange(key, running.oldest, oldest - 1)
      -- A running sum below what leaves it was not kept by these scripts: scan instead.
      if cmpDec(running.sum, leaving) < 0 then running = nil else running.sum = subDec(running.sum, leaving) end
    elseif oldest < running.oldest then
      -- Buckets coming back into it (the clock stepped back).
      running.sum = addDec(running.sum, sumRange(key, oldest, running.oldest - 1))
    end
  end
  local dropped = 0
  if running then
    running.oldest = oldest
    if kept ~= nil then
      -- Buckets no clock within the grace would count (none counts: kept <= oldest).
      if kept > running.kept then dropped = dropRange(key, running.kept, kept - 1) end
      running.kept = kept
    end
    running.size = size - dropped
    -- No bucket left: nothing counts (also mends a sum that missed a release by another hand).
    if running.size == 0 then running.sum = '0' end
    running.canonical = true
  else
    local stored = got[1] ~= false
    local sum, left, canonical, stale = scanCounter(key, oldest, kept)
    running = { oldest = oldest, kept = kept, sum = sum, size = left, canonical = canonical, stored = stored }
    dropped = stale
  end
  if grace == nil then return running.sum, nil end
  -- The running sum stored may count buckets just deleted: it is replaced at once, so that it is
  -- right whatever happens next in the script.
  if dropped > 0 and running.stored then saveRunning(key, running) end
  return running.sum, running
end

-- Adds amount (canonical decimal) to bucket field (a string; index bucket) of a counter whose
-- running sum counterValue returned (nil for a total), keeping that running sum right.
local function addToBucket(key, field, bucket, amount, running)
  local current = redis.call('HGET', key, field)
  local value = addDec(stripZeros(current or '0'), amount)
  if running == nil then
    redis.call('HSET', key, field, value)
  elseif running.canonical then
    if not current then running.size = running.size + 1 end
    if bucket < running.kept then running.kept = bucket end
    if bucket >= running.oldest then running.sum = addDec(running.sum, amount) end
    redis.call('HSET', key, field, value, RUNNING, encodeRunning(running))
    running.stored = true
  else
    redis.call('HSET', key, field, value)
    if running.stored then redis.call('HDEL', key, RUNNING) end
    running.stored = false
  end
end
`;
