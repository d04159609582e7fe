// The message metadata a subscriber app receives with each event: Dapr sends every metadata
// entry (broker metadata plus `pubsubName`) as an HTTP header or gRPC metadata entry, names
// lower-cased, without the content type and length of the original message.
import type { CloudEventMap } from '../core/pubsub/subscriptions/incoming-event.js';

const SKIPPED = new Set(['content-type', 'content-length']);
// RFC 9110 token characters; a broker key outside them cannot travel as a header.
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9a-z-]+$/;
// Values with line breaks or NUL would break the header block; HTTP/2 refuses them too.
const BAD_VALUE = /[\r\n\0]/;
// gRPC metadata transport-owned names a broker key must not overwrite.
const GRPC_RESERVED = new Set(['te', 'grpc-timeout', 'grpc-encoding', 'grpc-accept-encoding']);

/**
 * The headers an HTTP app gets with an event: the metadata entries, then `traceparent` and
 * `tracestate` from the event when the metadata has none (Dapr sends the trace context of the
 * delivery, which continues the event's).
 */
export function headersOfMetadata(
  metadata: Readonly<Record<string, string>>,
  cloudEvent: CloudEventMap | undefined,
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(metadata)) {
    const name = key.toLowerCase();
    if (SKIPPED.has(name) || !HEADER_NAME.test(name) || BAD_VALUE.test(value)) continue;
    out[name] = value;
  }
  if (cloudEvent !== undefined) addTraceContext(out, cloudEvent);
  return out;
}

/** The same entries as gRPC metadata for a gRPC app's `OnTopicEvent`. */
export function grpcMetadataOf(
  metadata: Readonly<Record<string, string>>,
  cloudEvent: CloudEventMap | undefined,
): Headers {
  const headers = headersOfMetadata(metadata, cloudEvent);
  const out = new Headers();
  for (const [name, value] of Object.entries(headers)) {
    // `-bin` keys carry base64 binary in gRPC; a broker's text value there would be corrupted.
    if (GRPC_RESERVED.has(name) || name.startsWith(':') || name.endsWith('-bin')) continue;
    out.append(name, value);
  }
  return out;
}

function addTraceContext(headers: Record<string, string>, cloudEvent: CloudEventMap): void {
  const parent = cloudEvent.traceparent ?? cloudEvent.traceid;
  if (headers.traceparent === undefined && typeof parent === 'string' && parent !== '') {
    if (!BAD_VALUE.test(parent)) headers.traceparent = parent;
  }
  const state = cloudEvent.tracestate;
  if (headers.tracestate === undefined && typeof state === 'string' && state !== '') {
    if (!BAD_VALUE.test(state)) headers.tracestate = state;
  }
}
