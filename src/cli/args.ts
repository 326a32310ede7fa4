import { readFileSync, statSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { resolveBudget, type BudgetOptions } from '../budget/budgetOptions.js';
import { resolveOptions, type DeclaredAsset } from '../options.js';

/** Bad input on the command line: printed with the command's usage hint, exit code 2. */
export class UsageError extends Error {
  constructor(
    message: string,
    /** The command whose `--help` explains the fix. */
    readonly command?: string,
  ) {
    super(message);
    this.name = 'UsageError';
  }
}

/** One flag of a command, as `node:util` `parseArgs` takes it. */
export interface FlagSpec {
  readonly type: 'string' | 'boolean';
  readonly short?: string;
  readonly multiple?: boolean;
}

/** Flags parsed: strings, string lists and booleans. */
export type FlagValues = Readonly<Record<string, string | boolean | (string | boolean)[] | undefined>>;

/** Parsed command line of one command. */
export interface ParsedArgs {
  readonly values: FlagValues;
  readonly positionals: readonly string[];
}

/** The budget flags shared by `fetch` and `quote`. */
export const BUDGET_FLAGS: Readonly<Record<string, FlagSpec>> = {
  'max-per-request': { type: 'string' },
  daily: { type: 'string' },
  network: { type: 'string', multiple: true },
};

/** The token declarations flag shared by `fetch` and `quote`. */
export const ASSET_FLAGS: Readonly<Record<string, FlagSpec>> = {
  assets: { type: 'string' },
};

/** Largest `--assets` file read, in bytes. */
const MAX_ASSETS_BYTES = 256 * 1024;

/** The request flags shared by `fetch` and `quote` (curl's names). */
export const REQUEST_FLAGS: Readonly<Record<string, FlagSpec>> = {
  request: { type: 'string', short: 'X' },
  header: { type: 'string', short: 'H', multiple: true },
  data: { type: 'string', short: 'd' },
};

/**
 * Parses the arguments of `command` strictly (unknown flags, missing values and stray
 * positionals are a {@link UsageError}); `-h`/`--help` is always accepted.
 */
export function parseCommandArgs(command: string, args: readonly string[], flags: Readonly<Record<string, FlagSpec>>, maxPositionals: number): ParsedArgs {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...args],
      options: { ...flags, help: { type: 'boolean', short: 'h' } },
      strict: true,
      allowPositionals: true,
    });
  } catch (error) {
    // parseArgs names the flag, never echoes a value.
    throw new UsageError(error instanceof Error ? error.message : String(error), command);
  }
  if (!parsed.values['help'] && parsed.positionals.length > maxPositionals) {
    throw new UsageError(`unexpected argument ${show(parsed.positionals[maxPositionals]!)}`, command);
  }
  return { values: parsed.values as FlagValues, positionals: parsed.positionals };
}

/** A string flag's value (the last one when given twice). */
export function stringFlag(values: FlagValues, name: string): string | undefined {
  const value = values[name];
  if (Array.isArray(value)) return value.length ? String(value[value.length - 1]) : undefined;
  return typeof value === 'string' ? value : undefined;
}

/** A repeatable string flag's values. */
export function stringsFlag(values: FlagValues, name: string): string[] {
  const value = values[name];
  if (value === undefined) return [];
  return (Array.isArray(value) ? value : [value]).map(String);
}

/** The one `<url>` argument: an absolute http(s) URL. */
export function urlArgument(command: string, positionals: readonly string[]): string {
  const text = positionals[0];
  if (text === undefined) throw new UsageError('missing <url>', command);
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new UsageError(`${show(text)} is not an absolute URL (e.g. https://api.example.com/data)`, command);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new UsageError(`${show(text)} is not an http(s) URL`, command);
  return url.href;
}

/**
 * The budget from `--max-per-request`, `--daily` and `--network`, each validated by the
 * library's own budget validation (so the CLI accepts exactly what `wrapFetch` accepts).
 * Unset flags keep the library's defaults (0.10 USD per request, 1.00 USD per rolling day).
 */
export function budgetFromFlags(command: string, values: FlagValues): BudgetOptions {
  const perRequest = stringFlag(values, 'max-per-request');
  const daily = stringFlag(values, 'daily');
  const networks = stringsFlag(values, 'network');
  const validate = (flag: string, value: string, budget: BudgetOptions, expected: string) => {
    try {
      resolveBudget(budget);
    } catch (error) {
      if (error instanceof TypeError) throw new UsageError(`${flag} must be ${expected}; got ${show(value)}`, command);
      throw error;
    }
  };
  if (perRequest !== undefined) validate('--max-per-request', perRequest, { perRequest }, 'a USD amount with at most 6 decimals, such as 0.05');
  if (daily !== undefined) validate('--daily', daily, { daily }, "a USD amount with at most 6 decimals, such as 1.00, or 'unlimited'");
  for (const network of networks) validate('--network', network, { networks: { allow: [network] } }, 'a CAIP-2 eip155 network id such as eip155:8453');
  return {
    ...(perRequest !== undefined ? { perRequest } : {}),
    ...(daily !== undefined ? { daily } : {}),
    ...(networks.length > 0 ? { networks: { allow: networks } } : {}),
  };
}

/**
 * A value from the command line, quoted and cut for an error message. A value holding a long
 * hex string is never echoed: it could be a private key typed in the wrong place.
 */
export function show(value: string): string {
  if (/[0-9a-fA-F]{32,}/.test(value)) return '(a value holding a long hex string, not shown)';
  return JSON.stringify(value.length > 60 ? `${value.slice(0, 60)}…` : value);
}

/**
 * The tokens declared in the `--assets <file>` JSON file, to pay beyond the built-in stablecoins:
 * an array of the library's `DeclaredAsset` objects (network, address, decimals, EIP-712 name
 * and version, symbol, `usdPegged`, or per-token limits), validated by the library's own option
 * validation, so the CLI accepts exactly what `wrapFetch` accepts. Undefined without the flag.
 */
export function assetsFromFlags(command: string, values: FlagValues): DeclaredAsset[] | undefined {
  const path = stringFlag(values, 'assets');
  if (path === undefined) return undefined;
  if (path === '') throw new UsageError('--assets must be the path of a JSON file', command);
  let text: string;
  try {
    const size = statSync(path).size;
    if (size > MAX_ASSETS_BYTES) throw new UsageError(`--assets ${show(path)} is ${size} bytes; a token list is at most ${MAX_ASSETS_BYTES}`, command);
    text = readFileSync(path, 'utf8');
  } catch (error) {
    if (error instanceof UsageError) throw error;
    const code = (error as { code?: unknown }).code;
    throw new UsageError(`--assets: cannot read ${show(path)}${typeof code === 'string' ? ` (${code})` : ''}`, command);
  }
  let assets: unknown;
  try {
    assets = JSON.parse(text);
  } catch {
    throw new UsageError(`--assets ${show(path)} is not valid JSON (expected an array of token declarations)`, command);
  }
  try {
    resolveOptions({ assets: assets as DeclaredAsset[] });
  } catch (error) {
    if (error instanceof TypeError) throw new UsageError(`--assets ${show(path)}: ${error.message.replace(/^wrapFetch: options\./, '')}`, command);
    throw error;
  }
  return assets as DeclaredAsset[];
}
