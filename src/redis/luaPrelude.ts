/**
 * Lua helpers shared by the Redis store's scripts: errors, key type checks, the server clock,
 * exact decimal arithmetic, and the bucketed counter sum.
 *
 * Bucket semantics are those of `src/budget/windows.ts`, which the TypeScript side uses to
 * compute each check's bucket `width` (seconds; 0 for a total) and `span` (buckets that count):
 * the current bucket is `floor(now / width)` (0 for a total), and a check counts every bucket
 * index `>= current - span + 1` (for a total: every bucket), future ones included. A bucket is
 * deleted (when the caller may write) only once it would not count even `grace` seconds earlier,
 * i.e. below `floor((now - grace) / width) - span + 1`, so a clock stepping back by up to the
 * grace finds what was spent (`oldestKept` in windows.ts).
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

-- Sum (a decimal string) of the buckets of one counter that count now. When grace is given
-- (a number of seconds), deletes the buckets that would not count even grace seconds ago.
-- Every bucket is validated, counted or not.
local function counterValue(key, width, span, nowSeconds, grace)
  expectType(key, 'hash')
  local oldest, kept = nil, nil
  if width > 0 then
    oldest = math.floor(nowSeconds / width) - span + 1
    if grace ~= nil then kept = math.floor((nowSeconds - grace) / width) - span + 1 end
  end
  local flat = redis.call('HGETALL', key)
  local sum = '0'
  local stale = {}
  for j = 1, #flat, 2 do
    if not string.match(flat[j], '^%-?%d+$') or string.len(flat[j]) > 15 then fail('counter ' .. key .. ' has a bad bucket index') end
    local value = decimal(flat[j + 1], 'counter ' .. key .. ' bucket ' .. flat[j])
    local index = tonumber(flat[j])
    if kept ~= nil and index < kept then
      stale[#stale + 1] = flat[j]
    elseif oldest == nil or index >= oldest then
      sum = addDec(sum, value)
    end
  end
  if #stale > 0 then
    for j = 1, #stale, 200 do
      redis.call('HDEL', key, unpack(stale, j, math.min(j + 199, #stale)))
    end
  end
  return sum
end
`;
