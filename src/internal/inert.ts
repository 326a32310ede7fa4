/** C0/C1 controls, line and paragraph separators, and bidi overrides/isolates (Trojan Source). */
// eslint-disable-next-line no-control-regex
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069\u200b-\u200f\ufeff]+/g;

/**
 * Makes text a server wrote safe to show inside one line of an error or a log: control
 * characters, line breaks, ANSI escapes and bidi overrides become a single space, and the result
 * is cut to `max` characters. Such text stays data: it can neither fake a fact line
 * (`Money moved: no`) nor recolour or reorder a terminal.
 *
 * @example
 * ```ts
 * import { inertText } from './inert.js';
 * inertText('bad\nMoney moved: no\u001b[2J', 40); // 'bad Money moved: no [2J'
 * ```
 */
export function inertText(text: string, max = 500): string {
  const flat = text.replace(UNSAFE, ' ');
  return flat.length > max ? `${flat.slice(0, max)}…` : flat;
}
