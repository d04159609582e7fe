// Dapr's content-type tests (components-contrib `contenttype`): a type matches when it equals the
// expected one, or when its part before the first `;` does, ignoring case.

/** The content type of a CloudEvent in structured JSON mode. */
export const CLOUDEVENT_CONTENT_TYPE = 'application/cloudevents+json';

function isType(contentType: string, expected: string): boolean {
  const lower = contentType.toLowerCase();
  if (lower === expected) return true;
  const semicolon = lower.indexOf(';');
  return semicolon >= 0 && lower.slice(0, semicolon) === expected;
}

/** `application/cloudevents+json`: the body already is a CloudEvent. */
export function isCloudEventContentType(contentType: string): boolean {
  return isType(contentType, CLOUDEVENT_CONTENT_TYPE);
}

/** `application/json` only, as Dapr tests it (`+json` suffixes do not count). */
export function isJsonContentType(contentType: string): boolean {
  return isType(contentType, 'application/json');
}

/** `application/octet-stream`: data travels base64-encoded in `data_base64`. */
export function isBinaryContentType(contentType: string): boolean {
  return isType(contentType, 'application/octet-stream');
}

/** `text/*` or `application/xml`: data is text. */
export function isStringContentType(contentType: string): boolean {
  return contentType.toLowerCase().startsWith('text/') || isType(contentType, 'application/xml');
}

/**
 * Protobuf payloads, carried in `data_base64`. Dapr does so for `application/cloudevents+protobuf`
 * and for `application/x-protobuf` bytes that decode as a CloudEvent; Tapr base64-encodes every
 * `application/x-protobuf` payload, since the text form Dapr falls back to cannot hold the bytes.
 */
export function isProtobufContentType(contentType: string): boolean {
  return (
    isType(contentType, 'application/cloudevents+protobuf') ||
    isType(contentType, 'application/x-protobuf')
  );
}
