import type { HeaderRecord, MutableHeaders } from './types.js';

/** The caller's app id, stamped by the calling sidecar (Dapr's `dapr-caller-app-id`). */
export const CALLER_ID_HEADER = 'dapr-caller-app-id';
/** The target's app id, stamped by the calling sidecar. */
export const CALLEE_ID_HEADER = 'dapr-callee-app-id';
/** The caller's namespace (Dapr 1.16+). */
export const CALLER_NAMESPACE_HEADER = 'dapr-caller-namespace';
/** Routing metadata between sidecars; never reaches an app. */
export const DESTINATION_ID_HEADER = 'destination-app-id';
/** The API token header; the caller's copy never travels on (token separation). */
export const API_TOKEN_HEADER = 'dapr-api-token';

// Identity headers a caller could forge: Dapr strips them before stamping its own.
const IDENTITY = new Set([CALLER_ID_HEADER, CALLEE_ID_HEADER, CALLER_NAMESPACE_HEADER]);

// RFC 9110 §7.6.1 connection-scoped headers, stripped in both directions as Dapr does.
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'upgrade',
  'http2-settings',
  'te',
  'trailer',
  'proxy-authorization',
  'proxy-authenticate',
]);

/** Who is calling, stamped on every outbound invocation. */
export interface CallerIdentity {
  readonly appId: string;
  readonly namespace: string;
}

/** This host, for the `X-Forwarded-*` and `Forwarded` headers Dapr appends on remote calls. */
export interface ForwardedHost {
  /** The host's IP address as peers see it; empty to leave the headers out. */
  readonly address: string;
  readonly hostName: string;
}

/**
 * The caller's headers for an outbound call: identity headers the caller sent are dropped
 * (anti-spoofing) and so is its API token, then the caller and callee ids are stamped.
 */
export function stampIdentity(
  headers: HeaderRecord,
  caller: CallerIdentity,
  calleeAppId: string,
): MutableHeaders {
  const out: MutableHeaders = {};
  for (const [rawName, value] of Object.entries(headers)) {
    const name = rawName.toLowerCase();
    if (IDENTITY.has(name) || name === API_TOKEN_HEADER || name === DESTINATION_ID_HEADER) {
      continue;
    }
    out[name] = value;
  }
  out[CALLER_NAMESPACE_HEADER] = caller.namespace;
  out[CALLER_ID_HEADER] = caller.appId;
  out[CALLEE_ID_HEADER] = calleeAppId;
  return out;
}

/** Appends `X-Forwarded-For`, `X-Forwarded-Host` and `Forwarded` (RFC 7239) as Dapr does. */
export function appendForwarded(headers: MutableHeaders, host: ForwardedHost | undefined): void {
  if (host === undefined) return;
  const add = (name: string, value: string): void => {
    const existing = headers[name];
    headers[name] =
      existing === undefined
        ? value
        : [...(typeof existing === 'string' ? [existing] : existing), value];
  };
  const parts: string[] = [];
  if (host.address !== '') {
    // RFC 7239: IPv6 addresses are quoted and bracketed.
    const quoted = host.address.includes(':') ? `"[${host.address}]"` : host.address;
    add('x-forwarded-for', host.address);
    parts.push(`for=${quoted};by=${quoted}`);
  }
  if (host.hostName !== '') {
    add('x-forwarded-host', host.hostName);
    parts.push(`host=${host.hostName}`);
  }
  add('forwarded', parts.join(';'));
}

/** The first value of a header, looked up case-insensitively. */
export function headerValue(headers: HeaderRecord, name: string): string | undefined {
  const direct = headers[name];
  if (direct !== undefined) return typeof direct === 'string' ? direct : direct[0];
  for (const [key, value] of Object.entries(headers)) {
    if (key.toLowerCase() === name) return typeof value === 'string' ? value : value[0];
  }
  return undefined;
}

/** Metadata for this sidecar's app without the caller's API token and sidecar routing headers. */
export function withoutSidecarHeaders(headers: HeaderRecord): MutableHeaders {
  const out: MutableHeaders = {};
  for (const [rawName, value] of Object.entries(headers)) {
    const name = rawName.toLowerCase();
    if (name === API_TOKEN_HEADER || name === DESTINATION_ID_HEADER) continue;
    out[name] = value;
  }
  return out;
}

/**
 * Metadata turned into headers for an HTTP app, as Dapr's HTTP channel converts it: binary
 * (`-bin`) entries, `content-type` and `content-length` are dropped (the body's own are used),
 * and names HTTP cannot carry are renamed: `:authority` to `dapr-authority`, `grpc-*` to
 * `dapr-grpc-*`.
 */
export function headersForHttpApp(headers: HeaderRecord): MutableHeaders {
  const out: MutableHeaders = {};
  for (const [rawName, value] of Object.entries(headers)) {
    const name = rawName.toLowerCase();
    if (name.endsWith('-bin') || name === 'content-type' || name === 'content-length') continue;
    out[reservedToDaprName(name)] = value;
  }
  return out;
}

/**
 * The target's response headers as an HTTP caller gets them: hop-by-hop headers (and those the
 * `Connection` header names), `content-length`, `content-type` (sent from the body's type) and
 * `-bin` entries are dropped; gRPC-reserved names get Dapr's `dapr-` prefix.
 */
export function responseHeadersForHttp(headers: HeaderRecord): MutableHeaders {
  const dropped = new Set(HOP_BY_HOP);
  for (const [name, value] of Object.entries(headers)) {
    if (name.toLowerCase() !== 'connection') continue;
    for (const item of typeof value === 'string' ? [value] : value) {
      for (const token of item.split(',')) {
        const trimmed = token.trim().toLowerCase();
        if (trimmed !== '') dropped.add(trimmed);
      }
    }
  }
  const out: MutableHeaders = {};
  for (const [rawName, value] of Object.entries(headers)) {
    const name = rawName.toLowerCase();
    if (
      dropped.has(name) ||
      name.endsWith('-bin') ||
      name === 'content-type' ||
      name === 'content-length' ||
      name === DESTINATION_ID_HEADER
    ) {
      continue;
    }
    out[reservedToDaprName(name)] = value;
  }
  return out;
}

/** Dapr's renaming of gRPC-reserved metadata names for HTTP. */
function reservedToDaprName(name: string): string {
  if (name === ':method' || name === ':scheme' || name === ':path' || name === ':authority') {
    return `dapr-${name.slice(1)}`;
  }
  if (name.startsWith('grpc-')) return `dapr-${name}`;
  return name;
}
