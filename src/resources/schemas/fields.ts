// Field schemas that read YAML the way Dapr's Go decoders do, so files written for Dapr
// validate unchanged: scalars stringify into string fields, null means "not set", and
// resource files match keys case-insensitively (Go's encoding/json behaviour).

import { z } from 'zod';
import { parseGoDuration } from '../../kernel/index.js';
import { ResourceError } from '../resource-error.js';

type Shape = z.ZodRawShape;

function isMapping(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Normalises a mapping before validation: drops null values (Go leaves the zero value) and,
 * when `fields` is given, renames keys that match a field case-insensitively; a later key
 * wins, as with Go's decoder.
 */
export function normalizeKeys(input: unknown, fields: readonly string[] | undefined): unknown {
  if (!isMapping(input)) return input;
  const byLower = new Map(fields?.map((field) => [field.toLowerCase(), field]));
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(input)) {
    if (value === null) continue;
    const field = fields?.includes(key) ? key : (byLower.get(key.toLowerCase()) ?? key);
    out[field] = value;
  }
  return out;
}

/** An object read with Go's JSON rules (resource files): keys in any case, unknown keys ignored. */
export function jsonStruct<S extends Shape>(shape: S) {
  const fields = Object.keys(shape);
  return z.preprocess((input) => normalizeKeys(input, fields), z.object(shape));
}

/** An object read with yaml.v3 rules (the Configuration file): exact keys, unknown keys ignored. */
export function yamlStruct<S extends Shape>(shape: S) {
  return z.preprocess((input) => normalizeKeys(input, undefined), z.object(shape));
}

/** Text of a scalar as Go stores it in a string field (`20` -> "20", `true` -> "true"). */
export function scalarText(value: unknown): unknown {
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') {
    return String(value);
  }
  return value;
}

/** A string field that also takes a number or boolean scalar, like Dapr's YAML-to-JSON step. */
export const text = z.preprocess(scalarText, z.string());

/** A string field that must be present and non-empty (Go cannot tell "" from unset). */
export const requiredText = text.refine((value) => value.length > 0, { error: 'required' });

/** An optional string field; an empty string counts as unset, as in Go. */
export const optionalText = text
  .optional()
  .transform((value) => (value === '' ? undefined : value));

/** A list field; null or absent is an empty list. */
export function list<T extends z.ZodType>(item: T) {
  return z.array(item).default([]);
}

/** A list of strings such as `scopes`. */
export const textList = list(text);

/** A string-to-string map (subscription metadata, label regexes); scalar values stringify. */
export const textMap = z.record(z.string(), text).default({});

/** An int32 field. */
export const int32 = z
  .number()
  .int()
  .min(-(2 ** 31))
  .max(2 ** 31 - 1);

function toMs(value: string, bareMs: boolean, ctx: z.core.$RefinementCtx<unknown>): number {
  const trimmed = value.trim();
  // Dapr's resiliency decoder takes a bare integer as milliseconds before trying a Go duration.
  if (bareMs && /^[+-]?\d+$/.test(trimmed)) return Number(trimmed);
  const ms = parseGoDuration(trimmed);
  if (ms !== undefined) return ms;
  const example = bareMs ? '"5s", "1m30s" or milliseconds such as "500"' : '"5s" or "1m30s"';
  ctx.addIssue({
    code: 'custom',
    message: `expected a duration such as ${example}, got "${value}"`,
  });
  return z.NEVER;
}

/** A required Go duration string (`5s`, `1m30s`), in milliseconds. */
export const goDuration = requiredText.transform((value, ctx) => toMs(value, false, ctx));

/** An optional Go duration in milliseconds; empty counts as unset. */
export const optionalGoDuration = optionalText.transform((value, ctx) =>
  value === undefined ? undefined : toMs(value, false, ctx),
);

/** A required duration as Dapr's resiliency reads it: Go duration or bare milliseconds. */
export const msDuration = requiredText.transform((value, ctx) => toMs(value, true, ctx));

