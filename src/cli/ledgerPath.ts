import { homedir } from 'node:os';
import { isAbsolute, join } from 'node:path';

/**
 * The default ledger of the CLI: `$XDG_STATE_HOME/x402-autopay/ledger.json`, or
 * `~/.local/state/x402-autopay/ledger.json` when `XDG_STATE_HOME` is unset or not absolute
 * (as the XDG Base Directory spec says). Every run of `fetch` and `spend` shares it.
 */
export function defaultLedgerPath(env: Readonly<Record<string, string | undefined>>): string {
  const state = env['XDG_STATE_HOME'];
  const base = state && isAbsolute(state) ? state : join(env['HOME'] || homedir(), '.local', 'state');
  return join(base, 'x402-autopay', 'ledger.json');
}
