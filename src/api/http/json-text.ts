/**
 * Helpers for JSON kept as text: where a value sits inside a request body (so a saved state value
 * is stored exactly as the app wrote it) and JSON embedded raw in a response.
 */

/** Where one JSON value sits in a text: `[start, end)` offsets. */
export interface JsonSpan {
  readonly start: number;
  readonly end: number;
}

/** One member of a JSON object: its decoded name and where its value sits. */
export interface JsonMember {
  readonly name: string;
  readonly value: JsonSpan;
}

/**
 * Walks a text already known to be valid JSON (it passed `JSON.parse`), so it checks nothing and
 * only finds where values start and end.
 */
export class JsonText {
  constructor(readonly text: string) {}

  /** The span of the whole document, without surrounding whitespace. */
  root(): JsonSpan {
    const start = this.#skipSpace(0);
    return { start, end: this.#valueEnd(start) };
  }

  /** The spans of an array's elements; `span` must be an array. */
  elements(span: JsonSpan): JsonSpan[] {
    const out: JsonSpan[] = [];
    let i = this.#skipSpace(span.start + 1);
    if (this.text[i] === ']') return out;
    for (;;) {
      const end = this.#valueEnd(i);
      out.push({ start: i, end });
      i = this.#skipSpace(end);
      if (this.text[i] !== ',') return out;
      i = this.#skipSpace(i + 1);
    }
  }

  /** The members of an object in order, duplicates included; `span` must be an object. */
  members(span: JsonSpan): JsonMember[] {
    const out: JsonMember[] = [];
    let i = this.#skipSpace(span.start + 1);
    if (this.text[i] === '}') return out;
    for (;;) {
      const nameEnd = this.#stringEnd(i);
      const name = JSON.parse(this.text.slice(i, nameEnd)) as string;
      const start = this.#skipSpace(this.#skipSpace(nameEnd) + 1);
      const end = this.#valueEnd(start);
      out.push({ name, value: { start, end } });
      i = this.#skipSpace(end);
      if (this.text[i] !== ',') return out;
      i = this.#skipSpace(i + 1);
    }
  }

  /**
   * The span of an object member as Go's decoder picks a struct field: the name compared
   * case-insensitively, the last match winning.
   */
  member(span: JsonSpan, name: string): JsonSpan | undefined {
    let found: JsonSpan | undefined;
    for (const member of this.members(span)) {
      if (member.name.toLowerCase() === name) found = member.value;
    }
    return found;
  }

  /** The source text of a span. */
  slice(span: JsonSpan): string {
    return this.text.slice(span.start, span.end);
  }

  /** Whether the span holds an object (`{`) or an array (`[`). */
  kind(span: JsonSpan): 'object' | 'array' | 'other' {
    const c = this.text[span.start];
    return c === '{' ? 'object' : c === '[' ? 'array' : 'other';
  }

  #skipSpace(i: number): number {
    const { text } = this;
    while (i < text.length) {
      const c = text.charCodeAt(i);
      if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) break;
      i++;
    }
    return i;
  }

  #stringEnd(i: number): number {
    const { text } = this;
    let j = i + 1;
    while (j < text.length) {
      const c = text.charCodeAt(j);
      if (c === 0x5c) j += 2;
      else if (c === 0x22) return j + 1;
      else j++;
    }
    return j;
  }

  #valueEnd(i: number): number {
    const { text } = this;
    const c = text[i];
    if (c === '"') return this.#stringEnd(i);
    if (c === '{' || c === '[') {
      let depth = 0;
      let j = i;
      while (j < text.length) {
        const d = text[j];
        if (d === '"') {
          j = this.#stringEnd(j);
          continue;
        }
        if (d === '{' || d === '[') depth++;
        else if (d === '}' || d === ']') {
          depth--;
          if (depth === 0) return j + 1;
        }
        j++;
      }
      return j;
    }
    let j = i;
    while (j < text.length && !',]} \n\r\t'.includes(text[j] as string)) j++;
    return j;
  }
}

/** Removes the whitespace between tokens of valid JSON text, as Go's `json.Compact` does. */
export function compactJson(text: string): string {
  let out = '';
  let from = 0;
  let i = 0;
  while (i < text.length) {
    const c = text.charCodeAt(i);
    if (c === 0x22) {
      i++;
      while (i < text.length) {
        const d = text.charCodeAt(i);
        if (d === 0x5c) i += 2;
        else if (d === 0x22) break;
        else i++;
      }
      i++;
      continue;
    }
    if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) {
      out += text.slice(from, i);
      while (i < text.length && /[ \n\r\t]/.test(text[i] as string)) i++;
      from = i;
      continue;
    }
    i++;
  }
  return out + text.slice(from);
}

const UTF8 = new TextDecoder('utf-8', { fatal: true });

/**
 * A stored value as raw JSON for a response body (Dapr embeds values as `json.RawMessage`,
 * compacted). Dapr cannot encode a value that is not JSON (bytes saved over gRPC) and answers
 * an empty body; Tapr sends such a value as a JSON string of its text instead.
 */
export function rawJsonValue(data: Uint8Array): string {
  let text: string;
  try {
    text = UTF8.decode(data);
  } catch {
    return JSON.stringify(Buffer.from(data).toString('utf8'));
  }
  try {
    JSON.parse(text);
  } catch {
    return JSON.stringify(text);
  }
  return compactJson(text);
}
