import { randomUUID } from 'node:crypto';
import { errorText } from '../../kernel/tapr-error.js';
import { DEFAULT_EVENT_SOURCE, DEFAULT_EVENT_TYPE, SPEC_VERSION } from './cloudevent.js';

/** A CloudEvent as the subscribe side reads it: the envelope's JSON object. */
export type CloudEvent = Record<string, unknown>;

/** A broker message that is not a CloudEvent JSON object. */
export class CloudEventParseError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CloudEventParseError';
  }
}

/**
 * Reads a message's bytes as a CloudEvent object. Throws `CloudEventParseError` when they are
 * not a JSON object (Dapr then retries or dead-letters the message). Numbers beyond 2^53 lose
 * precision here; forward the original bytes where exact data matters.
 */
export function parseCloudEvent(data: Uint8Array): CloudEvent {
  const text = Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('utf8');
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new CloudEventParseError(`the message is not a CloudEvent: ${errorText(error)}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new CloudEventParseError('the message is not a CloudEvent: not a JSON object');
  }
  return parsed as CloudEvent;
}

/**
 * Whether an event's `expiration` (RFC 3339) has passed, as Dapr's `HasExpired`: an absent,
 * empty or unreadable expiration never expires.
 */
export function isCloudEventExpired(event: CloudEvent, now: Date = new Date()): boolean {
  const expiration = event.expiration;
  if (typeof expiration !== 'string' || expiration === '') return false;
  // RFC 3339 needs a date, a time and a zone; Date.parse alone accepts looser forms.
  if (!/^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/.test(expiration)) {
    return false;
  }
  const at = Date.parse(expiration);
  return Number.isFinite(at) && at < now.getTime();
}

/**
 * The event Dapr makes on the subscribe side for a `rawPayload` subscription: a fresh id, the
 * bytes in `data_base64` as `application/octet-stream`, `source` "Dapr".
 */
export function rawPayloadCloudEvent(
  data: Uint8Array,
  topic: string,
  pubsubName: string,
): CloudEvent {
  return {
    id: randomUUID(),
    specversion: SPEC_VERSION,
    datacontenttype: 'application/octet-stream',
    source: DEFAULT_EVENT_SOURCE,
    type: DEFAULT_EVENT_TYPE,
    topic,
    pubsubname: pubsubName,
    data_base64: Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('base64'),
  };
}
