import type { MetadataRecord } from '../contracts/component.js';
import type { BulkPublishEntry, PublishRequest } from '../contracts/pubsub.js';

/**
 * The stream entry layout Dapr's `pubsub.redis` writes and reads: a `data` field with the
 * payload bytes and a `metadata` field with the publish request's metadata as a JSON object of
 * strings. Keeping it lets Dapr and Tapr sidecars publish to and consume from one stream.
 */
export const DATA_FIELD = 'data';
/** The entry field holding the publish metadata as JSON. */
export const METADATA_FIELD = 'metadata';

/** The two fields of an entry Dapr's layout reads; other fields are ignored, as Dapr does. */
export interface EntryFields {
  readonly data: Buffer | undefined;
  readonly metadata: Buffer | undefined;
}

/** One entry read from a stream; `fields` is undefined for an entry deleted while pending. */
export interface StreamEntry {
  readonly id: string;
  readonly fields: EntryFields | undefined;
}

const DATA_NAME = Buffer.from(DATA_FIELD);
const METADATA_NAME = Buffer.from(METADATA_FIELD);
/** `{}`: the metadata of almost every entry (a publish without metadata). */
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;

/**
 * What to send as the `data` field: the payload's text when the runtime built it as text (its
 * CloudEvent envelope), else its bytes. Text goes to ioredis as it is, encoded once into the
 * socket write; bytes make ioredis copy every command into a buffer of its own (bench/pubsub).
 */
export function payloadOf(message: PublishRequest | BulkPublishEntry): string | Buffer {
  if (message.dataText !== undefined) return message.dataText;
  const { data } = message;
  return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
}

/** The metadata as Go's `json.Marshal` of a string map orders it: keys sorted. */
export function metadataJson(metadata: MetadataRecord): string {
  const keys = Object.keys(metadata);
  if (keys.length === 0) return '{}';
  const sorted: Record<string, string> = {};
  for (const key of keys.sort()) sorted[key] = metadata[key] as string;
  return JSON.stringify(sorted);
}

/** What an entry carries once decoded; `metadataError` says why its metadata was dropped. */
export interface DecodedEntry {
  readonly data: Uint8Array;
  readonly metadata: MetadataRecord;
  readonly metadataError?: string;
}

/**
 * Decodes an entry's fields. A missing `data` is an empty payload, handed on without a copy (the
 * reply's buffers are not reused); `metadata` that is not a JSON object of strings is dropped
 * (Dapr logs it and delivers the message without metadata).
 */
export function decodeEntry(fields: EntryFields): DecodedEntry {
  const data = fields.data ?? new Uint8Array(0);
  const raw = fields.metadata;
  if (raw === undefined || isEmptyObject(raw)) return { data, metadata: {} };
  try {
    const parsed: unknown = JSON.parse(raw.toString('utf8'));
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

/** Whether the bytes are exactly `{}`, which needs no parse. */
function isEmptyObject(bytes: Buffer): boolean {
  return bytes.length === 2 && bytes[0] === OPEN_BRACE && bytes[1] === CLOSE_BRACE;
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
    let data: Buffer | undefined;
    let metadata: Buffer | undefined;
    for (let index = 0; index + 1 < list.length; index += 2) {
      const name: unknown = list[index];
      // A repeated field keeps its last value, as the map go-redis builds in reply order does.
      if (isName(name, DATA_NAME)) data = bufferOf(list[index + 1]);
      else if (isName(name, METADATA_NAME)) metadata = bufferOf(list[index + 1]);
    }
    const fields: EntryFields = { data, metadata };
    entries.push({ id, fields });
  }
  return entries;
}

/** Whether a reply item (a buffer from `callBuffer`) is the field name `name`. */
function isName(item: unknown, name: Buffer): boolean {
  if (!Buffer.isBuffer(item)) return String(item) === name.toString();
  if (item.length !== name.length) return false;
  for (let index = 0; index < name.length; index += 1) {
    if (item[index] !== name[index]) return false;
  }
  return true;
}

function bufferOf(value: unknown): Buffer {
  return Buffer.isBuffer(value) ? value : Buffer.from(String(value));
}
