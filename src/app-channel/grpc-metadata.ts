import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http2';
import { PERMANENT_HTTP_HEADERS } from '../kernel/http-header-names.js';
import type { HeaderRecord } from './http-headers.js';

// Metadata the gRPC transport owns; forwarding a caller's copy would corrupt the call.
const TRANSPORT_OWNED = new Set([
  'te',
  'user-agent',
  'grpc-timeout',
  'grpc-encoding',
  'grpc-accept-encoding',
  'grpc-status',
  'grpc-message',
  'grpc-status-details-bin',
  // HTTP/2 forbids it (connection-specific); node:http2 would refuse the whole request.
  'http2-settings',
  // Dapr routes on this header and never forwards it to the app.
  'destination-app-id',
]);

// An HTTP token (RFC 9110 §5.6.2): node:http2 destroys the whole session for a name that is not.
const TOKEN = /^[!#$%&'*+.^`|~0-9a-z_-]+$/;
// Characters a field value may not hold (RFC 9110 §5.5); node:http2 throws on them.
const INVALID_VALUE = /[^\t\x20-\x7e\x80-\xff]/;

/**
 * Turns the caller's headers into gRPC metadata for the app, renaming as Dapr does. Names and
 * values HTTP/2 cannot carry are left out rather than failing the call.
 */
export function metadataForApp(headers: HeaderRecord | undefined): OutgoingHttpHeaders {
  const out: Record<string, string | string[]> = {};
  if (headers === undefined) return out;
  for (const rawName in headers) {
    const value = headers[rawName];
    if (value === undefined) continue;
    const lower = rawName.toLowerCase();
    if (lower.startsWith(':') || TRANSPORT_OWNED.has(lower) || !TOKEN.test(lower)) continue;
    const name = PERMANENT_HTTP_HEADERS.has(lower) ? `dapr-${lower}` : lower;
    if (typeof value === 'string') {
      if (!INVALID_VALUE.test(value)) append(out, name, value);
    } else {
      for (const item of value) if (!INVALID_VALUE.test(item)) append(out, name, item);
    }
  }
  return out;
}

function append(out: Record<string, string | string[]>, name: string, value: string): void {
  const existing = out[name];
  if (existing === undefined) out[name] = value;
  else if (typeof existing === 'string') out[name] = [existing, value];
  else existing.push(value);
}

// Framing details of the gRPC answer itself, not part of what the app said.
const RESPONSE_FRAMING = new Set([
  'content-type',
  'grpc-encoding',
  'grpc-accept-encoding',
  'grpc-status',
  'grpc-message',
  'grpc-status-details-bin',
]);

/**
 * The app's response headers or trailers as a header record, without pseudo-headers and gRPC
 * framing entries; repeated values are joined with `, ` as `Headers` joins them.
 */
export function recordFromMetadata(
  metadata: IncomingHttpHeaders | undefined,
): Record<string, string> {
  const out: Record<string, string> = {};
  if (metadata === undefined) return out;
  for (const name in metadata) {
    const value = metadata[name];
    if (value === undefined || name.startsWith(':') || RESPONSE_FRAMING.has(name)) continue;
    out[name] = typeof value === 'string' ? value : value.join(', ');
  }
  return out;
}
