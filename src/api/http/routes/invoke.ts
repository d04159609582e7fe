import type { IncomingHttpHeaders } from 'node:http';
import { noAppIdError } from '../../../core/invoke/errors.js';
import { responseHeadersForHttp } from '../../../core/invoke/headers.js';
import type { InvokeService } from '../../../core/invoke/invoke-service.js';
import type { HeaderRecord, MutableHeaders } from '../../../core/invoke/types.js';
import { cleanPath } from '../../../kernel/go-path.js';
import type { HttpContext, HttpMethod, HttpReply, HttpRoute } from '../route.js';

const ALL_VERBS: readonly HttpMethod[] = [
  'GET',
  'POST',
  'PUT',
  'DELETE',
  'PATCH',
  'HEAD',
  'OPTIONS',
];

/** Where a request is going: the target id as written and the method path on it. */
export interface InvokeAddress {
  readonly targetId: string;
  readonly method: string;
  /** True when the header form named the target, so the header must not travel on. */
  readonly fromHeader: boolean;
}

/**
 * Service invocation over HTTP: `/v1.0/invoke/{id}/method/{method...}` for the usual verbs, and
 * the same handler as the router's fallback, because Dapr registers invocation as its NotFound
 * handler: any other path or verb with a `dapr-app-id` header (or Basic auth user
 * `dapr-app-id`) is an invocation of that path.
 */
export function invokeRoutes(invoke: InvokeService): {
  readonly routes: HttpRoute[];
  readonly fallback: (context: HttpContext) => Promise<HttpReply>;
} {
  const handler = (context: HttpContext): Promise<HttpReply> => handleInvoke(invoke, context);
  return {
    routes: [
      { methods: ALL_VERBS, path: '/v1.0/invoke/*', api: 'invoke', version: 'v1.0', handler },
    ],
    fallback: handler,
  };
}

async function handleInvoke(invoke: InvokeService, context: HttpContext): Promise<HttpReply> {
  const { request } = context;
  const url = request.url ?? '/';
  const mark = url.indexOf('?');
  const rawPath = mark === -1 ? url : url.slice(0, mark);
  const address = findTarget(decodePath(rawPath), request.headers);
  if (address === undefined) throw noAppIdError();
  const body = await context.body();
  const headers = callerHeaders(request.headers, address.fromHeader);
  const contentType = request.headers['content-type'];
  const response = await invoke.invoke({
    targetId: address.targetId,
    method: address.method,
    verb: (request.method ?? 'GET').toUpperCase(),
    ...(mark === -1 ? {} : { query: url.slice(mark + 1) }),
    headers,
    body,
    ...(contentType === undefined ? {} : { contentType }),
    // Dapr streams chunked bodies (Go's ContentLength -1) and never retries them; a request
    // without a body, or with a length, may be sent again.
    replayable: request.headers['transfer-encoding'] === undefined,
    signal: context.signal,
  });
  const replyHeaders = responseHeadersForHttp(response.headers);
  if (response.contentType !== undefined) replyHeaders['content-type'] = response.contentType;
  return { status: response.status, headers: replyHeaders, body: response.body };
}

/**
 * Finds the target as Dapr's `findTargetIDAndMethod` does: the `dapr-app-id` header, then Basic
 * auth user `dapr-app-id` (both make the whole path the method), then the
 * `/v1.0/invoke/{id}/method/{method}` form, where the id may itself be a URL (`http://...`,
 * also percent-encoded).
 */
export function findTarget(path: string, headers: IncomingHttpHeaders): InvokeAddress | undefined {
  const header = headers['dapr-app-id'];
  if (typeof header === 'string' && header !== '') {
    return { targetId: header, method: trimLeadingSlash(cleanPath(path)), fromHeader: true };
  }
  const auth = headers.authorization;
  if (typeof auth === 'string' && auth.startsWith('Basic ')) {
    const decoded = Buffer.from(auth.slice(6), 'base64').toString('utf8');
    const pair = decoded.split(':');
    if (pair.length === 2 && pair[0]?.toLowerCase() === 'dapr-app-id') {
      return {
        targetId: pair[1] ?? '',
        method: trimLeadingSlash(cleanPath(path)),
        fromHeader: false,
      };
    }
  }
  const rest = afterPrefix(path, ['v1.0', 'invoke']);
  if (rest === undefined) return undefined;
  const index = rest.indexOf('/method/');
  if (index <= 0) return undefined;
  let targetId = rest.slice(0, index);
  let method = cleanPath(rest.slice(index + '/method/'.length));
  if (method === '.') method = '';
  targetId = decodePath(targetId) || targetId;
  return { targetId, method, fromHeader: false };
}

/** The path after `/v1.0/invoke/` (repeated slashes allowed, as Dapr's router cleans them). */
function afterPrefix(path: string, parts: readonly string[]): string | undefined {
  let rest = path;
  for (const part of parts) {
    rest = rest.replace(/^\/+/, '');
    if (!rest.startsWith(`${part}/`)) return undefined;
    rest = rest.slice(part.length);
  }
  rest = rest.replace(/^\/+/, '');
  return rest === '' ? undefined : rest;
}

function trimLeadingSlash(path: string): string {
  return path.startsWith('/') ? path.slice(1) : path;
}

/** Percent-decodes a path as Go's `URL.Path` holds it; a malformed escape is kept as written. */
function decodePath(path: string): string {
  if (!path.includes('%')) return path;
  try {
    return decodeURIComponent(path);
  } catch {
    return path;
  }
}

/**
 * The caller's headers as invocation metadata: `host` is the connection's business (Go keeps
 * it out of the header map), `content-length` is recomputed, and the `dapr-app-id` header that
 * addressed the call is deleted, as Dapr deletes it. The API token is already gone.
 */
function callerHeaders(headers: IncomingHttpHeaders, dropAppId: boolean): HeaderRecord {
  const out: MutableHeaders = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined || name === 'host' || name === 'content-length') continue;
    if (dropAppId && name === 'dapr-app-id') continue;
    out[name] = value;
  }
  return out;
}
