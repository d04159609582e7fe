import { randomUUID } from 'node:crypto';
import type { MetadataRecord } from '../../components/contracts/component.js';
import {
  isBinaryContentType,
  isCloudEventContentType,
  isJsonContentType,
  isProtobufContentType,
} from './content-type.js';
import { type JsonMember, objectMembers, objectText } from './json-spans.js';

/** The `type` of events Dapr publishes. */
export const DEFAULT_EVENT_TYPE = 'com.dapr.event.sent';
/** The `source` of an event that names none. */
export const DEFAULT_EVENT_SOURCE = 'Dapr';
/** The CloudEvents version Dapr writes. */
export const SPEC_VERSION = '1.0';
/** The `datacontenttype` of a publish that sends no content type. */
export const DEFAULT_DATA_CONTENT_TYPE = 'text/plain';

/** What the APIs know about one publish, to wrap its payload in a CloudEvent. */
export interface CloudEventInput {
  /**
   * The payload's bytes, or the text they encode. Text for a JSON or CloudEvent content type must
   * be valid JSON without surrounding whitespace (a bulk entry's event, a span of a parsed body):
   * it is spliced in as it is, neither decoded nor parsed again.
   */
  readonly data: Uint8Array | string;
  /** The request's content type; empty when it sent none. */
  readonly contentType: string;
  readonly topic: string;
  readonly pubsubName: string;
  /** The publishing app id (`source` unless overridden). */
  readonly source: string;
  /** W3C traceparent of the publish; written as both `traceid` and `traceparent`. */
  readonly traceParent: string;
  readonly traceState: string;
  /** The request metadata: `cloudevent.*` keys override envelope fields. */
  readonly metadata: MetadataRecord;
  /** When set, the event gets `expiration` (RFC 3339): `metadata.ttlInSeconds` after `now`. */
  readonly expiresAt?: Date | undefined;
  readonly now: Date;
}

/** The payload could not become a CloudEvent (a CloudEvent body that is not a JSON object). */
export class CloudEventError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CloudEventError';
  }
}

/** RFC 3339 in UTC with whole seconds, as Dapr writes `time` and `expiration`. */
export function rfc3339Seconds(date: Date): string {
  return `${date.toISOString().slice(0, 19)}Z`;
}

/** The overridable envelope fields and their `metadata.cloudevent.*` keys (Dapr's set). */
const OVERRIDES = ['id', 'source', 'type', 'traceid', 'traceparent', 'tracestate', 'subject'];

const OVERRIDE_PREFIX = 'cloudevent.';

/**
 * The `cloudevent.<field>` overrides in `metadata`. An exact key wins; otherwise keys match
 * case-insensitively, as Dapr's mapstructure decoding does. Most publishes carry none, so only
 * keys with the prefix are looked at further.
 */
function overridesOf(metadata: MetadataRecord): Map<string, string> | undefined {
  let byLower: Map<string, string> | undefined;
  for (const key of Object.keys(metadata)) {
    if (key.length <= OVERRIDE_PREFIX.length) continue;
    const lower = key.toLowerCase();
    if (!lower.startsWith(OVERRIDE_PREFIX)) continue;
    byLower ??= new Map();
    if (!byLower.has(lower)) byLower.set(lower, metadata[key] as string);
  }
  if (byLower === undefined) return undefined;
  const found = new Map<string, string>();
  for (const field of OVERRIDES) {
    const key = `cloudevent.${field}`;
    const value = metadata[key] ?? byLower.get(key);
    if (value !== undefined) found.set(field, value);
  }
  return found;
}

/** The payload's bytes; text (see `CloudEventInput.data`) is encoded. */
function payloadBytes(data: Uint8Array | string): Buffer {
  return typeof data === 'string'
    ? Buffer.from(data, 'utf8')
    : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
}

/** The payload as text. */
function payloadText(data: Uint8Array | string): string {
  return typeof data === 'string' ? data : payloadBytes(data).toString('utf8');
}

/** The `data`/`data_base64` member for a payload, chosen by content type as Dapr does. */
function dataMember(data: Uint8Array | string, contentType: string): JsonMember {
  if (isJsonContentType(contentType)) {
    // Text is valid JSON already (a bulk entry's event): only bytes need the validating parse.
    if (typeof data === 'string') return { key: 'data', text: data };
    const text = payloadText(data);
    try {
      JSON.parse(text);
      return { key: 'data', text: text.trim() };
    } catch {
      // Dapr falls back to the text when the body is not JSON after all.
      return { key: 'data', text: JSON.stringify(text) };
    }
  }
  if (isBinaryContentType(contentType) || isProtobufContentType(contentType)) {
    return { key: 'data_base64', text: JSON.stringify(payloadBytes(data).toString('base64')) };
  }
  return { key: 'data', text: JSON.stringify(payloadText(data)) };
}

function member(key: string, value: string): JsonMember {
  return { key, text: JSON.stringify(value) };
}

/**
 * Wraps a payload in Dapr's CloudEvent 1.0 envelope and returns its JSON text. A payload sent as
 * `application/cloudevents+json` is taken as the event itself (Dapr's pass-through): missing
 * fields are filled in, `topic` and `pubsubname` are always set, and `cloudevent.*` overrides do
 * not apply. Throws `CloudEventError` when such a payload is not a JSON object. `texts` carries
 * the JSON texts repeated across the envelopes of one request (a bulk publish).
 */
