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
  readonly data: Uint8Array;
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

/** The `data`/`data_base64` member for a payload, chosen by content type as Dapr does. */
function dataMember(data: Uint8Array, contentType: string): JsonMember {
  if (isJsonContentType(contentType)) {
    const text = Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('utf8');
    try {
      JSON.parse(text);
      return { key: 'data', text: text.trim() };
    } catch {
      // Dapr falls back to the text when the body is not JSON after all.
      return { key: 'data', text: JSON.stringify(text) };
    }
  }
  if (isBinaryContentType(contentType) || isProtobufContentType(contentType)) {
    const base64 = Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('base64');
    return { key: 'data_base64', text: JSON.stringify(base64) };
  }
  const text = Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('utf8');
  return { key: 'data', text: JSON.stringify(text) };
}

function member(key: string, value: string): JsonMember {
  return { key, text: JSON.stringify(value) };
}

/**
 * Wraps a payload in Dapr's CloudEvent 1.0 envelope and returns its JSON bytes. A payload sent as
 * `application/cloudevents+json` is taken as the event itself (Dapr's pass-through): missing
 * fields are filled in, `topic` and `pubsubname` are always set, and `cloudevent.*` overrides do
 * not apply. Throws `CloudEventError` when such a payload is not a JSON object.
 */
export function buildCloudEvent(input: CloudEventInput): Uint8Array {
  if (!isCloudEventContentType(input.contentType)) {
    const expiration =
      input.expiresAt === undefined
        ? ''
        : `,"expiration":${JSON.stringify(rfc3339Seconds(input.expiresAt))}`;
    return Buffer.from(`${newEnvelope(input)}${expiration}}`, 'utf8');
  }
  const members = passThrough(input);
  if (input.expiresAt !== undefined) {
    members.set('expiration', member('expiration', rfc3339Seconds(input.expiresAt)));
  }
  return Buffer.from(objectText(members.values()), 'utf8');
}

/**
 * A new envelope's JSON text without its closing brace. It is written as one template rather
 * than through members, since every publish makes one (bench/pubsub); the member order is
 * Dapr's, `subject` only when set, and the data member last.
 */
function newEnvelope(input: CloudEventInput): string {
  const overrides = overridesOf(input.metadata);
  const id = overrides?.get('id') || randomUUID();
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
    `{"specversion":${JSON.stringify(SPEC_VERSION)},"id":${JSON.stringify(id)}` +
    `,"source":${JSON.stringify(source)},"type":${JSON.stringify(type)}` +
    `,"datacontenttype":${JSON.stringify(contentType)},"topic":${JSON.stringify(input.topic)}` +
    `,"pubsubname":${JSON.stringify(input.pubsubName)},"traceid":${traceText}` +
    `,"traceparent":${traceText},"tracestate":${JSON.stringify(traceState)}` +
    `,"time":${JSON.stringify(rfc3339Seconds(input.now))}` +
    (subject === '' ? '' : `,"subject":${JSON.stringify(subject)}`) +
    `,${JSON.stringify(data.key)}:${data.text}`
  );
}

function passThrough(input: CloudEventInput): Map<string, JsonMember> {
  const text = Buffer.from(
    input.data.buffer,
    input.data.byteOffset,
    input.data.byteLength,
  ).toString('utf8');
  const parsed = objectMembers(text);
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
