import type { IncomingHttpHeaders, OutgoingHttpHeaders, ServerHttp2Stream } from 'node:http2';
import { isRemoteCallError } from '../../core/invoke/errors.js';
import { API_TOKEN_HEADER, CALLEE_ID_HEADER } from '../../core/invoke/headers.js';
import type { InvokeService } from '../../core/invoke/invoke-service.js';
import type { HeaderRecord, MutableHeaders, ProxyRoute } from '../../core/invoke/types.js';
import { isTruthy } from '../../kernel/go-bool.js';
import { GrpcCode } from '../../kernel/grpc-code.js';
import { isTaprError } from '../../kernel/tapr-error.js';
import {
  atPeer,
  forwardUnderPolicy,
  type ProxyTransport,
  type RemoteRoute,
} from './proxy-resiliency.js';
import { GrpcError, isGrpcError, toGrpcCode } from './server/grpc-error.js';
import type { GrpcFallback } from './server/types.js';

/** Where this sidecar's own gRPC app listens, for proxied calls that end here. */
export interface AppGrpcTarget {
  /** `http://host:port`, or `https://` for `grpcs` apps. */
  readonly origin: string;
  /** `APP_API_TOKEN`, sent to the app as `dapr-api-token`. */
  readonly appToken?: string | undefined;
  /**
   * Runs a call under `--app-max-concurrency` (shared with `OnInvoke`); undefined when there
   * is no limit.
   */
  readonly runLimited?:
    | (<T>(work: () => Promise<T>, signal?: AbortSignal) => Promise<T>)
    | undefined;
}

/** What the proxy needs. */
export interface GrpcProxyOptions {
  readonly invoke: InvokeService;
  readonly transport: ProxyTransport;
  /** This sidecar's gRPC app; undefined while it is not connected or does not speak gRPC. */
  readonly app: () => AppGrpcTarget | undefined;
  /** `--max-body-size`: the largest request kept for retries. */
  readonly maxRequestBytes: number;
}

const APP_ID_HEADER = 'dapr-app-id';
/** Dapr's metadata marking a proxied call as streaming (resiliency then covers connecting only). */
const STREAM_HEADER = 'dapr-stream';
// Pseudo-headers are rebuilt by the client; the rest of these belong to one HTTP/2 hop.
const HOP_HEADERS = new Set(['connection', 'keep-alive', 'transfer-encoding', 'upgrade']);

/**
 * gRPC proxying, as Dapr's transparent proxy: a call for a service this server does not serve
 * goes to the app named by `dapr-callee-app-id` or else `dapr-app-id`. The target's sidecar is
 * reached on its internal port, where this same fallback hands the call to its own app after
 * checking access control for the caller the metadata names, under `--app-max-concurrency`.
 * Frames are never decoded, so unary and streaming calls work alike. The target app's
 * resiliency policy applies on the calling side as in Dapr (see `proxy-resiliency.ts`).
 * Serves as the fallback of both the gRPC API server and the internal server.
 */
export function grpcProxyFallback(options: GrpcProxyOptions): GrpcFallback {
  return async (stream, headers) => {
    const targetId = text(headers[CALLEE_ID_HEADER]) ?? text(headers[APP_ID_HEADER]);
    const path = headers[':path'] ?? '';
    if (targetId === undefined) {
      throw new GrpcError(GrpcCode.UNIMPLEMENTED, `unknown service or method: ${path}`);
    }
    const metadata = callMetadata(headers);
    // Dapr reads `dapr-stream` with dapr/kit's IsTruthy.
    const streaming = isTruthy(text(headers[STREAM_HEADER]));
    const route = await routeTo(options.invoke, targetId);
    try {
      if (route.kind === 'local') {
        await toLocalApp(options, stream, metadata, path, streaming);
        return;
      }
      const invoke = options.invoke;
      const destination = (to: RemoteRoute) => ({
        origin: `http://${to.address}`,
        path,
        headers: outgoing(invoke.proxyMetadata(metadata, to)),
      });
      const policy = invoke.proxyPolicy(targetId, path);
      if (policy !== undefined) {
        await forwardUnderPolicy(stream, {
          invoke,
          transport: options.transport,
          policy,
          streaming,
          maxRequestBytes: options.maxRequestBytes,
          first: route,
          reroute: async () => remoteRoute(await routeTo(invoke, targetId)),
          destination,
        });
        return;
      }
      // Without a policy the call is piped as it comes. Connecting first lets a request that
      // never left go to another instance (a stopped one still in the resolver's cache).
      const connect = (to: RemoteRoute): Promise<void> =>
        atPeer(invoke, to, () => options.transport.connect(`http://${to.address}`));
      let target = route;
      try {
        await connect(target);
      } catch (error) {
        if (!isRemoteCallError(error) || !error.unsent) throw error;
        target = remoteRoute(await routeTo(invoke, targetId));
        await connect(target);
      }
      await atPeer(invoke, target, () => options.transport.forward(stream, destination(target)));
    } catch (error) {
      throw asGrpcError(error, '');
    }
  };
}

