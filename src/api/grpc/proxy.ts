import type { IncomingHttpHeaders, OutgoingHttpHeaders, ServerHttp2Stream } from 'node:http2';
import { isRemoteCallError } from '../../core/invoke/errors.js';
import { API_TOKEN_HEADER, CALLEE_ID_HEADER } from '../../core/invoke/headers.js';
import type { InvokeService } from '../../core/invoke/invoke-service.js';
import type { HeaderRecord, MutableHeaders, ProxyRoute } from '../../core/invoke/types.js';
import { GrpcCode } from '../../kernel/grpc-code.js';
import { isTaprError } from '../../kernel/tapr-error.js';
import { GrpcError, isGrpcError, toGrpcCode } from './server/grpc-error.js';
import type { GrpcFallback } from './server/types.js';

/** Where this sidecar's own gRPC app listens, for proxied calls that end here. */
export interface AppGrpcTarget {
  /** `http://host:port`, or `https://` for `grpcs` apps. */
  readonly origin: string;
  /** `APP_API_TOKEN`, sent to the app as `dapr-api-token`. */
  readonly appToken?: string | undefined;
}

/** Sends a gRPC call on, frame for frame (src/clients/grpc-stream-proxy.ts). */
export type ForwardGrpcCall = (
  inbound: ServerHttp2Stream,
  destination: {
    readonly origin: string;
    readonly path: string;
    readonly headers: OutgoingHttpHeaders;
  },
) => Promise<void>;

/** What the proxy needs. */
export interface GrpcProxyOptions {
  readonly invoke: InvokeService;
  readonly forward: ForwardGrpcCall;
  /** This sidecar's gRPC app; undefined while it is not connected or does not speak gRPC. */
  readonly app: () => AppGrpcTarget | undefined;
}

const APP_ID_HEADER = 'dapr-app-id';
// Pseudo-headers are rebuilt by the client; the rest of these belong to one HTTP/2 hop.
const HOP_HEADERS = new Set(['connection', 'keep-alive', 'transfer-encoding', 'upgrade']);

/**
 * gRPC proxying, as Dapr's transparent proxy: a call for a service this server does not serve
 * goes to the app named by `dapr-callee-app-id` or else `dapr-app-id`. The target's sidecar is
 * reached on its internal port, where this same fallback hands the call to its own app after
 * checking access control for the caller the metadata names. Frames are never decoded, so
 * unary and streaming calls work alike; retries and policies do not apply to proxied calls.
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
    let route: ProxyRoute;
    try {
      route = await options.invoke.routeProxy(targetId);
    } catch (error) {
      throw asGrpcError(error, `failed to proxy request: `);
    }
    try {
      if (route.kind === 'remote') {
        const stamped = options.invoke.proxyMetadata(metadata, route);
        await options.forward(stream, {
          origin: `http://${route.address}`,
          path,
          headers: outgoing(stamped),
        });
        return;
      }
      options.invoke.authorizeProxied(metadata, path);
      const app = options.app();
      if (app === undefined) {
        throw new GrpcError(
          GrpcCode.INTERNAL,
          'failed to proxy request: the app has no gRPC channel',
        );
      }
      const forApp: MutableHeaders = { ...metadata };
      delete forApp[API_TOKEN_HEADER];
      if (app.appToken !== undefined) forApp[API_TOKEN_HEADER] = app.appToken;
      await options.forward(stream, { origin: app.origin, path, headers: outgoing(forApp) });
    } catch (error) {
      throw asGrpcError(error, '');
    }
  };
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
