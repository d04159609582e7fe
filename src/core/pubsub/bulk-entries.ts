import type { MetadataRecord } from '../../components/contracts/component.js';
import {
  type ElementMembers,
  type JsonMember,
  type JsonSpan,
  JsonText,
} from '../../kernel/json-text.js';
import { errorText } from '../../kernel/tapr-error.js';
import {
  isBinaryContentType,
  isCloudEventContentType,
  isJsonContentType,
  isStringContentType,
} from './content-type.js';
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
  /** The event's value as the body's parse read it (null when absent). */
  value: unknown;
  contentType: string;
  metadata: MetadataRecord | undefined;
}

const NO_ENTRY: RawEntry = {
  entryId: '',
  event: undefined,
  value: null,
  contentType: '',
  metadata: undefined,
};

/** Go's json field matching: an exact name first, then any case. Returns the member's key. */
function field(members: Map<string, JsonSpan>, name: string): string | undefined {
  if (members.has(name)) return name;
  const lower = name.toLowerCase();
  for (const key of members.keys()) if (key.toLowerCase() === lower) return key;
  return undefined;
}

function stringField(value: unknown, name: string): string {
  if (value === undefined || value === null) return '';
  if (typeof value !== 'string') {
    throw wrongKind(value, `struct field bulkPublishMessageEntry.${name} of type string`);
  }
  return value;
}

function metadataField(value: unknown): MetadataRecord | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'object' || Array.isArray(value)) {
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

/**
 * Where each field of an entry object sits, by the member Go's decoder reads. Usually every
 * member has its exact field name, and the last of a repeated one wins; any other name goes
 * through Go's case-insensitive matching.
 */
function entryFieldKeys(members: readonly JsonMember[]): {
  keys: EntryKeys;
  event: JsonSpan | undefined;
} {
  let event: JsonSpan | undefined;
  let exact = true;
  for (const member of members) {
    switch (member.name) {
      case 'event':
        event = member.value;
        break;
      case 'entryId':
      case 'contentType':
      case 'metadata':
        break;
      default:
        exact = false;
    }
  }
  if (exact) return { keys: EXACT_KEYS, event };
  // Distinct keys in the order of their last occurrence, each with its last value.
  const byKey = new Map<string, JsonSpan>();
  for (const member of members) {
    byKey.delete(member.name);
    byKey.set(member.name, member.value);
  }
  const eventKey = field(byKey, 'event');
  return {
    keys: {
      entryId: field(byKey, 'entryId'),
      event: eventKey,
      contentType: field(byKey, 'contentType'),
      metadata: field(byKey, 'metadata'),
    },
    event: eventKey === undefined ? undefined : byKey.get(eventKey),
  };
}

/** The member key each entry field is read from; undefined when the entry lacks the field. */
interface EntryKeys {
  readonly entryId: string | undefined;
  readonly event: string | undefined;
  readonly contentType: string | undefined;
  readonly metadata: string | undefined;
}

const EXACT_KEYS: EntryKeys = {
  entryId: 'entryId',
  event: 'event',
  contentType: 'contentType',
  metadata: 'metadata',
};

/** A member's value read from the parsed object; `key` comes from its own member list. */
function valueAt(object: Record<string, unknown>, key: string | undefined): unknown {
  return key !== undefined && Object.hasOwn(object, key) ? object[key] : undefined;
}

/**
 * The entries of the body. One `JSON.parse` validates it and gives every field's value; only
 * each event's exact text is taken from the body itself, by walking the parsed text's spans.
 */
function decodeArray(text: string): RawEntry[] {
  const trimmed = text.trim();
  if (trimmed === 'null') return [];
  const parsed: unknown = JSON.parse(trimmed);
  if (!Array.isArray(parsed)) {
    throw wrongKind(parsed, 'value of type []http.bulkPublishMessageEntry');
  }
  const json = new JsonText(trimmed);
  // The trimmed text is the array itself.
  const elements = json.elementMembers({ start: 0, end: trimmed.length });
  const out: RawEntry[] = new Array(elements.length);
  for (let index = 0; index < elements.length; index += 1) {
    const value: unknown = parsed[index];
    if (value === null) {
      out[index] = NO_ENTRY;
      continue;
    }
    const members = (elements[index] as ElementMembers).members;
    if (typeof value !== 'object' || Array.isArray(value) || members === undefined) {
      throw wrongKind(value, 'value of type http.bulkPublishMessageEntry');
    }
    const object = value as Record<string, unknown>;
    const { keys, event } = entryFieldKeys(members);
    const eventValue = valueAt(object, keys.event);
    out[index] = {
      entryId: stringField(valueAt(object, keys.entryId), 'entryId'),
      event: event === undefined ? undefined : json.slice(event),
      value: eventValue === undefined ? null : eventValue,
      contentType: stringField(valueAt(object, keys.contentType), 'contentType'),
      metadata: metadataField(valueAt(object, keys.metadata)),
    };
  }
  return out;
}

/** Go's strict standard base64 (padding required; line breaks skipped, as its decoder does). */
function decodeBase64(text: string): Uint8Array | undefined {
  const compact = text.replace(/[\r\n]/g, '');
  if (compact.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(compact)) return undefined;
  return new Uint8Array(Buffer.from(compact, 'base64'));
}

/**
 * A decoded entry. A JSON event keeps its exact text (`eventJson`) and makes its bytes only
 * when something asks for them: wrapping it in a CloudEvent reads the text alone.
 */
class DecodedEntry implements BulkEntryInput {
  readonly entryId: string;
  readonly contentType: string;
  readonly eventJson: string | undefined;
  declare readonly metadata?: MetadataRecord;
  #event: Uint8Array | undefined;

  constructor(raw: RawEntry, event: Uint8Array | undefined, eventJson: string | undefined) {
    this.entryId = raw.entryId;
    this.contentType = raw.contentType;
    this.eventJson = eventJson;
    // Absent rather than undefined: only an entry with metadata inherits the request's.
    if (raw.metadata !== undefined) this.metadata = raw.metadata;
    this.#event = event;
  }

  get event(): Uint8Array {
    this.#event ??= new Uint8Array(Buffer.from(this.eventJson ?? 'null', 'utf8'));
    return this.#event;
  }
}

/** Dapr's `ConvertEventToBytes`: the entry by content type, or why its event does not fit. */
function decodedEntry(raw: RawEntry): DecodedEntry | string {
  const { contentType, value } = raw;
  if (isBinaryContentType(contentType)) {
    if (typeof value !== 'string') return MISMATCH;
    const bytes = decodeBase64(value);
    if (bytes === undefined) {
      return 'error: unable to decode base64 application/octect-stream data: illegal base64 data';
    }
    return new DecodedEntry(raw, bytes, undefined);
  }
  if (isStringContentType(contentType)) {
    if (typeof value !== 'string') return MISMATCH;
    return new DecodedEntry(raw, new Uint8Array(Buffer.from(value, 'utf8')), undefined);
  }
  if (isJsonContentType(contentType) || isCloudEventContentType(contentType)) {
    // A span of the parsed body: valid JSON, without surrounding whitespace.
    return new DecodedEntry(raw, undefined, raw.event ?? 'null');
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
    const decoded = decodedEntry(entry);
    if (typeof decoded === 'string') {
      throw marshalEnvelopeFailed(pubsubName, topic, appId, decoded);
    }
    if (entry.entryId === '' || seen.has(entry.entryId)) {
      throw marshalEventsFailed(pubsubName, topic, appId, DUPLICATE_ENTRY_ID);
    }
    seen.add(entry.entryId);
    return decoded;
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
