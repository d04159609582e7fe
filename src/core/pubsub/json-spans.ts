// Reads the top level of a JSON text while keeping each value's exact text. Pub/sub rewrites
// CloudEvent envelopes around the app's data; going through JSON.parse would round numbers
// beyond 2^53 (Dapr decodes with UseNumber and keeps them), so values are copied as text.

/** One member of a JSON object: its decoded key and its value's exact JSON text. */
export interface JsonMember {
  readonly key: string;
  readonly text: string;
}

// Scanned by char code, and strings skipped with indexOf: bulk publish reads every entry's
// event this way, so the scan is on the hot path (bench/pubsub).
const SPACE = 0x20;
const TAB = 0x09;
const NEWLINE = 0x0a;
const RETURN = 0x0d;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;

function isWhitespace(code: number): boolean {
  return code === SPACE || code === NEWLINE || code === RETURN || code === TAB;
}

function skipWhitespace(text: string, index: number): number {
  let at = index;
  while (at < text.length && isWhitespace(text.charCodeAt(at))) at++;
  return at;
}

/** The index just past the string starting at `index` (which holds its opening quote). */
function stringEnd(text: string, index: number): number {
  let from = index + 1;
  for (;;) {
    const quote = text.indexOf('"', from);
    if (quote === -1) return text.length;
    // The quote ends the string unless an odd number of backslashes escapes it.
    let backslashes = 0;
    for (let at = quote - 1; at > index && text.charCodeAt(at) === BACKSLASH; at--) backslashes++;
    if (backslashes % 2 === 0) return quote + 1;
    from = quote + 1;
  }
}

/** The index just past the value starting at `index`. */
function valueEnd(text: string, index: number): number {
  const first = text.charCodeAt(index);
  if (first === QUOTE) return stringEnd(text, index);
  if (first === OPEN_BRACE || first === OPEN_BRACKET) {
    let depth = 0;
    let at = index;
    while (at < text.length) {
      const code = text.charCodeAt(at);
      if (code === QUOTE) {
        at = stringEnd(text, at);
        continue;
      }
      if (code === OPEN_BRACE || code === OPEN_BRACKET) depth++;
      else if (code === CLOSE_BRACE || code === CLOSE_BRACKET) {
        depth--;
        if (depth === 0) return at + 1;
      }
      at++;
    }
    return at;
  }
  let at = index;
  while (at < text.length) {
    const code = text.charCodeAt(at);
    if (code === COMMA || code === CLOSE_BRACE || code === CLOSE_BRACKET || isWhitespace(code)) {
      break;
    }
    at++;
  }
  return at;
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
 * skips the validating parse, for a span of a text already parsed (an element of
 * `arrayElements`); it must then still be an object.
 */
export function objectMembers(text: string, valid = false): JsonMember[] | undefined {
  if (valid ? text.charCodeAt(skipWhitespace(text, 0)) !== OPEN_BRACE : !parsesAs(text, isObject)) {
    return undefined;
  }
  const members = new Map<string, string>();
  let at = skipWhitespace(text, 0) + 1;
  for (;;) {
    at = skipWhitespace(text, at);
    if (text.charCodeAt(at) === CLOSE_BRACE) break;
    const keyEnd = stringEnd(text, at);
    const key = JSON.parse(text.slice(at, keyEnd)) as string;
    at = skipWhitespace(text, keyEnd) + 1;
    at = skipWhitespace(text, at);
    const end = valueEnd(text, at);
    members.delete(key);
    members.set(key, text.slice(at, end));
    at = skipWhitespace(text, end);
    if (text.charCodeAt(at) === COMMA) at++;
  }
  return [...members].map(([key, value]) => ({ key, text: value }));
}

/**
 * The elements of a JSON array text as exact texts. Returns undefined when the text is not
 * valid JSON or not an array.
 */
export function arrayElements(text: string): string[] | undefined {
  if (!parsesAs(text, Array.isArray)) return undefined;
  const elements: string[] = [];
  let at = skipWhitespace(text, 0) + 1;
  for (;;) {
    at = skipWhitespace(text, at);
    if (text.charCodeAt(at) === CLOSE_BRACKET) break;
    const end = valueEnd(text, at);
    elements.push(text.slice(at, end));
    at = skipWhitespace(text, end);
    if (text.charCodeAt(at) === COMMA) at++;
  }
  return elements;
}

/** Writes members back as a compact JSON object text. */
export function objectText(members: Iterable<JsonMember>): string {
  const parts: string[] = [];
  for (const { key, text } of members) parts.push(`${JSON.stringify(key)}:${text}`);
  return `{${parts.join(',')}}`;
}