export function cloudEventText(
  input: CloudEventInput,
  texts: EnvelopeTexts = new EnvelopeTexts(),
): string {
  if (!isCloudEventContentType(input.contentType)) {
    const expiration =
      input.expiresAt === undefined ? '' : `,"expiration":${texts.time(input.expiresAt)}`;
    return `${newEnvelope(input, texts)}${expiration}}`;
  }
  const members = passThrough(input);
  if (input.expiresAt !== undefined) {
    members.set('expiration', member('expiration', rfc3339Seconds(input.expiresAt)));
  }
  return objectText(members.values());
}

/**
 * JSON texts that envelopes repeat, remembered from one to the next: the events of a bulk
 * publish share their source, type, content type, topic and mostly their second, and writing
 * those afresh (`toISOString` above all) cost as much as the rest of an envelope (bench/pubsub).
 */
export class EnvelopeTexts {
  #source: string | undefined;
  #type: string | undefined;
  #contentType: string | undefined;
  #topic: string | undefined;
  #pubsubName: string | undefined;
  /** `,"source":...,"pubsubname":...` for the values above. */
  #middle = '';
  #second = Number.NaN;
  #time = '';

  /** The members from `source` to `pubsubname`, each with its leading comma. */
  middle(
    source: string,
    type: string,
    contentType: string,
    topic: string,
    pubsubName: string,
  ): string {
    if (
      source !== this.#source ||
      type !== this.#type ||
      contentType !== this.#contentType ||
      topic !== this.#topic ||
      pubsubName !== this.#pubsubName
    ) {
      this.#source = source;
      this.#type = type;
      this.#contentType = contentType;
      this.#topic = topic;
      this.#pubsubName = pubsubName;
      this.#middle =
        `,"source":${JSON.stringify(source)},"type":${JSON.stringify(type)}` +
        `,"datacontenttype":${JSON.stringify(contentType)},"topic":${JSON.stringify(topic)}` +
        `,"pubsubname":${JSON.stringify(pubsubName)}`;
    }
    return this.#middle;
  }

  /** `rfc3339Seconds(date)` as a JSON string. */
  time(date: Date): string {
    const second = Math.floor(date.getTime() / 1000);
    if (second !== this.#second) {
      // An invalid date (NaN) is never remembered, so it throws as toISOString does.
      this.#time = JSON.stringify(rfc3339Seconds(date));
      this.#second = second;
    }
    return this.#time;
  }
}

/**
 * A new envelope's JSON text without its closing brace. It is written as one template rather
 * than through members, since every publish makes one (bench/pubsub); the member order is
 * Dapr's, `subject` only when set, and the data member last.
 */
function newEnvelope(input: CloudEventInput, texts: EnvelopeTexts): string {
  const overrides = overridesOf(input.metadata);
  const givenId = overrides?.get('id');
  // A UUID needs no escaping.
  const idText = givenId ? JSON.stringify(givenId) : `"${randomUUID()}"`;
  const source =
    (overrides?.has('source') ? overrides.get('source') : input.source) || DEFAULT_EVENT_SOURCE;
  const type = overrides?.get('type') || DEFAULT_EVENT_TYPE;
  const contentType = input.contentType || DEFAULT_DATA_CONTENT_TYPE;
  // Dapr writes one trace id under both names; a `traceparent` override beats a `traceid` one.
  const traceId = overrides?.get('traceparent') || (overrides?.get('traceid') ?? input.traceParent);
  const traceState = overrides?.get('tracestate') ?? input.traceState;
  const subject = overrides?.get('subject') ?? '';
  const traceText = JSON.stringify(traceId);
  const data = dataMember(input.data, contentType);
  return (
    `{"specversion":"${SPEC_VERSION}","id":${idText}` +
    texts.middle(source, type, contentType, input.topic, input.pubsubName) +
    `,"traceid":${traceText},"traceparent":${traceText}` +
    `,"tracestate":${traceState === '' ? '""' : JSON.stringify(traceState)}` +
    `,"time":${texts.time(input.now)}` +
    (subject === '' ? '' : `,"subject":${JSON.stringify(subject)}`) +
    `,"${data.key}":${data.text}`
  );
}

function passThrough(input: CloudEventInput): Map<string, JsonMember> {
  const { data } = input;
  // Text is valid JSON already; it still has to be an object.
  const parsed =
    typeof data === 'string' ? objectMembers(data, true) : objectMembers(payloadText(data));
  if (parsed === undefined) {
    throw new CloudEventError('the CloudEvent payload is not a JSON object');
  }
  const members = new Map(parsed.map((entry) => [entry.key, entry]));
  const missing = (key: string): boolean => {
    const found = members.get(key);
    return found === undefined || found.text === 'null';
  };
  if (!members.has('time')) members.set('time', member('time', rfc3339Seconds(input.now)));
  if (!members.has('traceid')) {
    members.set('traceid', member('traceid', input.traceParent));
    members.set('traceparent', member('traceparent', input.traceParent));
  }
  if (!members.has('tracestate')) members.set('tracestate', member('tracestate', input.traceState));
  members.set('topic', member('topic', input.topic));
  members.set('pubsubname', member('pubsubname', input.pubsubName));
  if (missing('source')) members.set('source', member('source', DEFAULT_EVENT_SOURCE));
  if (missing('type')) members.set('type', member('type', DEFAULT_EVENT_TYPE));
  if (missing('specversion')) members.set('specversion', member('specversion', SPEC_VERSION));
  return members;
}