/** An optional resiliency duration; empty counts as unset. */
export const optionalMsDuration = optionalText.transform((value, ctx) =>
  value === undefined ? undefined : toMs(value, true, ctx),
);

/**
 * An optional text field limited to `values`; with `ignoreCase` the canonical spelling is
 * returned. Empty counts as unset.
 */
export function oneOf<const T extends readonly [string, ...string[]]>(
  values: T,
  options: { readonly ignoreCase?: boolean } = {},
) {
  return optionalText.transform((value, ctx): T[number] | undefined => {
    if (value === undefined) return undefined;
    const hit = values.find((candidate) =>
      options.ignoreCase ? candidate.toLowerCase() === value.toLowerCase() : candidate === value,
    );
    if (hit !== undefined) return hit;
    ctx.addIssue({
      code: 'custom',
      message: `expected one of ${values.join(', ')}, got "${value}"`,
    });
    return z.NEVER;
  });
}

/** Returns `{ [key]: value }`, or `{}` when the value is undefined, for optional fields. */
export function optionalField<K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: V };
}

/** Formats a zod path as `spec.metadata[2].value`. */
export function formatFieldPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else {
      const name = String(part);
      if (/^[A-Za-z_][\w-]*$/.test(name)) out += out === '' ? name : `.${name}`;
      else out += `[${JSON.stringify(name)}]`;
    }
  }
  return out;
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  if (typeof value === 'string') return `string "${value}"`;
  return `${typeof value} ${String(value)}`;
}

const TYPE_WORDS: Readonly<Record<string, string>> = {
  object: 'a mapping',
  record: 'a mapping',
  array: 'a list',
  string: 'a string',
  number: 'a number',
  int: 'an integer',
  boolean: 'a boolean (true or false)',
};

/** A short, user-facing explanation of one validation issue. */
function issueDetail(issue: z.core.$ZodIssue): string {
  if (issue.code === 'invalid_type') {
    if (issue.input === undefined) return 'required';
    return `expected ${TYPE_WORDS[issue.expected] ?? issue.expected}, got ${describe(issue.input)}`;
  }
  if (issue.code === 'invalid_value') {
    return `expected one of ${issue.values.map(String).join(', ')}, got ${describe(issue.input)}`;
  }
  if (issue.code === 'too_small' || issue.code === 'too_big') {
    if (issue.message === 'required') return issue.message;
    const bound =
      issue.code === 'too_small' ? `at least ${issue.minimum}` : `at most ${issue.maximum}`;
    return `must be ${bound}, got ${describe(issue.input)}`;
  }
  if (issue.code === 'invalid_union')
    return `not in an accepted form, got ${describe(issue.input)}`;
  return issue.message;
}

/** Where a document being validated lives, for error messages. */
export interface DocumentContext {
  readonly file: string;
  readonly kind: string;
  readonly name?: string;
}

/** Parses `value` with `schema` or throws a ResourceError naming the file, resource and field. */
export function parseOrThrow<T extends z.ZodType>(
  schema: T,
  value: unknown,
  where: DocumentContext,
): z.output<T> {
  const result = schema.safeParse(value, { reportInput: true });
  if (result.success) return result.data;
  const [first, ...rest] = result.error.issues;
  const detail = first ? issueDetail(first) : 'invalid';
  throw new ResourceError({
    file: where.file,
    kind: where.kind,
    ...optionalField('resourceName', where.name),
    fieldPath: first ? formatFieldPath(first.path) : '',
    detail: rest.length > 0 ? `${detail} (and ${rest.length} more problem(s))` : detail,
  });
}

/** Raises a validation issue from inside a schema refinement. */
export function fail(ctx: z.core.$RefinementCtx, message: string, path?: PropertyKey[]): void {
  ctx.addIssue({ code: 'custom', message, ...(path === undefined ? {} : { path }) });
}
