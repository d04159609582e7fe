// Turns a broker message into the CloudEvent the app receives, following Dapr's subscription
// handler (pkg/runtime/subscription/subscription.go): raw payloads are wrapped, binary
// messages rebuilt from `ce_*` metadata, everything else parsed as CloudEvent JSON.
import type { PubSubMessage } from '../../../components/contracts/pubsub.js';
import { CloudEventParseError, parseCloudEvent, rawPayloadCloudEvent } from '../cloudevent-read.js';
import { isBinaryContentType } from '../content-type.js';
import { isRawPayload, PublishMetadataError } from '../publish-metadata.js';

/** A CloudEvent as a JSON object (binary messages may carry `data` as bytes). */
export type CloudEventMap = Readonly<Record<string, unknown>>;

/** The metadata key under which the component name travels to the app (Dapr's spelling). */
export const PUBSUB_NAME_METADATA = 'pubsubName';

const CONTENT_TYPE_KEY = 'content-type';
const BINARY_CE_PREFIX = 'ce_';
// Dapr assumes a CloudEvent JSON when the broker gives no content type.
const DEFAULT_CONTENT_TYPE = 'application/json';

/** A message ready for routing, or why it cannot be read. */
export type IncomingEvent =
  | {
      readonly ok: true;
      readonly cloudEvent: CloudEventMap;
      /** What an HTTP app receives as the body. */
      readonly body: Uint8Array;
      /** The message metadata with `content-type` and `pubsubName` filled in. */
      readonly metadata: Readonly<Record<string, string>>;
    }
  | { readonly ok: false; readonly reason: string };

/** What reading a message needs to know about its subscription. */
export interface IncomingContext {
  readonly pubsubName: string;
  /** The topic without a namespace prefix. */
  readonly topic: string;
  readonly rawPayload: boolean;
}

/**
 * Reads a message as Dapr's subscriber does. A raw payload becomes a new CloudEvent with
 * `data_base64`; a binary content type (`application/octet-stream`) rebuilds the event from
 * `ce_*` metadata; anything else must be a CloudEvent JSON object, whose missing trace fields
 * are taken from the message metadata.
 */
export function readIncomingEvent(message: PubSubMessage, context: IncomingContext): IncomingEvent {
  const metadata: Record<string, string> = { ...message.metadata };
  if (message.contentType !== undefined) metadata[CONTENT_TYPE_KEY] = message.contentType;
  const contentType = metadata[CONTENT_TYPE_KEY] ?? DEFAULT_CONTENT_TYPE;
  metadata[PUBSUB_NAME_METADATA] = context.pubsubName;

  if (context.rawPayload) {
    const cloudEvent = rawPayloadCloudEvent(message.data, context.topic, context.pubsubName);
    if (metadata.traceid !== undefined) cloudEvent.traceid = metadata.traceid;
    if (metadata.traceparent !== undefined) {
      // traceparent supersedes traceid, as in Dapr.
      cloudEvent.traceparent = metadata.traceparent;
      cloudEvent.traceid = metadata.traceparent;
    }
    if (metadata.tracestate !== undefined) cloudEvent.tracestate = metadata.tracestate;
    return {
      ok: true,
      cloudEvent,
      body: new TextEncoder().encode(JSON.stringify(cloudEvent)),
      metadata,
    };
  }

  if (isBinaryContentType(contentType)) {
    const cloudEvent: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(metadata)) {
      const lower = key.toLowerCase();
      if (lower.startsWith(BINARY_CE_PREFIX))
        cloudEvent[lower.slice(BINARY_CE_PREFIX.length)] = value;
    }
    cloudEvent.data = message.data;
    cloudEvent.datacontenttype = contentType;
    // Dapr posts the message bytes themselves to HTTP apps in this case.
    return { ok: true, cloudEvent, body: message.data, metadata };
  }

  let cloudEvent: Record<string, unknown>;
  try {
    cloudEvent = parseCloudEvent(message.data);
  } catch (error) {
    if (error instanceof CloudEventParseError) return { ok: false, reason: error.message };
    throw error;
  }
  // Trace context falls back to the message metadata when the event carries none.
  if (!('traceid' in cloudEvent) && metadata.traceid !== undefined) {
    cloudEvent.traceid = metadata.traceid;
  }
  if (!('traceparent' in cloudEvent) && metadata.traceparent !== undefined) {
    cloudEvent.traceparent = metadata.traceparent;
    cloudEvent.traceid = metadata.traceparent;
  }
  if (!('tracestate' in cloudEvent) && metadata.tracestate !== undefined) {
    cloudEvent.tracestate = metadata.tracestate;
  }
  return { ok: true, cloudEvent, body: message.data, metadata };
}

/**
 * Parses the subscription's `rawPayload` metadata as Go's `strconv.ParseBool`; an empty or
 * absent value is false, anything unparsable is an error (Dapr then fails the message).
 */
export function rawPayloadOf(metadata: Readonly<Record<string, string>>): boolean | Error {
  try {
    return isRawPayload(metadata);
  } catch (error) {
    if (error instanceof PublishMetadataError) return error;
    throw error;
  }
}
