import type { MessageInitShape } from '@bufbuild/protobuf';
import { fromListMap, toListMap } from '../../clients/list-string-map.js';
import type { InvokeService } from '../../core/invoke/invoke-service.js';
import type { LocalCall } from '../../core/invoke/types.js';
import type { AppResponse } from '../../core/ports/app-channel.js';
import {
  HTTPExtension_Verb,
  type InvokeRequest,
} from '../../gen/dapr/proto/common/v1/common_pb.js';
import type {
  InternalInvokeRequest,
  InternalInvokeRequestStream,
  InternalInvokeResponseSchema,
  InternalInvokeResponseStreamSchema,
  ServiceInvocation,
} from '../../gen/dapr/proto/internals/v1/service_invocation_pb.js';
import { GrpcCode } from '../../kernel/grpc-code.js';
import { GrpcError } from '../grpc/server/grpc-error.js';
import type { GrpcServiceImpl, HandlerContext } from '../grpc/server/types.js';

type ResponseInit = MessageInitShape<typeof InternalInvokeResponseSchema>;
type ResponseChunk = MessageInitShape<typeof InternalInvokeResponseStreamSchema>;

// Payload chunk size of streamed answers: big enough to keep the frame count low.
const CHUNK_BYTES = 64 * 1024;

/**
 * The receiving side of sidecar-to-sidecar invocation: `CallLocal`, and `CallLocalStream`,
 * which daprd peers use (request and answer cut into `StreamPayload` chunks).
 */
export function serviceInvocationService(
  invoke: InvokeService,
): Pick<GrpcServiceImpl<typeof ServiceInvocation>, 'callLocal' | 'callLocalStream'> {
  return {
    async callLocal(request, context: HandlerContext) {
      const call = localCall(request, undefined, context.signal);
      return toInternalResponse(await invoke.callLocal(call), true);
    },
    async *callLocalStream(requests, context: HandlerContext) {
      let leading: InternalInvokeRequest | undefined;
      const chunks: Uint8Array[] = [];
      let expected = 0n;
      for await (const chunk of requests) {
        if (leading === undefined) {
          if (chunk.request?.message === undefined) {
            throw new GrpcError(
              GrpcCode.INVALID_ARGUMENT,
              'parsing InternalInvokeRequest error: request does not contain the required fields in the leading chunk',
            );
          }
          leading = chunk.request;
        } else if (chunk.request !== undefined) {
          throw new GrpcError(GrpcCode.INTERNAL, 'request metadata found in non-leading chunk');
        }
        collectPayload(chunk, expected, chunks);
        if (chunk.payload !== undefined) expected += 1n;
      }
      if (leading === undefined) {
        throw new GrpcError(
          GrpcCode.INVALID_ARGUMENT,
          'parsing InternalInvokeRequest error: no request',
        );
      }
      const response = await invoke.callLocal(
        localCall(leading, Buffer.concat(chunks), context.signal),
      );
      yield* responseChunks(response);
    },
  };
}

function collectPayload(
  chunk: InternalInvokeRequestStream,
  expected: bigint,
  into: Uint8Array[],
): void {
  const payload = chunk.payload;
  if (payload === undefined) return;
  if (payload.seq !== expected) {
    throw new GrpcError(
      GrpcCode.INTERNAL,
      `invalid sequence number received: ${payload.seq} (expected: ${expected})`,
    );
  }
  if (payload.data.byteLength > 0) into.push(payload.data);
}

function* responseChunks(response: AppResponse): Generator<ResponseChunk> {
  // The leading chunk carries status, headers and content type; the body follows in payloads.
  const leading = toInternalResponse(response, false);
  const body =
    response.grpcCode === undefined || response.grpcCode === 0 ? response.body : undefined;
  if (body === undefined || body.byteLength === 0) {
    yield { response: leading };
    return;
  }
  let seq = 0n;
  for (let offset = 0; offset < body.byteLength; offset += CHUNK_BYTES) {
    const payload = { data: body.subarray(offset, offset + CHUNK_BYTES), seq };
    yield seq === 0n ? { response: leading, payload } : { payload };
    seq += 1n;
  }
}

function localCall(
  request: InternalInvokeRequest,
  streamedBody: Uint8Array | undefined,
  signal: AbortSignal,
): LocalCall {
  const message: InvokeRequest | undefined = request.message;
  if (message === undefined) {
    throw new GrpcError(
      GrpcCode.INVALID_ARGUMENT,
      'parsing InternalInvokeRequest error: field Message is nil',
    );
  }
  const extension = message.httpExtension;
  const typeUrl = message.data?.typeUrl ?? '';
  return {
    method: message.method,
    verb: extension === undefined ? 'NONE' : (HTTPExtension_Verb[extension.verb] ?? 'NONE'),
    ...(extension === undefined || extension.querystring === ''
      ? {}
      : { query: extension.querystring }),
    headers: fromListMap(request.metadata),
    body: streamedBody ?? message.data?.value ?? new Uint8Array(),
    ...(message.contentType === '' ? {} : { contentType: message.contentType }),
    ...(typeUrl === '' ? {} : { typeUrl }),
    signal,
  };
}

/**
 * The app's answer for the calling sidecar: an HTTP app's status as is, a gRPC app's code with
 * its message and details (and no body when it failed), headers and trailers as lists.
 */
function toInternalResponse(response: AppResponse, withBody: boolean): ResponseInit {
  const headers = toListMap(response.headers);
  const body = withBody ? response.body : new Uint8Array();
  if (response.grpcCode === undefined) {
    return {
      status: { code: response.status },
      headers,
      message: { data: { value: body }, contentType: response.contentType ?? '' },
    };
  }
  const trailers = toListMap(response.trailers ?? {});
  if (response.grpcCode !== 0) {
    return {
      status: {
        code: response.grpcCode,
        message: response.grpcMessage ?? '',
        details: (response.grpcDetails ?? []).map((detail) => ({
          typeUrl: detail.typeUrl,
          value: detail.value,
        })),
      },
      headers,
      trailers,
    };
  }
  return {
    status: { code: 0 },
    headers,
    trailers,
    message: {
      data: { typeUrl: response.typeUrl ?? '', value: body },
      contentType: response.contentType ?? '',
    },
  };
}
