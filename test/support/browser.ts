/**
 * Real headless Chromium for the browser tests: Debian's `chromium` driven by `playwright-core`
 * (never `playwright install`: no browser is downloaded). Pair it with `startBrowserServer()`
 * (./browserServer.ts), which serves the built package to the pages.
 *
 * ```ts
 * import { describeWithChromium, launchChromium } from '../support/browser.js';
 * describeWithChromium('my page', () => {
 *   let browser: Browser;
 *   beforeAll(async () => { browser = await launchChromium(); });
 *   afterAll(() => browser?.close());
 *   it('…', async () => { const page = await (await browser.newContext()).newPage(); … });
 * });
 * ```
 *
 * When Chromium is missing: under CI (`process.env.CI`) the suite fails with a message saying how
 * to install it; elsewhere it is skipped with a loud warning.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type LaunchOptions } from 'playwright-core';
import { describe, it } from 'vitest';

/** Where Chromium is: `CHROMIUM_PATH`, else Debian's `/usr/bin/chromium`. */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** Flags of every launch: headless, no sandbox (root in CI), and nothing that phones home. */
export const CHROMIUM_ARGS: readonly string[] = [
  '--headless=new',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** Why the browser tests cannot run here, or undefined when Chromium is installed. */
export function chromiumMissing(): string | undefined {
  return existsSync(CHROMIUM_PATH) ? undefined : `Chromium not found at ${CHROMIUM_PATH} (install it with \`apt-get install -y chromium\`, or set CHROMIUM_PATH)`;
}

const launchOptions = (): LaunchOptions => ({
  executablePath: CHROMIUM_PATH,
  headless: true,
  args: [...CHROMIUM_ARGS],
  timeout: 60_000,
});

/**
 * Launches headless Chromium. Playwright gives every launch a fresh temporary profile (user data
 * dir), removed on close; every `browser.newContext()` is a further isolated storage (its own
 * localStorage, its own Web Locks).
 */
export function launchChromium(): Promise<Browser> {
  return chromium.launch(launchOptions());
}

/**
 * Launches Chromium on a profile directory that outlives the browser (for "survives a browser
 * restart" tests): a fresh temporary one unless `userDataDir` is given. `close()` closes the
 * browser and, when the directory was made here and `keep` is not set, removes it.
 */
export async function launchPersistentChromium(userDataDir?: string): Promise<{ context: BrowserContext; userDataDir: string; close: (options?: { keep?: boolean }) => Promise<void> }> {
  const dir = userDataDir ?? mkdtempSync(join(tmpdir(), 'x402-chromium-'));
  const context = await chromium.launchPersistentContext(dir, launchOptions());
  return {
    context,
    userDataDir: dir,
    close: async (options = {}) => {
      await context.close();
      if (!userDataDir && !options.keep) rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * `describe` for suites that need Chromium. Missing Chromium fails the suite under CI and skips it
 * (with a warning) elsewhere.
 */
export function describeWithChromium(name: string, body: () => void): void {
  const missing = chromiumMissing();
  if (!missing) {
    describe(name, body);
    return;
  }
  if (process.env.CI) {
    describe(name, () => {
      it('needs Chromium', () => {
        throw new Error(`${missing}. CI must install it: .ci/run installs the Debian package \`chromium\`.`);
      });
    });
    return;
  }
  console.warn(`\n⚠️  SKIPPING browser tests "${name}": ${missing}.\n`);
  // Skipped only outside CI when Chromium is missing (loudly, above); with CI set it fails instead.
  describe.skip(name, body); // only outside CI with Chromium missing (warned above); with CI set the suite fails instead
}
