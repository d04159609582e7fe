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
  // Dapr routes on this header and never forwards it to the app.
  'destination-app-id',
]);

/** Turns the caller's headers into gRPC metadata for the app, renaming as Dapr does. */
export function metadataForApp(headers: HeaderRecord | undefined): Headers {
  const out = new Headers();
  for (const [rawName, value] of Object.entries(headers ?? {})) {
    const lower = rawName.toLowerCase();
    if (lower.startsWith(':') || TRANSPORT_OWNED.has(lower)) continue;
    const name = PERMANENT_HTTP_HEADERS.has(lower) ? `dapr-${lower}` : lower;
    if (typeof value === 'string') out.append(name, value);
    else for (const item of value) out.append(name, item);
  }
  return out;
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

/** The app's response metadata as a header record, without gRPC framing entries. */
export function recordFromMetadata(metadata: Headers | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  metadata?.forEach((value, name) => {
    if (name.startsWith(':') || RESPONSE_FRAMING.has(name)) return;
    out[name] = value;
  });
  return out;
}
