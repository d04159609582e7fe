// Dapr's bulk subscribe envelope for HTTP apps, written as bytes. A batch carries up to
// `maxMessagesCount` events; serialising each parsed event back to text and the whole envelope
// to UTF-8 was the largest cost of bulk delivery (bench/pubsub), so each event's JSON bytes, as
// the broker held them, are spliced in.

import type { BulkTopicEventDelivery } from '../core/pubsub/subscriptions/delivery-port.js';

const BULK_EVENT_TYPE = 'com.dapr.event.sent.bulk';

/** The envelope `{id, type, topic, pubsubname, metadata, entries: [...]}` as UTF-8 JSON bytes. */
export function bulkEnvelopeBytes(batch: BulkTopicEventDelivery): Uint8Array {
  // Text and bytes alternate: the text between two events is one part, so a batch of N events
  // is 2N + 1 parts to measure and copy.
  const parts: (string | Uint8Array)[] = [];
  let text = `{"id":${JSON.stringify(batch.id)},"type":"${BULK_EVENT_TYPE}","topic":${JSON.stringify(batch.topic)},"pubsubname":${JSON.stringify(batch.pubsubName)},"metadata":${JSON.stringify(batch.metadata)},"entries":[`;
  let contentType: string | undefined;
  let contentTypeJson = '';
  batch.entries.forEach((entry, index) => {
    text += `${index === 0 ? '' : ','}{"entryId":${JSON.stringify(entry.entryId)},"event":`;
    if (entry.eventJson !== undefined) {
      parts.push(text, entry.eventJson);
      text = '';
    } else if (entry.event instanceof Uint8Array) {
      // Raw payloads travel base64-encoded.
      text += JSON.stringify(Buffer.from(entry.event).toString('base64'));
    } else text += JSON.stringify(entry.event);
    // A batch's entries mostly share their content type and have no metadata.
    if (entry.contentType !== contentType) {
      contentType = entry.contentType;
      contentTypeJson = JSON.stringify(contentType);
    }
    text += `,"metadata":${metadataJson(entry.metadata)},"contentType":${contentTypeJson}}`;
  });
  parts.push(`${text}]}`);
  return joinParts(parts);
}

/** The metadata as JSON; the usual empty record without a serialisation. */
function metadataJson(metadata: Readonly<Record<string, string>>): string {
  for (const _ in metadata) return JSON.stringify(metadata);
  return '{}';
}

/** Text and bytes written one after the other into one buffer. */
function joinParts(parts: readonly (string | Uint8Array)[]): Uint8Array {
  let size = 0;
  for (const part of parts)
    size += typeof part === 'string' ? Buffer.byteLength(part) : part.length;
  const out = Buffer.allocUnsafe(size);
  let at = 0;
  for (const part of parts) {
    if (typeof part === 'string') at += out.write(part, at);
    else {
      out.set(part, at);
      at += part.length;
    }
  }
  return out;
}
