import type { MetadataRecord } from '../../components/contracts/component.js';
import { errorText } from '../../kernel/tapr-error.js';
import {
  isBinaryContentType,
  isCloudEventContentType,
  isJsonContentType,
  isStringContentType,
} from './content-type.js';
import { arrayElements, objectMembers } from './json-spans.js';
import type { BulkEntryInput } from './publish-target.js';
import {
  DUPLICATE_ENTRY_ID,
  marshalEnvelopeFailed,
  marshalEventsFailed,
  unmarshalEventsFailed,
} from './pubsub-errors.js';

// The HTTP bulk publish body (Dapr's onBulkPublish): a JSON array of
//   {"entryId": "1", "event": <JSON value>, "contentType": "...", "metadata": {"k": "v"}}
// where `event` is base64 text for application/octet-stream, text for text/* and
// application/xml, and any JSON value for application/json and application/cloudevents+json.

/** What error messages name: the component, topic and publishing app. */
export interface BulkDecodeContext {
  readonly pubsubName: string;
  readonly topic: string;
  readonly appId: string;
}

const MISMATCH = 'error: mismatch between contentType and event';

/** Go's name for a JSON value's kind, as its decoder words type errors. */
function kindOf(value: unknown): string {
  if (Array.isArray(value)) return 'array';
  if (value === null) return 'null';
  return typeof value === 'boolean' ? 'bool' : typeof value;
}

/** Go's decoder message for a value of the wrong kind (Dapr passes it on verbatim). */
function wrongKind(value: unknown, target: string): Error {
  return new Error(`json: cannot unmarshal ${kindOf(value)} into Go ${target}`);
}

interface RawEntry {
  entryId: string;
  /** The event's exact JSON text; undefined when absent. */
  event: string | undefined;
  contentType: string;
  metadata: MetadataRecord | undefined;
}

/** Go's json field matching: an exact name first, then any case. */
function field(members: Map<string, string>, name: string): string | undefined {
  const exact = members.get(name);
  if (exact !== undefined) return exact;
  const lower = name.toLowerCase();
  for (const [key, text] of members) if (key.toLowerCase() === lower) return text;
  return undefined;
}

function stringField(text: string | undefined, name: string): string {
  if (text === undefined || text === 'null') return '';
  const value: unknown = JSON.parse(text);
  if (typeof value !== 'string') {
    throw wrongKind(value, `struct field bulkPublishMessageEntry.${name} of type string`);
  }
  return value;
}

function metadataField(text: string | undefined): MetadataRecord | undefined {
  if (text === undefined || text === 'null') return undefined;
  const value: unknown = JSON.parse(text);
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw wrongKind(
      value,
      'struct field bulkPublishMessageEntry.metadata of type map[string]string',
    );
  }
  const out: Record<string, string> = {};
  for (const [key, item] of Object.entries(value)) {
    if (typeof item !== 'string') {
      throw wrongKind(item, 'struct field bulkPublishMessageEntry.metadata of type string');
    }
    out[key] = item;
  }
  return out;
}

function decodeArray(text: string): RawEntry[] {
  const trimmed = text.trim();
  if (trimmed === 'null') return [];
  const elements = arrayElements(trimmed);
  if (elements === undefined) {
    // Not an array: a syntax error (JSON.parse says where), or another kind of value.
    const value: unknown = JSON.parse(trimmed);
    throw wrongKind(value, 'value of type []http.bulkPublishMessageEntry');
  }
  return elements.map((element) => {
    if (element === 'null') {
      return { entryId: '', event: undefined, contentType: '', metadata: undefined };
    }
    // The array parsed as a whole already: its elements need no second validating parse.
    const members = objectMembers(element, true);
    if (members === undefined) {
      throw wrongKind(JSON.parse(element), 'value of type http.bulkPublishMessageEntry');
    }
    const byKey = new Map(members.map((member) => [member.key, member.text]));
    return {
      entryId: stringField(field(byKey, 'entryId'), 'entryId'),
      event: field(byKey, 'event'),
      contentType: stringField(field(byKey, 'contentType'), 'contentType'),
      metadata: metadataField(field(byKey, 'metadata')),
    };
  });
}

/** Go's strict standard base64 (padding required; line breaks skipped, as its decoder does). */
function decodeBase64(text: string): Uint8Array | undefined {
  const compact = text.replace(/[\r\n]/g, '');
  if (compact.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(compact)) return undefined;
  return new Uint8Array(Buffer.from(compact, 'base64'));
}

/** Dapr's `ConvertEventToBytes`: the entry's bytes by content type, or why they do not fit. */
function eventBytes(event: string | undefined, contentType: string): Uint8Array | string {
  // `event` is a span of the parsed body, so valid JSON; only text forms need its value.
  const value = (): unknown => (event === undefined ? null : JSON.parse(event));
  if (isBinaryContentType(contentType)) {
    const text = value();
    if (typeof text !== 'string') return MISMATCH;
    const bytes = decodeBase64(text);
    return (
      bytes ?? 'error: unable to decode base64 application/octect-stream data: illegal base64 data'
    );
  }
  if (isStringContentType(contentType)) {
    const text = value();
    return typeof text === 'string' ? new Uint8Array(Buffer.from(text, 'utf8')) : MISMATCH;
  }
  if (isJsonContentType(contentType) || isCloudEventContentType(contentType)) {
    return new Uint8Array(Buffer.from(event ?? 'null', 'utf8'));
  }
  return MISMATCH;
}

/**
 * Decodes an HTTP bulk publish body into entries, failing as Dapr does: a body that is not a JSON
 * array of entries is `DAPR_PUBSUB_UNMARSHAL_EVENTS`, an event that does not match its content
 * type `DAPR_PUBSUB_MARSHAL_ENVELOPE`, an empty or repeated `entryId` `DAPR_PUBSUB_MARSHAL_EVENTS`.
 */
export function decodeHttpBulkEntries(
  body: Uint8Array,
  context: BulkDecodeContext,
): BulkEntryInput[] {
  const { pubsubName, topic, appId } = context;
  let raw: RawEntry[];
  try {
    raw = decodeArray(Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('utf8'));
  } catch (error) {
    const cause = errorText(error);
    throw unmarshalEventsFailed(pubsubName, topic, appId, cause);
  }
  const seen = new Set<string>();
  return raw.map((entry) => {
    const bytes = eventBytes(entry.event, entry.contentType);
    if (typeof bytes === 'string') throw marshalEnvelopeFailed(pubsubName, topic, appId, bytes);
    if (entry.entryId === '' || seen.has(entry.entryId)) {
      throw marshalEventsFailed(pubsubName, topic, appId, DUPLICATE_ENTRY_ID);
    }
    seen.add(entry.entryId);
    return {
      entryId: entry.entryId,
      event: bytes,
      contentType: entry.contentType,
      ...(entry.metadata === undefined ? {} : { metadata: entry.metadata }),
    };
  });
}

/**
 * Checks decoded entries the way Dapr's gRPC API does (only the ids: the bytes are already
 * given); throws `DAPR_PUBSUB_MARSHAL_EVENTS` for an empty or repeated `entryId`.
 */
export function checkEntryIds(
  entries: readonly BulkEntryInput[],
  context: BulkDecodeContext,
): void {
  const seen = new Set<string>();
  for (const entry of entries) {
    if (entry.entryId === '' || seen.has(entry.entryId)) {
      throw marshalEventsFailed(
        context.pubsubName,
        context.topic,
        context.appId,
        DUPLICATE_ENTRY_ID,
      );
    }
    seen.add(entry.entryId);
  }
}
