// Typed reads of a driver's JSON parameters, failing with the parameter's name.
import type { JsonObject } from './types.js';

/** A required string parameter. */
export function stringParam(params: JsonObject, name: string): string {
  const value = params[name];
  if (typeof value !== 'string') throw new Error(`driver parameter "${name}" must be a string`);
  return value;
}

/** An optional string parameter (undefined when absent). */
export function optionalStringParam(params: JsonObject, name: string): string | undefined {
  return params[name] === undefined ? undefined : stringParam(params, name);
}

/** A number parameter, `fallback` when absent. */
export function numberParam(params: JsonObject, name: string, fallback?: number): number {
  const value = params[name];
  if (value === undefined && fallback !== undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new Error(`driver parameter "${name}" must be a number`);
  }
  return value;
}

/** A string-to-string map parameter (headers, metadata), empty when absent. */
export function recordParam(params: JsonObject, name: string): Record<string, string> {
  const value = params[name];
  if (value === undefined) return {};
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new Error(`driver parameter "${name}" must be an object of strings`);
  }
  const out: Record<string, string> = {};
  for (const [key, entry] of Object.entries(value)) {
    if (typeof entry !== 'string')
      throw new Error(`driver parameter "${name}.${key}" must be a string`);
    out[key] = entry;
  }
  return out;
}

/** A list of strings (keys to rotate over), which must not be empty. */
export function stringListParam(params: JsonObject, name: string): string[] {
  const value = params[name];
  if (
    !Array.isArray(value) ||
    value.length === 0 ||
    !value.every((item) => typeof item === 'string')
  ) {
    throw new Error(`driver parameter "${name}" must be a non-empty list of strings`);
  }
  return value as string[];
}

/** Hands out the items of a list in turn, forever (a key per request, spread over a key set). */
export function roundRobin<T>(items: readonly T[]): () => T {
  if (items.length === 0) throw new Error('roundRobin needs at least one item');
  let next = 0;
  return () => {
    const item = items[next] as T;
    next = (next + 1) % items.length;
    return item;
  };
}
