#!/usr/bin/env node
/**
 * The `x402-autopay` command: `fetch` (pay like curl), `quote` (what would be paid), `spend`
 * (the ledger's report) and `reconcile` (give back what expired unused). Every payment goes
 * through `wrapFetch`, the same engine as the library.
 * Exit codes: see `exitCodes.ts` and docs/cli.md.
 * @packageDocumentation
 */
import { readFileSync, realpathSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { show, UsageError } from './args.js';
import { EXIT, exitCodeOf } from './exitCodes.js';
import { fetchCommand } from './fetchCommand.js';
import { errorText } from './format.js';
import { FETCH_HELP, MAIN_HELP, QUOTE_HELP, RECONCILE_HELP, SPEND_HELP } from './help.js';
import { processIo, type Io } from './io.js';
import { KEY_ENV } from './key.js';
import { quoteCommand } from './quoteCommand.js';
import { spendCommand } from './spendCommand.js';
import { reconcileCommand } from './reconcileCommand.js';

const COMMANDS: Readonly<Record<string, { run: (args: readonly string[], io: Io) => Promise<number>; help: string }>> = {
  fetch: { run: fetchCommand, help: FETCH_HELP },
  quote: { run: quoteCommand, help: QUOTE_HELP },
  spend: { run: spendCommand, help: SPEND_HELP },
  reconcile: { run: reconcileCommand, help: RECONCILE_HELP },
};

/** Runs the command line `argv` (without `node` and the script) and returns the exit code. */
async function main(argv: readonly string[], io: Io): Promise<number> {
  // Scrub the key from every message from the start, whatever the command does with it.
  const envKey = io.env[KEY_ENV]?.trim();
  if (envKey) {
    io.secret(envKey);
    io.secret(envKey.replace(/^0x/i, ''));
  }
  const [command, ...rest] = argv;
  try {
    if (command === undefined) throw new UsageError('missing command (fetch, quote, spend or reconcile)');
    if (command === '-h' || command === '--help' || command === 'help') {
      const topic = rest[0];
      if (topic !== undefined && !Object.hasOwn(COMMANDS, topic)) throw new UsageError(`unknown command ${show(topic)}`);
      await io.out(`${topic !== undefined ? COMMANDS[topic]!.help : MAIN_HELP}\n`);
      return EXIT.ok;
    }
    if (command === '-V' || command === '--version') {
      await io.out(`${version()}\n`);
      return EXIT.ok;
    }
    if (!Object.hasOwn(COMMANDS, command)) throw new UsageError(`unknown command ${show(command)} (expected fetch, quote, spend or reconcile)`);
    return await COMMANDS[command]!.run(rest, io);
  } catch (error) {
    if (error instanceof UsageError) {
      io.err(`${error.message}\nRun 'x402-autopay ${error.command ? `${error.command} ` : ''}--help' for usage.`);
      return EXIT.usage;
    }
    io.err(errorText(error));
    return exitCodeOf(error);
  }
}

/** The package version, read from the package.json next to `dist/`. */
function version(): string {
  try {
    const script = realpathSync(process.argv[1] ?? '');
    return (JSON.parse(readFileSync(join(dirname(script), '..', 'package.json'), 'utf8')) as { version?: string }).version ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

// A closed stdout (`x402-autopay fetch … | head`) is not an error.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(process.exitCode ?? EXIT.ok);
  process.stderr.write(`x402-autopay: error: cannot write to stdout (${error.code ?? 'error'})\n`);
  process.exit(EXIT.error);
});

main(process.argv.slice(2), processIo()).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`x402-autopay: internal error: ${error instanceof Error ? error.name : 'error'}\n`);
    process.exitCode = EXIT.error;
  },
);
