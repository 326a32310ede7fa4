import { LUA_PRELUDE } from './luaPrelude.js';
import type { LuaScript } from './runScript.js';

/**
 * Current value of some counters by the server's clock, with the same bucket rule as the
 * reserve script (through the counters' running sums, without storing them). Read-only: it
 * prunes nothing and writes nothing.
 *
 * KEYS: one counter per check, then the format key. ARGV: two per check: bucket width, span.
 * Reply: one decimal string per check.
 *
 * @example
 * ```ts
 * import { USAGE_SCRIPT } from './usageScript.js';
 * const [used] = (await run(USAGE_SCRIPT, [counterKey, formatKey], ['300', '288'])) as string[];
 * ```
 */
export const USAGE_SCRIPT: LuaScript = {
  name: 'usage',
  source: `${LUA_PRELUDE}
checkFormat(KEYS[#KEYS])
local nowSeconds = serverTime()
local out = {}
for i = 1, #KEYS - 1 do
  local width = natural(ARGV[2 * i - 1], 'width')
  local span = natural(ARGV[2 * i], 'span')
  out[i] = counterValue(KEYS[i], width, span, nowSeconds, nil)
end
return out
`,
};
