import { open, rename, unlink } from 'node:fs/promises';
import { dirname } from 'node:path';

/**
 * Replaces a file so that a crash at any point leaves either the old or the new content: writes
 * `temp` (mode 0600), fsyncs it, renames it over `path`, then fsyncs the directory so that the
 * rename itself is durable. The caller must hold a lock: `temp` is a fixed name.
 *
 * @param path - the file to replace.
 * @param text - its new content (UTF-8).
 * @param temp - the temporary file, in the same directory (a leftover from a crash is removed).
 *
 * @example
 * ```ts
 * import { writeFileAtomic } from './writeFileAtomic.js';
 * await writeFileAtomic('/var/lib/agent/ledger.json', text, '/var/lib/agent/ledger.json.tmp');
 * ```
 */
export async function writeFileAtomic(path: string, text: string, temp: string): Promise<void> {
  await unlink(temp).catch((error: unknown) => {
    if ((error as { code?: unknown }).code !== 'ENOENT') throw error;
  });
  const file = await open(temp, 'wx', 0o600);
  try {
    await file.writeFile(text, 'utf8');
    await file.sync();
  } finally {
    await file.close();
  }
  await rename(temp, path);
  await syncDirectory(dirname(path));
}

/**
 * Makes the entries of a directory (files created, renamed or removed in it) durable. A no-op on
 * Windows, where directories cannot be opened for fsync.
 *
 * @param dir - the directory.
 *
 * @example
 * ```ts
 * import { syncDirectory } from './writeFileAtomic.js';
 * await syncDirectory('/var/lib/agent');
 * ```
 */
export async function syncDirectory(dir: string): Promise<void> {
  if (process.platform === 'win32') return;
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
