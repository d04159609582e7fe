import { STATUS_CODES } from 'node:http';
import type { IncomingHttpHeaders } from 'node:http2';
import { create } from '@bufbuild/protobuf';
import { type Any, anyPack } from '@bufbuild/protobuf/wkt';
import type { InvokeService } from '../../../core/invoke/invoke-service.js';
import type { HeaderRecord, MutableHeaders } from '../../../core/invoke/types.js';
import type { AppResponse } from '../../../core/ports/app-channel.js';
import { HTTPExtension_Verb } from '../../../gen/dapr/proto/common/v1/common_pb.js';
import type { Dapr } from '../../../gen/dapr/proto/runtime/v1/dapr_pb.js';
import { ErrorInfoSchema } from '../../../gen/google/rpc/error_details_pb.js';
import { GrpcCode } from '../../../kernel/grpc-code.js';
import { PERMANENT_HTTP_HEADERS } from '../../../kernel/http-header-names.js';
import { GrpcError, toGrpcCode } from '../server/grpc-error.js';
import type { GrpcServiceImpl, HandlerContext } from '../server/types.js';

// Request metadata the gRPC transport owns; it describes this hop, not the call.
const TRANSPORT_KEYS = new Set([
  'content-type',
  'te',
  'grpc-timeout',
  'grpc-encoding',
  'grpc-accept-encoding',
  'dapr-api-token',
]);

/**
 * `InvokeService` (deprecated in Dapr in favour of proxying, still used by the SDKs): the HTTP
 * extension gives the verb and query; an HTTP app's error status becomes a gRPC error as in
 * Dapr's `ErrorFromHTTPResponseCode`, with the status in `dapr-http-status`.
 */
export function invokeService(
  invoke: InvokeService,
): Pick<GrpcServiceImpl<typeof Dapr>, 'invokeService'> {
  return {
    async invokeService(request, context: HandlerContext) {
      const message = request.message;
      const extension = message?.httpExtension;
      const typeUrl = message?.data?.typeUrl ?? '';
      const contentType = message?.contentType ?? '';
      const response = await invoke.invoke({
        targetId: request.id,
        method: message?.method ?? '',
        verb: extension === undefined ? 'NONE' : (HTTPExtension_Verb[extension.verb] ?? 'NONE'),
        ...(extension === undefined || extension.querystring === ''
          ? {}
          : { query: extension.querystring }),
        headers: callerMetadata(context.requestHeader),
        body: message?.data?.value ?? new Uint8Array(),
        ...(contentType === '' ? {} : { contentType }),
        ...(typeUrl === '' ? {} : { typeUrl }),
        signal: context.signal,
      });
      for (const [key, value] of Object.entries(grpcMetadata(response.headers))) {
        trySet(() => context.setHeader(key, value));
      }
      if (response.grpcCode === undefined) {
        context.setHeader('dapr-http-status', String(response.status));
        const failure = httpFailure(response);
        if (failure !== undefined) throw failure;
      } else {
        for (const [key, value] of Object.entries(grpcMetadata(response.trailers ?? {}, false))) {
          trySet(() => context.setTrailer(key, value));
        }
        if (response.grpcCode !== GrpcCode.OK) {
          throw new GrpcError(
            toGrpcCode(response.grpcCode),
            response.grpcMessage ?? '',
            (response.grpcDetails ?? []).map((detail) => detailAny(detail.typeUrl, detail.value)),
          );
        }
      }
      return {
        data: { typeUrl: response.typeUrl ?? '', value: response.body },
        contentType: response.contentType ?? '',
      };
    },
  };
}

/** The caller's metadata as invocation headers: no pseudo-headers, no transport keys. */
function callerMetadata(headers: IncomingHttpHeaders): HeaderRecord {
  const out: MutableHeaders = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined || name.startsWith(':') || TRANSPORT_KEYS.has(name)) continue;
    out[name] = value;
  }
  return out;
}

/**
 * Response headers as gRPC metadata, converted as Dapr's `InternalMetadataToGrpcMetadata`:
 * permanent HTTP header names get a `dapr-` prefix (when converting an HTTP answer), `-bin`
 * values are sent as bytes, and trace headers are left to the transport.
 */
function grpcMetadata(
  headers: Readonly<Record<string, string | readonly string[]>>,
  httpConversion = true,
): Record<string, string | Uint8Array> {
  const out: Record<string, string | Uint8Array> = {};
  for (const [rawName, value] of Object.entries(headers)) {
    let name = rawName.toLowerCase();
    if (name === 'traceparent' || name === 'tracestate' || name === 'grpc-trace-bin') continue;
    if (name === 'destination-app-id' || name.startsWith(':')) continue;
    if (httpConversion && PERMANENT_HTTP_HEADERS.has(name)) name = `dapr-${name}`;
    const text = typeof value === 'string' ? value : value.join(', ');
    out[name] = name.endsWith('-bin') ? new Uint8Array(Buffer.from(text, 'base64')) : text;
  }
  return out;
}

/** Metadata a client cannot carry (reserved or non-ASCII) is dropped, not fatal to the call. */
function trySet(set: () => void): void {
  try {
    set();
  } catch {
    // skipped
  }
}

/**
 * Dapr's gRPC error for an HTTP app's answer: codes from the gRPC/HTTP mapping table (2xx is
 * OK), the status text as message, and an ErrorInfo with `http.code` and the body's first 63
 * characters as `http.error_message`.
 */
function httpFailure(response: AppResponse): GrpcError | undefined {
  const code = codeFromHttpStatus(response.status);
  if (code === GrpcCode.OK) return undefined;
  const statusText = STATUS_CODES[response.status] ?? '';
  const body = Buffer.from(response.body).toString('utf8');
  const detail = create(ErrorInfoSchema, {
    reason: statusText,
    domain: 'dapr.io',
    metadata: {
      'http.code': String(response.status),
      'http.error_message': body.length >= 63 ? body.slice(0, 63) : body,
    },
  });
  return new GrpcError(toGrpcCode(code), statusText, [anyPack(ErrorInfoSchema, detail)]);
}

/** Dapr's `CodeFromHTTPStatus`. */
function codeFromHttpStatus(status: number): number {
  if (status >= 200 && status < 300) return GrpcCode.OK;
  const table: Readonly<Record<number, number>> = {
    408: GrpcCode.CANCELLED,
    500: GrpcCode.UNKNOWN,
    400: GrpcCode.INTERNAL,
    504: GrpcCode.DEADLINE_EXCEEDED,
    404: GrpcCode.NOT_FOUND,
    409: GrpcCode.ALREADY_EXISTS,
    403: GrpcCode.PERMISSION_DENIED,
    401: GrpcCode.UNAUTHENTICATED,
    429: GrpcCode.RESOURCE_EXHAUSTED,
    501: GrpcCode.UNIMPLEMENTED,
    503: GrpcCode.UNAVAILABLE,
  };
  return table[status] ?? GrpcCode.UNKNOWN;
}

function detailAny(typeUrl: string, value: Uint8Array): Any {
  return { $typeName: 'google.protobuf.Any', typeUrl, value };
}
