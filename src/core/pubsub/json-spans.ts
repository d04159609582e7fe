// Reads the top level of a JSON text while keeping each value's exact text. Pub/sub rewrites
// CloudEvent envelopes around the app's data; going through JSON.parse would round numbers
// beyond 2^53 (Dapr decodes with UseNumber and keeps them), so values are copied as text.

/** One member of a JSON object: its decoded key and its value's exact JSON text. */
export interface JsonMember {
  readonly key: string;
  readonly text: string;
}

const WHITESPACE = new Set([' ', '\t', '\n', '\r']);

function skipWhitespace(text: string, index: number): number {
  let at = index;
  while (at < text.length && WHITESPACE.has(text[at] as string)) at++;
  return at;
}

/** The index just past the string starting at `index` (which holds its opening quote). */
function stringEnd(text: string, index: number): number {
  let at = index + 1;
  while (at < text.length) {
    const char = text[at];
    if (char === '\\') at += 2;
    else if (char === '"') return at + 1;
    else at++;
  }
  return at;
}

/** The index just past the value starting at `index`. */
function valueEnd(text: string, index: number): number {
  const first = text[index];
  if (first === '"') return stringEnd(text, index);
  if (first === '{' || first === '[') {
    let depth = 0;
    let at = index;
    while (at < text.length) {
      const char = text[at];
      if (char === '"') {
        at = stringEnd(text, at);
        continue;
      }
      if (char === '{' || char === '[') depth++;
      else if (char === '}' || char === ']') {
        depth--;
        if (depth === 0) return at + 1;
      }
      at++;
    }
    return at;
  }
  let at = index;
  while (at < text.length) {
    const char = text[at] as string;
    if (char === ',' || char === '}' || char === ']' || WHITESPACE.has(char)) break;
    at++;
  }
  return at;
}

/**
 * The members of a JSON object text, in order; a repeated key keeps its last value, as Go's
 * decoder does. Returns undefined when the text is not valid JSON or not an object.
 */
export function objectMembers(text: string): JsonMember[] | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return undefined;
  const members = new Map<string, string>();
  let at = skipWhitespace(text, 0) + 1;
  for (;;) {
    at = skipWhitespace(text, at);
    if (text[at] === '}') break;
    const keyEnd = stringEnd(text, at);
    const key = JSON.parse(text.slice(at, keyEnd)) as string;
    at = skipWhitespace(text, keyEnd) + 1;
    at = skipWhitespace(text, at);
    const end = valueEnd(text, at);
    members.delete(key);
    members.set(key, text.slice(at, end));
    at = skipWhitespace(text, end);
    if (text[at] === ',') at++;
  }
  return [...members].map(([key, value]) => ({ key, text: value }));
}

/**
 * The elements of a JSON array text as exact texts. Returns undefined when the text is not
 * valid JSON or not an array.
 */
export function arrayElements(text: string): string[] | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (!Array.isArray(parsed)) return undefined;
  const elements: string[] = [];
  let at = skipWhitespace(text, 0) + 1;
  for (;;) {
    at = skipWhitespace(text, at);
    if (text[at] === ']') break;
    const end = valueEnd(text, at);
    elements.push(text.slice(at, end));
    at = skipWhitespace(text, end);
    if (text[at] === ',') at++;
  }
  return elements;
}

/** Writes members back as a compact JSON object text. */
export function objectText(members: Iterable<JsonMember>): string {
  const parts: string[] = [];
  for (const { key, text } of members) parts.push(`${JSON.stringify(key)}:${text}`);
  return `{${parts.join(',')}}`;
}
