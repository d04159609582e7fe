// Reads the top level of a JSON text while keeping each value's exact text. Pub/sub rewrites
// CloudEvent envelopes around the app's data; going through JSON.parse would round numbers
// beyond 2^53 (Dapr decodes with UseNumber and keeps them), so values are copied as text.

import { JsonText } from '../../kernel/json-text.js';

/** One member of a JSON object: its decoded key and its value's exact JSON text. */
export interface JsonMember {
  readonly key: string;
  readonly text: string;
}

/** Whether `text` parses as JSON whose top level passes `kind`. */
function parsesAs(text: string, kind: (value: unknown) => boolean): boolean {
  try {
    return kind(JSON.parse(text));
  } catch {
    return false;
  }
}

const isObject = (value: unknown): boolean =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * The members of a JSON object text, in order; a repeated key keeps its last value, as Go's
 * decoder does. Returns undefined when the text is not valid JSON or not an object. `valid`
 * skips the validating parse, for text known to be JSON already (a span of a parsed body); it
 * must then still be an object.
 */
export function objectMembers(text: string, valid = false): JsonMember[] | undefined {
  if (!valid && !parsesAs(text, isObject)) return undefined;
  const json = new JsonText(text);
  const root = json.root();
  if (json.kind(root) !== 'object') return undefined;
  const members = new Map<string, string>();
  for (const { name, value } of json.members(root)) {
    members.delete(name);
    members.set(name, json.slice(value));
  }
  return [...members].map(([key, value]) => ({ key, text: value }));
}

/** Writes members back as a compact JSON object text. */
export function objectText(members: Iterable<JsonMember>): string {
  const parts: string[] = [];
  for (const { key, text } of members) parts.push(`${JSON.stringify(key)}:${text}`);
  return `{${parts.join(',')}}`;
}
