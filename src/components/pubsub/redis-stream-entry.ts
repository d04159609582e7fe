import type { MetadataRecord } from '../contracts/component.js';

/**
 * The stream entry layout Dapr's `pubsub.redis` writes and reads: a `data` field with the
 * payload bytes and a `metadata` field with the publish request's metadata as a JSON object of
 * strings. Keeping it lets Dapr and Tapr sidecars publish to and consume from one stream.
 */
export const DATA_FIELD = 'data';
/** The entry field holding the publish metadata as JSON. */
export const METADATA_FIELD = 'metadata';

/** One entry read from a stream; `fields` is undefined for an entry deleted while pending. */
export interface StreamEntry {
  readonly id: string;
  readonly fields: ReadonlyMap<string, Buffer> | undefined;
}

/** The XADD field/value arguments for a message, in Dapr's layout. */
export function entryFields(data: Uint8Array, metadata: MetadataRecord): (string | Buffer)[] {
  return [
    DATA_FIELD,
    Buffer.from(data.buffer, data.byteOffset, data.byteLength),
    METADATA_FIELD,
    metadataJson(metadata),
  ];
}

/** The metadata as Go's `json.Marshal` of a string map orders it: keys sorted. */
function metadataJson(metadata: MetadataRecord): string {
  const sorted: Record<string, string> = {};
  for (const key of Object.keys(metadata).sort()) sorted[key] = metadata[key] as string;
  return JSON.stringify(sorted);
}

/** What an entry carries once decoded; `metadataError` says why its metadata was dropped. */
export interface DecodedEntry {
  readonly data: Uint8Array;
  readonly metadata: MetadataRecord;
  readonly metadataError?: string;
}

/**
 * Decodes an entry's fields. A missing `data` is an empty payload; `metadata` that is not a
 * JSON object of strings is dropped (Dapr logs it and delivers the message without metadata).
 */
export function decodeEntry(fields: ReadonlyMap<string, Buffer>): DecodedEntry {
  const raw = fields.get(DATA_FIELD);
  const data = raw === undefined ? new Uint8Array(0) : new Uint8Array(raw);
  const text = fields.get(METADATA_FIELD)?.toString('utf8');
  if (text === undefined) return { data, metadata: {} };
  try {
    const parsed: unknown = JSON.parse(text);
    if (parsed === null) return { data, metadata: {} };
    if (typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error('not an object');
    const metadata: Record<string, string> = {};
    for (const [key, value] of Object.entries(parsed)) {
      if (typeof value !== 'string') throw new Error(`value of "${key}" is not a string`);
      metadata[key] = value;
    }
    return { data, metadata };
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    return { data, metadata: {}, metadataError: reason };
  }
}

/** Entries of an XREADGROUP reply (`[[stream, [[id, [field, value, ...]], ...]]]` or null). */
export function readGroupEntries(reply: unknown): StreamEntry[] {
  if (!Array.isArray(reply)) return [];
  const entries: StreamEntry[] = [];
  for (const stream of reply) {
    if (Array.isArray(stream) && Array.isArray(stream[1]))
      entries.push(...streamEntries(stream[1]));
  }
  return entries;
}

/**
 * Entries of a list of `[id, [field, value, ...]]` (XCLAIM, XRANGE). An entry deleted from the
 * stream while pending comes back with nil fields from Redis before 7.0; it keeps its id.
 */
export function streamEntries(reply: unknown): StreamEntry[] {
  if (!Array.isArray(reply)) return [];
  const entries: StreamEntry[] = [];
  for (const item of reply) {
    if (!Array.isArray(item) || item[0] === undefined || item[0] === null) continue;
    const id = String(item[0]);
    const list: unknown = item[1];
    if (!Array.isArray(list)) {
      entries.push({ id, fields: undefined });
      continue;
    }
    const fields = new Map<string, Buffer>();
    for (let index = 0; index + 1 < list.length; index += 2) {
      const name = String(list[index]);
      const value: unknown = list[index + 1];
      // A repeated field keeps its last value, as the map go-redis builds in reply order does.
      fields.set(name, Buffer.isBuffer(value) ? value : Buffer.from(String(value)));
    }
    entries.push({ id, fields });
  }
  return entries;
}
