import { fromBinary } from '@bufbuild/protobuf';
import { grpcStatusJson, httpStatusFromGrpcCode } from '../app-channel/grpc-status.js';
import type { OutboundCall, RemoteInvoker } from '../core/invoke/ports.js';
import type { AppResponse } from '../core/ports/app-channel.js';
import { HTTPExtension_Verb } from '../gen/dapr/proto/common/v1/common_pb.js';
import { APIVersion } from '../gen/dapr/proto/internals/v1/apiversion_pb.js';
import {
  type InternalInvokeResponse,
  InternalInvokeResponseSchema,
} from '../gen/dapr/proto/internals/v1/service_invocation_pb.js';
import { unaryCall } from './grpc-unary.js';
import { Http2SessionPool } from './http2-session-pool.js';
import { internalInvokeRequestFrame } from './invoke-wire.js';
import { fromListMap } from './list-string-map.js';

const CALL_LOCAL = '/dapr.proto.internals.v1.ServiceInvocation/CallLocal';

/** Settings of the sidecar-to-sidecar client. */
export interface RemoteSidecarClientOptions {
  /** `--max-body-size`: the largest body sent or accepted; the message limit adds headroom. */
  readonly maxBodyBytes: number;
  /** Close an idle connection to a peer after this long; default 60s. */
  readonly idleTimeoutMs?: number;
  /** A pool shared with the gRPC proxy; the client then leaves closing it to its owner. */
  readonly pool?: Http2SessionPool;
}

/** Headroom for metadata around a body of `--max-body-size` in one invocation message. */
export const INVOKE_ENVELOPE_BYTES = 1024 * 1024;

/**
 * Calls peers' `dapr.proto.internals.v1.ServiceInvocation/CallLocal` over pooled HTTP/2
 * sessions (one per peer address), the sidecar-to-sidecar hop of service invocation.
 */
export class RemoteSidecarClient implements RemoteInvoker {
  readonly #pool: Http2SessionPool;
  readonly #ownsPool: boolean;
  readonly #maxResponseBytes: number;

  constructor(options: RemoteSidecarClientOptions) {
    this.#ownsPool = options.pool === undefined;
    this.#pool =
      options.pool ??
      new Http2SessionPool({
        ...(options.idleTimeoutMs === undefined ? {} : { idleTimeoutMs: options.idleTimeoutMs }),
      });
    this.#maxResponseBytes = options.maxBodyBytes + INVOKE_ENVELOPE_BYTES;
  }

  /** Sends one invocation to the peer at `address` (`host:port`) and maps its answer. */
  async invoke(address: string, call: OutboundCall, signal?: AbortSignal): Promise<AppResponse> {
    const frame = internalInvokeRequestFrame(APIVersion.V1, call.headers, {
      method: call.method,
      typeUrl: call.typeUrl ?? '',
      body: call.body,
      contentType: call.contentType ?? '',
      verb: verbOf(call.verb),
      query: call.query ?? '',
    });
    const result = await unaryCall(this.#pool.session(originOf(address)), CALL_LOCAL, frame, {
      signal,
      maxResponseBytes: this.#maxResponseBytes,
    });
    return toAppResponse(fromBinary(InternalInvokeResponseSchema, result.message));
  }

  /** Drops the connection to a peer so the next call dials it again. */
  reset(address: string): void {
    this.#pool.reset(originOf(address));
  }

  /** Closes all peer connections (when the pool is its own). */
  async close(): Promise<void> {
    if (this.#ownsPool) await this.#pool.close();
  }
}

/** `http://host:port` for a `host:port` address (IPv6 hosts come bracketed). */
export function originOf(address: string): string {
  return address.startsWith('http://') || address.startsWith('https://')
    ? address
    : `http://${address}`;
}

/**
 * The verb Dapr's `WithHTTPExtension` records: the HTTP verb by name, `NONE` when the caller
 * gave none, and POST for verbs the enum does not list.
 */
function verbOf(verb: string): HTTPExtension_Verb {
  if (verb === '' || verb === 'NONE') return HTTPExtension_Verb.NONE;
  const value: unknown = (HTTPExtension_Verb as unknown as Record<string, unknown>)[verb];
  return typeof value === 'number' ? value : HTTPExtension_Verb.POST;
}

/**
 * The peer's answer as the app channel would give it: a status of 100 or more is an HTTP
 * app's status (Dapr's `IsHTTPResponse`), anything lower a gRPC app's code, turned into
 * Dapr's HTTP mapping with the status JSON as body for HTTP callers.
 */
function toAppResponse(response: InternalInvokeResponse): AppResponse {
  const code = response.status?.code ?? 0;
  const headers = fromListMap(response.headers);
  const data = response.message?.data;
  const body = data?.value ?? new Uint8Array();
  const contentType = response.message?.contentType ?? '';
  if (code >= 100) {
    return { status: code, headers, body, ...(contentType === '' ? {} : { contentType }) };
  }
  const typeUrl = data?.typeUrl ?? '';
  const trailers = fromListMap(response.trailers);
  if (code === 0) {
    return {
      status: 200,
      headers,
      body,
      ...(contentType === '' ? {} : { contentType }),
      grpcCode: 0,
      trailers,
      ...(typeUrl === '' ? {} : { typeUrl }),
    };
  }
  const message = response.status?.message ?? '';
  const details = response.status?.details ?? [];
  return {
    status: httpStatusFromGrpcCode(code),
    headers,
    body: grpcStatusJson(
      code,
      message,
      details.map((detail) => ({
        type: detail.typeUrl.slice(detail.typeUrl.lastIndexOf('/') + 1),
        value: detail.value,
      })),
    ),
    contentType: 'application/json',
    grpcCode: code,
    grpcMessage: message,
    grpcDetails: details.map((detail) => ({ typeUrl: detail.typeUrl, value: detail.value })),
    trailers,
  };
}
