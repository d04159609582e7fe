import { z } from 'zod';
import { parseGoDuration } from '../../kernel/duration.js';
import { parseTruthy } from '../../kernel/go-bool.js';
import type { MetadataSchema } from './component.js';

/** A schema for one metadata field: it sees the string value, or undefined when absent. */
export type MetadataField<T> = z.ZodType<T, string | undefined>;

/** Field schemas keyed by the field's canonical name (as Dapr documents it). */
export type MetadataShape = Readonly<Record<string, MetadataField<unknown>>>;

/** The options object a shape produces. */
export type MetadataOptions<S extends MetadataShape> = {
  readonly [K in keyof S]: z.output<S[K]>;
};

/** The options type a metadata schema produces. */
export type OptionsOf<T> = T extends MetadataSchema<infer O> ? O : never;

/** Other names a field is also accepted under, in the order they are tried. */
export type MetadataAliases<S extends MetadataShape> = Readonly<
  Partial<Record<keyof S & string, readonly string[]>>
>;

/**
 * Builds a component's metadata schema. Matches field names case-insensitively and accepts
 * aliases when the canonical name is absent, as Dapr's metadata decoder does; keys that differ
 * only by case are rejected (Dapr's "key is duplicate in the metadata"); unknown keys are
 * ignored, since Dapr components read only the fields they know.
 */
export function metadataSchema<S extends MetadataShape>(
  shape: S,
  aliases?: MetadataAliases<S>,
): MetadataSchema<MetadataOptions<S>> {
  const canonical = new Map<string, string>();
  for (const name of Object.keys(shape)) canonical.set(name.toLowerCase(), name);
  const aliasList: [string, string][] = [];
  for (const [name, names] of Object.entries(aliases ?? {})) {
    for (const alias of names ?? []) aliasList.push([alias.toLowerCase(), name]);
  }
  const fields = z.object(shape);

  return z.record(z.string(), z.string()).transform((input, ctx): MetadataOptions<S> => {
    const byLower = new Map<string, string>();
    for (const [key, value] of Object.entries(input)) {
      const lower = key.toLowerCase();
      if (byLower.has(lower)) {
        ctx.issues.push({
          code: 'custom',
          message: `key ${lower} is duplicate in the metadata`,
          input: key,
          path: [key],
        });
        continue;
      }
      byLower.set(lower, value);
    }
    const named = new Map<string, string>();
    for (const [lower, name] of canonical) {
      const value = byLower.get(lower);
      if (value !== undefined) named.set(name, value);
    }
    for (const [alias, name] of aliasList) {
      const value = byLower.get(alias);
      if (value !== undefined && !named.has(name)) named.set(name, value);
    }
    const result = fields.safeParse(Object.fromEntries(named));
    if (!result.success) {
      for (const issue of result.error.issues) {
        ctx.issues.push({ code: 'custom', message: issue.message, input, path: issue.path });
      }
      return z.NEVER;
    }
    // zod cannot name the output of an object over a generic shape; MetadataOptions spells it.
    return result.data as MetadataOptions<S>;
  });
}

/** Field schemas for the value types Dapr metadata carries, all parsed from strings. */
export const metadataField = {
  /** A string; `default` applies when the field is absent or empty, as Dapr's empty checks do. */
  string(options: { readonly default?: string; readonly required?: boolean } = {}) {
    return z
      .string()
      .optional()
      .transform((value, ctx): string => {
        if (value !== undefined && value !== '') return value;
        if (options.required) {
          ctx.issues.push({ code: 'custom', message: 'is required', input: value });
          return z.NEVER;
        }
        return options.default ?? '';
      }) satisfies MetadataField<string>;
  },

  /** A boolean in Dapr's spellings (`true`, `1`, `yes`, `on`, `y`, `t`; case-insensitive). */
  bool(defaultValue: boolean) {
    return z
      .string()
      .optional()
      .transform((value, ctx): boolean => {
        if (value === undefined) return defaultValue;
        // Dapr's truthy spellings; other text is refused rather than silently read as false.
        const parsed = parseTruthy(value);
        if (parsed !== undefined) return parsed;
        ctx.issues.push({
          code: 'custom',
          message: `"${value}" is not a boolean (use true or false)`,
          input: value,
        });
        return z.NEVER;
      }) satisfies MetadataField<boolean>;
  },

  /** A whole number; `default` applies when the field is absent or empty. */
  int(options: { readonly default: number; readonly min?: number }) {
    return z
      .string()
      .optional()
      .transform((value, ctx): number => {
        if (value === undefined || value.trim() === '') return options.default;
        const parsed = /^[+-]?\d+$/.test(value.trim()) ? Number(value.trim()) : Number.NaN;
        if (!Number.isSafeInteger(parsed)) {
          ctx.issues.push({
            code: 'custom',
            message: `"${value}" is not an integer`,
            input: value,
          });
          return z.NEVER;
        }
        if (options.min !== undefined && parsed < options.min) {
          ctx.issues.push({
            code: 'custom',
            message: `${parsed} is below the minimum ${options.min}`,
            input: value,
          });
          return z.NEVER;
        }
        return parsed;
      }) satisfies MetadataField<number>;
  },

  /**
   * A Go duration (`"20s"`, `"1m30s"`) in milliseconds; `bareUnit` reads a bare number the way
   * the component's Dapr counterpart does (many take seconds).
   */
  duration(options: { readonly default: number; readonly bareUnit?: 's' | 'ms' }) {
    return z
      .string()
      .optional()
      .transform((value, ctx): number => {
        if (value === undefined || value.trim() === '') return options.default;
        const parsed = parseGoDuration(value, options.bareUnit);
        if (parsed === undefined) {
          ctx.issues.push({
            code: 'custom',
            message: `"${value}" is not a duration (e.g. "10s", "1m30s")`,
            input: value,
          });
          return z.NEVER;
        }
        return parsed;
      }) satisfies MetadataField<number>;
  },
};
