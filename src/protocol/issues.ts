import type { ChallengeIssue } from '../errors/InvalidChallengeError.js';

interface ZodLikeIssue {
  readonly path: readonly PropertyKey[];
  readonly code: string;
  readonly message: string;
  readonly expected?: unknown;
  readonly format?: unknown;
  readonly values?: readonly unknown[];
  readonly minimum?: unknown;
  readonly maximum?: unknown;
}

/** Turns schema issues into {@link ChallengeIssue}s with readable messages and dotted paths. */
export function toChallengeIssues(issues: readonly ZodLikeIssue[], prefix: readonly PropertyKey[] = []): ChallengeIssue[] {
  return issues.slice(0, 50).map((issue) => ({
    path: [...prefix, ...issue.path].map(String).join('.'),
    message: describe(issue),
  }));
}

function describe(issue: ZodLikeIssue): string {
  if (issue.message && issue.message !== 'Invalid input') return issue.message;
  switch (issue.code) {
    case 'invalid_type':
      return `expected ${String(issue.expected)}`;
    case 'invalid_value':
      return `expected one of ${(issue.values ?? []).map((v) => JSON.stringify(v)).join(', ')}`;
    case 'too_small':
      return `too small (minimum ${String(issue.minimum)})`;
    case 'too_big':
      return `too big (maximum ${String(issue.maximum)})`;
    case 'invalid_format':
      return `invalid format (${String(issue.format)})`;
    default:
      return issue.code;
  }
}
