/**
 * IANA permanent HTTP headers that Dapr renames `dapr-<name>` when an HTTP request becomes gRPC
 * metadata, so they cannot collide with HTTP/2's own (pkg/messaging/v1/util.go).
 */
export const PERMANENT_HTTP_HEADERS: ReadonlySet<string> = new Set([
  'accept',
  'accept-charset',
  'accept-language',
  'accept-ranges',
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'upgrade',
  'cache-control',
  'content-type',
  'content-length',
  'cookie',
  'date',
  'expect',
  'from',
  'host',
  'if-match',
  'if-modified-since',
  'if-none-match',
  'if-schedule-tag-match',
  'if-unmodified-since',
  'max-forwards',
  'origin',
  'pragma',
  'referer',
  'via',
  'warning',
]);
