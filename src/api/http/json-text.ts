/**
 * JSON embedded raw in a state response, compacted as Go's `json.Compact` does.
 */

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
