/**
 * Shortens a bearer value (a payment header, a signature) so that it can be logged without
 * being usable: the first 6 characters, then its length.
 */
export function redact(value: string): string {
  return value.length <= 8 ? '[redacted]' : `${value.slice(0, 6)}…[redacted ${value.length} chars]`;
}
