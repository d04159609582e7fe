// The fields of Dapr's `TopicEventRequest` built from a CloudEvent, shared by the gRPC app
// channel (OnTopicEvent, OnBulkTopicEventAlpha1) and streaming subscriptions, so both fill
// them as Dapr's `GRPCEnvelopeFromSubscriptionMessage` does.
import {
  isCloudEventContentType,
  isJsonContentType,
  isStringContentType,
} from '../content-type.js';
import type { CloudEventMap } from './incoming-event.js';

/** A JSON value as `google.protobuf.Struct` carries it. */
export type JsonValue =
  | string
  | number
  | boolean
  | null
  | JsonValue[]
  | { [key: string]: JsonValue };

/** The CloudEvent part of a `TopicEventRequest` (and of `TopicEventCERequest`). */
export interface TopicEventFields {
  readonly id: string;
  readonly source: string;
  readonly type: string;
  readonly specVersion: string;
  readonly dataContentType: string;
  readonly data: Uint8Array;
  /** Every other attribute (topic, pubsubname, traceparent, custom extensions...). */
  readonly extensions: { [key: string]: JsonValue };
}

// Attributes that have their own field and are left out of `extensions`.
const OWN_FIELDS = new Set([
  'id',
  'source',
  'datacontenttype',
  'type',
  'specversion',
  'data',
  'data_base64',
]);

const STD_BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/**
 * The event's fields for a gRPC app. `data_base64` is decoded; `data` is sent as UTF-8 for
 * text content types, as JSON for JSON and CloudEvent content types, as bytes when it is
 * bytes, and left empty otherwise, as Dapr does. Throws when `data_base64` is not valid
 * base64 or `data` has a shape its content type cannot carry (Dapr retries such events).
 */
export function topicEventFields(cloudEvent: CloudEventMap): TopicEventFields {
  const dataContentType = text(cloudEvent.datacontenttype);
  return {
    id: text(cloudEvent.id),
    source: text(cloudEvent.source),
    type: text(cloudEvent.type),
    specVersion: text(cloudEvent.specversion),
    dataContentType,
    data: dataOf(cloudEvent, dataContentType),
    extensions: extensionsOf(cloudEvent),
  };
}

function dataOf(cloudEvent: CloudEventMap, contentType: string): Uint8Array {
  const base64 = cloudEvent.data_base64;
  if (base64 !== undefined && base64 !== null) {
    if (typeof base64 !== 'string' || !STD_BASE64.test(base64)) {
      throw new Error('unexpected data type encountered in envelope: data_base64 is not base64');
    }
    return new Uint8Array(Buffer.from(base64, 'base64'));
  }
  const data = cloudEvent.data;
  if (data === undefined || data === null) return new Uint8Array();
  if (data instanceof Uint8Array) return data;
  if (isStringContentType(contentType)) {
    if (typeof data === 'string') return new TextEncoder().encode(data);
    throw new Error('unexpected data type encountered in envelope');
  }
  if (isJsonContentType(contentType) || isCloudEventContentType(contentType)) {
    return new TextEncoder().encode(JSON.stringify(data));
  }
  return new Uint8Array();
}

function extensionsOf(cloudEvent: CloudEventMap): { [key: string]: JsonValue } {
  const out: { [key: string]: JsonValue } = {};
  for (const [key, value] of Object.entries(cloudEvent)) {
    if (OWN_FIELDS.has(key) || value === undefined) continue;
    out[key] = toJson(value);
  }
  return out;
}

// Bytes travel as base64 strings, the way Go's JSON encoder writes a []byte.
function toJson(value: unknown): JsonValue {
  if (value instanceof Uint8Array) return Buffer.from(value).toString('base64');
  if (Array.isArray(value)) return value.map(toJson);
  if (typeof value === 'object' && value !== null) {
    const out: { [key: string]: JsonValue } = {};
    for (const [key, item] of Object.entries(value)) out[key] = toJson(item);
    return out;
  }
  if (typeof value === 'string' || typeof value === 'boolean' || value === null) return value;
  if (typeof value === 'number') return Number.isFinite(value) ? value : null;
  return String(value);
}

function text(value: unknown): string {
  return typeof value === 'string' ? value : '';
}
