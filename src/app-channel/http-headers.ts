/** Header values as the app channel port carries them. */
export type HeaderRecord = Readonly<Record<string, string | readonly string[]>>;

/** Header carrying the app API token, the same name Dapr uses towards HTTP and gRPC apps. */
export const APP_TOKEN_HEADER = 'dapr-api-token';

// Headers that describe one connection, never the message (RFC 9110 §7.6.1), which Dapr
// strips before forwarding in either direction.
const HOP_BY_HOP: ReadonlySet<string> = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'upgrade',
  'te',
  'trailer',
  'proxy-authorization',
  'proxy-authenticate',
]);

// The HTTP client computes these itself; undici also refuses `expect` outright.
const CLIENT_OWNED = new Set(['content-length', 'host', 'expect']);

/** Extra headers the channel stamps on every request to the app. */
export interface StampedHeaders {
  readonly contentType?: string | undefined;
  readonly appToken?: string | undefined;
}

/**
 * The caller's headers as a flat `[name, value, ...]` list for undici, without hop-by-hop
 * headers (including any the `Connection` header names) or headers the client recomputes.
 */
export function headersForApp(
  headers: HeaderRecord | undefined,
  stamped: StampedHeaders,
): string[] {
  const dropped = connectionScoped(headers);
  const replacesType = stamped.contentType !== undefined;
  const replacesToken = stamped.appToken !== undefined;
  const out: string[] = [];
  for (const rawName in headers) {
    const value = headers[rawName];
    if (value === undefined) continue;
    const name = rawName.toLowerCase();
    if (
      name.startsWith(':') ||
      dropped.has(name) ||
      CLIENT_OWNED.has(name) ||
      (replacesType && name === 'content-type') ||
      (replacesToken && name === APP_TOKEN_HEADER)
    ) {
      continue;
    }
    if (typeof value === 'string') out.push(name, value);
    else for (const item of value) out.push(name, item);
  }
  if (stamped.contentType !== undefined) out.push('content-type', stamped.contentType);
  if (stamped.appToken !== undefined) out.push(APP_TOKEN_HEADER, stamped.appToken);
  return out;
}

/**
 * The app's response headers minus hop-by-hop ones and `content-length`, which Dapr's
 * channel also drops because the body is re-framed on the way back.
 */
export function headersFromApp(
  headers: Readonly<Record<string, string | string[] | undefined>>,
): Record<string, string | readonly string[]> {
  const dropped = connectionScoped(headers);
  const out: Record<string, string | readonly string[]> = {};
  for (const rawName in headers) {
    const value = headers[rawName];
    const name = rawName.toLowerCase();
    if (value === undefined || dropped.has(name) || name === 'content-length') continue;
    out[name] = value;
  }
  return out;
}

/** The first value of a header, looked up case-insensitively. */
export function firstHeader(
  headers: Readonly<Record<string, string | readonly string[] | undefined>> | undefined,
  name: string,
): string | undefined {
  if (headers === undefined) return undefined;
  const direct = headers[name];
  if (direct !== undefined) return typeof direct === 'string' ? direct : direct[0];
  for (const key in headers) {
    if (key.toLowerCase() !== name) continue;
    const value = headers[key];
    return typeof value === 'string' ? value : value?.[0];
  }
  return undefined;
}

/**
 * Hop-by-hop names plus any the `Connection` header lists. Most requests carry no `Connection`
 * header (HTTP/1.1 keep-alive is implied, HTTP/2 forbids it), so the shared set is returned
 * without a copy.
 */
function connectionScoped(
  headers: Readonly<Record<string, string | readonly string[] | undefined>> | undefined,
): ReadonlySet<string> {
  let names: Set<string> | undefined;
  for (const key in headers) {
    const value = headers[key];
    if (value === undefined || key.toLowerCase() !== 'connection') continue;
    names ??= new Set(HOP_BY_HOP);
    const values = typeof value === 'string' ? [value] : value;
    for (const item of values) {
      for (const token of item.split(',')) {
        const name = token.trim().toLowerCase();
        if (name !== '') names.add(name);
      }
    }
  }
  return names ?? HOP_BY_HOP;
}
