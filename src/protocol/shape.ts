/**
 * A few hundred bytes of schema checking for the wire formats: the part of zod the protocol
 * needs (strings with length/pattern, safe integers in a range, literals, booleans, records,
 * arrays, optional/nullable, objects that keep unknown keys), with zod's `safeParse` result and
 * issue shape, so a challenge's problems still come back as a list of paths and messages.
 * Plain zod (even `zod/mini`) is most of the bundle of `wrapFetch`; this keeps the core small.
 */

/** One problem found: where, what kind (zod's codes), and a readable message. */
export interface ShapeIssue {
  readonly path: readonly PropertyKey[];
  readonly code: 'invalid_type' | 'invalid_value' | 'too_small' | 'too_big' | 'invalid_format';
  readonly message: string;
}

/** The result of {@link Shape.safeParse}, as zod's. */
export type SafeParseResult<T> = { success: true; data: T } | { success: false; error: { issues: ShapeIssue[] } };

/** A checker for values of type `T`. */
export interface Shape<T> {
  /** Checks `value`; the data on success is `value` itself (objects keep unknown keys). */
  safeParse(value: unknown): SafeParseResult<T>;
  /** Pushes the problems of `value` at `path` onto `issues`. */
  readonly check: (value: unknown, path: PropertyKey[], issues: ShapeIssue[]) => void;
  /** True for `optional(...)`: an absent key is fine. */
  readonly optional?: true;
}

type Infer<S> = S extends Shape<infer T> ? T : never;
type OptionalKeys<S> = { [K in keyof S]: S[K] extends { optional: true } ? K : never }[keyof S];
/** The type of a {@link looseObject}: its fields, plus any other key. */
export type LooseObject<S> = { [K in Exclude<keyof S, OptionalKeys<S>>]: Infer<S[K]> } & {
  [K in OptionalKeys<S>]?: Infer<S[K]>;
} & { readonly [key: string]: unknown };

function shape<T>(check: Shape<T>['check'], optional?: true): Shape<T> {
  return {
    check,
    ...(optional ? { optional } : {}),
    safeParse(value) {
      const issues: ShapeIssue[] = [];
      check(value, [], issues);
      return issues.length > 0 ? { success: false, error: { issues } } : { success: true, data: value as T };
    },
  };
}

const typeOf = (value: unknown): string => (value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value);
const wrongType = (expected: string, value: unknown, path: PropertyKey[], issues: ShapeIssue[]): void => {
  issues.push({ path, code: 'invalid_type', message: `expected ${expected}, got ${typeOf(value)}` });
};
/** Pushes a too_small / too_big issue when `size` is out of `[min, max]`. */
const bounds = (size: number, min: number, max: number, unit: string, path: PropertyKey[], issues: ShapeIssue[]): void => {
  if (size < min) issues.push({ path, code: 'too_small', message: `too small (minimum ${min}${unit})` });
  if (size > max) issues.push({ path, code: 'too_big', message: `too big (maximum ${max}${unit})` });
};

/** A string of `min`..`max` characters, optionally matching `pattern` (with `patternMessage`) or containing `includes`. */
export function string(rules: { min?: number; max?: number; pattern?: RegExp; patternMessage?: string; includes?: string }): Shape<string> {
  return shape((value, path, issues) => {
    if (typeof value !== 'string') return wrongType('string', value, path, issues);
    bounds(value.length, rules.min ?? 0, rules.max ?? Infinity, ' characters', path, issues);
    if (rules.pattern && !rules.pattern.test(value)) {
      issues.push({ path, code: 'invalid_format', message: rules.patternMessage ?? `invalid format (${String(rules.pattern)})` });
    }
    if (rules.includes !== undefined && !value.includes(rules.includes)) {
      issues.push({ path, code: 'invalid_format', message: `invalid format (must include ${JSON.stringify(rules.includes)})` });
    }
  });
}

/** A safe integer from `min` to `max`. */
export function integer(min: number, max: number): Shape<number> {
  return shape((value, path, issues) => {
    if (typeof value !== 'number' || !Number.isSafeInteger(value)) return wrongType('integer', value, path, issues);
    bounds(value, min, max, '', path, issues);
  });
}

/** Exactly `expected`. */
export function literal<const T extends string | number | boolean>(expected: T): Shape<T> {
  return shape((value, path, issues) => {
    if (value !== expected) issues.push({ path, code: 'invalid_value', message: `expected ${JSON.stringify(expected)}` });
  });
}

/** `true` or `false`. */
export const boolean: Shape<boolean> = shape((value, path, issues) => {
  if (typeof value !== 'boolean') wrongType('boolean', value, path, issues);
});

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** A JSON object with any keys and values. */
export const record: Shape<Record<string, unknown>> = shape((value, path, issues) => {
  if (!isRecord(value)) wrongType('object', value, path, issues);
});

/** An array of `min`..`max` items of any kind (items are checked by the caller). */
export function array(min: number, max: number): Shape<readonly unknown[]> {
  return shape((value, path, issues) => {
    if (!Array.isArray(value)) return wrongType('array', value, path, issues);
    bounds(value.length, min, max, ' items', path, issues);
  });
}

/** `inner`, or absent / `undefined`. */
export function optional<T>(inner: Shape<T>): Shape<T | undefined> & { readonly optional: true } {
  return shape<T | undefined>((value, path, issues) => {
    if (value !== undefined) inner.check(value, path, issues);
  }, true) as Shape<T | undefined> & { readonly optional: true };
}

/** `inner`, or `null`. */
export function nullable<T>(inner: Shape<T>): Shape<T | null> {
  return shape((value, path, issues) => {
    if (value !== null) inner.check(value, path, issues);
  });
}

/** An object with these fields (each checked, every problem listed); other keys are kept as they are. */
export function looseObject<S extends Record<string, Shape<unknown>>>(fields: S): Shape<LooseObject<S>> {
  return shape((value, path, issues) => {
    if (!isRecord(value)) return wrongType('object', value, path, issues);
    for (const key of Object.keys(fields)) fields[key]!.check(value[key], [...path, key], issues);
  });
}