/** The receiving side: access control, the app token, and the app's concurrency limit. */
async function toLocalApp(
  options: GrpcProxyOptions,
  stream: ServerHttp2Stream,
  metadata: HeaderRecord,
  path: string,
  streaming: boolean,
): Promise<void> {
  options.invoke.authorizeProxied(metadata, path);
  const app = options.app();
  if (app === undefined) {
    throw new GrpcError(GrpcCode.INTERNAL, 'failed to proxy request: the app has no gRPC channel');
  }
  const forApp: MutableHeaders = { ...metadata };
  delete forApp[API_TOKEN_HEADER];
  if (app.appToken !== undefined) forApp[API_TOKEN_HEADER] = app.appToken;
  const forward = (): Promise<void> =>
    options.transport.forward(stream, { origin: app.origin, path, headers: outgoing(forApp) });
  // A streaming call may live for hours; only unary calls take an `--app-max-concurrency`
  // slot, so a long stream cannot starve invocation.
  if (app.runLimited === undefined || streaming) {
    await forward();
    return;
  }
  const controller = new AbortController();
  const onClose = (): void => controller.abort(new GrpcError(GrpcCode.CANCELLED, 'call cancelled'));
  stream.once('close', onClose);
  try {
    await app.runLimited(forward, controller.signal);
  } finally {
    stream.off('close', onClose);
  }
}

async function routeTo(invoke: InvokeService, targetId: string): Promise<ProxyRoute> {
  try {
    return await invoke.routeProxy(targetId);
  } catch (error) {
    throw asGrpcError(error, `failed to proxy request: `);
  }
}

/** A route found again for a retry; the app cannot have become this sidecar's own. */
function remoteRoute(route: ProxyRoute): RemoteRoute {
  if (route.kind !== 'remote') {
    throw new GrpcError(GrpcCode.INTERNAL, 'failed to proxy request: the route changed');
  }
  return route;
}

/** The call's metadata without pseudo-headers and hop headers; `dapr-app-id` is consumed. */
function callMetadata(headers: IncomingHttpHeaders): HeaderRecord {
  const out: MutableHeaders = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined || name.startsWith(':') || HOP_HEADERS.has(name)) continue;
    if (name === APP_ID_HEADER) continue;
    out[name] = value;
  }
  return out;
}

function outgoing(headers: HeaderRecord): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(headers)) {
    out[name] = typeof value === 'string' ? value : [...value];
  }
  return out;
}

/** Any error as the status the proxied call ends with. */
function asGrpcError(error: unknown, prefix: string): unknown {
  if (isRemoteCallError(error)) {
    return new GrpcError(toGrpcCode(error.grpcCode), `${prefix}${error.message}`, [], error);
  }
  if (isTaprError(error)) {
    return new GrpcError(toGrpcCode(error.grpcCode), error.message, [], error);
  }
  if (isGrpcError(error)) return error;
  return new GrpcError(
    GrpcCode.UNKNOWN,
    `${prefix}${error instanceof Error ? error.message : String(error)}`,
    [],
    error,
  );
}

function text(value: string | string[] | undefined): string | undefined {
  const first = Array.isArray(value) ? value[0] : value;
  return first === undefined || first === '' ? undefined : first;
}
