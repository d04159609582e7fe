/**
 * Walks JSON kept as text, to find where values sit without parsing them: a saved state value
 * stored exactly as the app wrote it, a CloudEvent's data spliced into an envelope, a bulk
 * request's entries. Numbers beyond 2^53 stay exact, as Go's decoders keep them.
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

/** One element of an array: where it sits and, when it is an object, its members in order. */
export interface ElementMembers {
  readonly span: JsonSpan;
  readonly members: JsonMember[] | undefined;
}

const QUOTE = 0x22;
const COMMA = 0x2c;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;

/** Whether a character ends a number or literal: `,`, `]`, `}` or JSON whitespace. */
function endsScalar(c: number): boolean {
  return (
    c === COMMA ||
    c === CLOSE_BRACKET ||
    c === CLOSE_BRACE ||
    c === 0x20 ||
    c === 0x0a ||
    c === 0x0d ||
    c === 0x09
  );
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
    this.#membersFrom(span.start, out);
    return out;
  }

  /**
   * An array's elements, with the members of those that are objects, walking each element once
   * (`elements` and then `members` walk objects twice); `span` must be an array.
   */
  elementMembers(span: JsonSpan): ElementMembers[] {
    const out: ElementMembers[] = [];
    let i = this.#skipSpace(span.start + 1);
    if (this.text[i] === ']') return out;
    for (;;) {
      let end: number;
      let members: JsonMember[] | undefined;
      if (this.text.charCodeAt(i) === OPEN_BRACE) {
        members = [];
        end = this.#membersFrom(i, members);
      } else end = this.#valueEnd(i);
      out.push({ span: { start: i, end }, members });
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

  /** Adds the members of the object at `start` to `out`; returns where the object ends. */
  #membersFrom(start: number, out: JsonMember[]): number {
    let i = this.#skipSpace(start + 1);
    if (this.text.charCodeAt(i) === CLOSE_BRACE) return i + 1;
    for (;;) {
      const nameEnd = this.#stringEnd(i);
      const name = this.#stringValue(i, nameEnd);
      const valueStart = this.#skipSpace(this.#skipSpace(nameEnd) + 1);
      const valueEnd = this.#valueEnd(valueStart);
      out.push({ name, value: { start: valueStart, end: valueEnd } });
      i = this.#skipSpace(valueEnd);
      // Valid JSON: after the last member comes the closing brace.
      if (this.text.charCodeAt(i) !== COMMA) return i + 1;
      i = this.#skipSpace(i + 1);
    }
  }

  /** The value of the string token at `[start, end)`: its text when it has no escapes. */
  #stringValue(start: number, end: number): string {
    const inner = this.text.slice(start + 1, end - 1);
    return inner.includes('\\') ? (JSON.parse(this.text.slice(start, end)) as string) : inner;
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

  /**
   * The end of the string token starting at `i`: after the first quote not escaped, that is not
   * preceded by an odd run of backslashes. `indexOf` jumps over long strings (a saved value
   * often is one) far faster than a loop over their characters.
   */
  #stringEnd(i: number): number {
    const { text } = this;
    let from = i + 1;
    for (;;) {
      const quote = text.indexOf('"', from);
      if (quote === -1) return text.length;
      let backslashes = 0;
      while (quote - backslashes - 1 >= from && text.charCodeAt(quote - backslashes - 1) === 0x5c) {
        backslashes++;
      }
      if (backslashes % 2 === 0) return quote + 1;
      from = quote + 1;
    }
  }

  // Character codes, not one-character strings: a saved value is walked a byte at a time.
  #valueEnd(i: number): number {
    const { text } = this;
    const c = text.charCodeAt(i);
    if (c === QUOTE) return this.#stringEnd(i);
    if (c === OPEN_BRACE || c === OPEN_BRACKET) {
      let depth = 0;
      let j = i;
      while (j < text.length) {
        const d = text.charCodeAt(j);
        if (d === QUOTE) {
          j = this.#stringEnd(j);
          continue;
        }
        if (d === OPEN_BRACE || d === OPEN_BRACKET) depth++;
        else if (d === CLOSE_BRACE || d === CLOSE_BRACKET) {
          depth--;
          if (depth === 0) return j + 1;
        }
        j++;
      }
      return j;
    }
    let j = i;
    while (j < text.length && !endsScalar(text.charCodeAt(j))) j++;
    return j;
  }
}
