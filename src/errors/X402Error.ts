import { inertText } from '../internal/inert.js';

/** Brand shared by every copy of this library (ESM, CJS, bundled twice), so guards work across copies. */
const BRAND = Symbol.for('x402-autopay.error');

/** Where the error pages live (shipped in the package); each code has a section `#<code>` there. */
export const DOCS_PATH = 'x402-autopay/docs/errors.md';

/**
 * Whether money may have moved when an error was thrown.
 * - `no`: nothing was signed, or the signature provably never left this process.
 * - `maybe`: a signed authorization reached a server; it can be settled until it expires.
 */
export type MoneyMoved = 'no' | 'maybe';

/** Constructor arguments shared by every {@link X402Error}. */
export interface X402ErrorArgs {
  /** Short, stable, snake_case code; one section per code in docs/errors.md. */
  code: string;
  /** Whether money may have moved. */
  moneyMoved: MoneyMoved;
  /** Fact lines (`label: value`) shown under the message; must never hold secrets or full headers. */
  details?: Readonly<Record<string, string | number | bigint | boolean | undefined>>;
  /** What the caller should do next. */
  hint?: string;
  /** The underlying error, if any. */
  cause?: unknown;
}

/**
 * The base of every error this library throws. It owns the message layout: a short message,
 * fact lines, whether money may have moved, what to do, and a docs link.
 *
 * @example
 * ```ts
 * import { wrapFetch, isX402Error } from 'x402-autopay';
 * try {
 *   await paidFetch('https://api.example.com/data');
 * } catch (error) {
 *   if (isX402Error(error)) console.error(error.code, error.moneyMoved);
 * }
 * ```
 */
export class X402Error extends Error {
  /** Stable snake_case code, e.g. `budget_exceeded`. */
  readonly code: string;
  /** `'maybe'` when a signed payment reached a server; `'no'` otherwise. */
  readonly moneyMoved: MoneyMoved;
  /** The one-line message, without the fact lines. */
  readonly shortMessage: string;
  /** Fact lines as data. */
  readonly details: Readonly<Record<string, string>>;
  /** What to do next. */
  readonly hint: string | undefined;

  constructor(message: string, args: X402ErrorArgs) {
    // Messages and facts often quote what a server sent: keep each on its own single line, so
    // hostile text can never forge a fact line such as "Money moved: no".
    const shortMessage = inertText(message, 1000);
    const details: Record<string, string> = {};
    for (const [key, value] of Object.entries(args.details ?? {})) {
      if (value !== undefined) details[inertText(key, 100)] = inertText(String(value), 1000);
    }
    const lines = [shortMessage, ''];
    for (const [key, value] of Object.entries(details)) lines.push(`${key}: ${value}`);
    lines.push(
      args.moneyMoved === 'no'
        ? 'Money moved: no (nothing was sent that could be settled).'
        : 'Money moved: maybe (a signed payment reached the server and can be settled until it expires).',
    );
    if (args.hint) lines.push(`What to do: ${args.hint}`);
    lines.push(`Docs: ${DOCS_PATH}#${args.code}`);
    super(lines.join('\n'), args.cause === undefined ? undefined : { cause: args.cause });
    this.name = new.target.name;
    this.code = args.code;
    this.moneyMoved = args.moneyMoved;
    this.shortMessage = shortMessage;
    this.details = details;
    this.hint = args.hint;
    Object.defineProperty(this, BRAND, { value: true });
  }

  /** A plain, log-safe view: no cause chain, no response objects. */
  toJSON(): Record<string, unknown> {
    return {
      name: this.name,
      code: this.code,
      message: this.shortMessage,
      moneyMoved: this.moneyMoved,
      details: this.details,
      hint: this.hint,
    };
  }
}

/**
 * True for any error thrown by any copy of x402-autopay (works across ESM/CJS copies).
 *
 * @example
 * ```ts
 * import { isX402Error } from 'x402-autopay';
 * if (isX402Error(error) && error.code === 'budget_exceeded') { ... }
 * ```
 */
export function isX402Error(error: unknown): error is X402Error {
  return typeof error === 'object' && error !== null && (error as Record<symbol, unknown>)[BRAND] === true;
}
