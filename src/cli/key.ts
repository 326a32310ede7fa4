import { readFile, stat } from 'node:fs/promises';
import { privateKeyToAccount, type PrivateKeyAccount } from 'viem/accounts';
import { UsageError } from './args.js';

/** The environment variable holding the payer's private key. */
export const KEY_ENV = 'X402_PRIVATE_KEY';

const KEY = /^0x[0-9a-fA-F]{64}$/;

/** Where the key comes from, and how to report what the CLI noticed about it. */
export interface KeySource {
  readonly env: Readonly<Record<string, string | undefined>>;
  /** `--key-file`, when given (it wins over the environment). */
  readonly keyFile: string | undefined;
  /** Called with each secret before it is used, so every output can be scrubbed of it. */
  readonly secret: (value: string) => void;
  /** Prints a warning (to stderr). */
  readonly warn: (text: string) => void;
}

/**
 * Loads the payer's account from `--key-file` or from `X402_PRIVATE_KEY`: a 0x-prefixed
 * 32-byte hex private key (surrounding whitespace ignored). Warns when the key file can be read
 * by its group or by others. No message ever holds the key, or any part of it.
 */
export async function loadAccount(command: string, source: KeySource): Promise<PrivateKeyAccount> {
  let text: string;
  let origin: string;
  if (source.keyFile !== undefined) {
    origin = `the key file ${JSON.stringify(source.keyFile)}`;
    try {
      const info = await stat(source.keyFile);
      if (!info.isFile()) throw new UsageError(`${origin} is not a file`, command);
      if (process.platform !== 'win32' && (info.mode & 0o077) !== 0) {
        const who = [info.mode & 0o070 ? 'its group' : '', info.mode & 0o007 ? 'others' : ''].filter(Boolean).join(' and ');
        const mode = (info.mode & 0o777).toString(8).padStart(4, '0');
        source.warn(`warning: ${origin} is open to ${who} (mode ${mode}); run: chmod 600 ${JSON.stringify(source.keyFile)}`);
      }
      text = await readFile(source.keyFile, 'utf8');
    } catch (error) {
      if (error instanceof UsageError) throw error;
      throw new UsageError(`cannot read ${origin} (${(error as NodeJS.ErrnoException).code ?? 'error'})`, command);
    }
  } else {
    const value = source.env[KEY_ENV];
    if (value === undefined || value.trim() === '') {
      throw new UsageError(`no private key: set ${KEY_ENV} (0x-prefixed hex) or pass --key-file <path>`, command);
    }
    origin = KEY_ENV;
    text = value;
  }
  const key = text.trim();
  if (key !== '') {
    source.secret(key);
    source.secret(key.replace(/^0x/i, ''));
  }
  if (!KEY.test(key)) throw new UsageError(`${origin} does not hold a private key: expected 0x followed by 64 hex digits (the value is not shown)`, command);
  try {
    return privateKeyToAccount(key as `0x${string}`);
  } catch {
    // viem's message could quote the value: say only that it is not a usable key.
    throw new UsageError(`${origin} does not hold a valid secp256k1 private key (the value is not shown)`, command);
  }
}
