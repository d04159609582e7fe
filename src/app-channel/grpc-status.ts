import { create, createRegistry, fromBinary, toJsonString } from '@bufbuild/protobuf';
import { type Any, AnySchema } from '@bufbuild/protobuf/wkt';
import { StatusSchema } from '../gen/dapr/proto/internals/v1/status_pb.js';
import { file_google_rpc_error_details } from '../gen/google/rpc/error_details_pb.js';
import { GrpcCode } from '../kernel/index.js';

// Dapr's gRPC -> HTTP table for invocation results (pkg/messaging/v1/util.go).
const HTTP_STATUS_BY_GRPC_CODE: Readonly<Record<number, number>> = {
  [GrpcCode.OK]: 200,
  [GrpcCode.CANCELLED]: 408,
  [GrpcCode.UNKNOWN]: 500,
  [GrpcCode.INVALID_ARGUMENT]: 400,
  [GrpcCode.DEADLINE_EXCEEDED]: 504,
  [GrpcCode.NOT_FOUND]: 404,
  [GrpcCode.ALREADY_EXISTS]: 409,
  [GrpcCode.PERMISSION_DENIED]: 403,
  [GrpcCode.UNAUTHENTICATED]: 401,
  [GrpcCode.RESOURCE_EXHAUSTED]: 429,
  [GrpcCode.FAILED_PRECONDITION]: 400,
  [GrpcCode.ABORTED]: 409,
  [GrpcCode.OUT_OF_RANGE]: 400,
  [GrpcCode.UNIMPLEMENTED]: 501,
  [GrpcCode.INTERNAL]: 500,
  [GrpcCode.UNAVAILABLE]: 503,
  [GrpcCode.DATA_LOSS]: 500,
};

/** The HTTP status Dapr reports for a gRPC code (500 for codes it does not know). */
export function httpStatusFromGrpcCode(code: number): number {
  return HTTP_STATUS_BY_GRPC_CODE[code] ?? 500;
}

// The detail messages Dapr's own JSON rendering can expand (google.rpc.*).
const detailRegistry = createRegistry(file_google_rpc_error_details);

/** An error detail as it came off the wire: a fully qualified message name and its bytes. */
export interface WireDetail {
  readonly type: string;
  readonly value: Uint8Array;
}

/**
 * The JSON body Dapr answers an HTTP caller with when a gRPC app fails: the protojson of
 * `{code, message, details}` with the gRPC code. Details of types we cannot decode are left
 * out, where Dapr would fail the whole call.
 */
export function grpcStatusJson(
  code: number,
  message: string,
  details: readonly WireDetail[] = [],
): Uint8Array {
  const known: Any[] = [];
  for (const detail of details) {
    if (detailRegistry.getMessage(detail.type) === undefined) continue;
    known.push(
      create(AnySchema, { typeUrl: `type.googleapis.com/${detail.type}`, value: detail.value }),
    );
  }
  const status = create(StatusSchema, { code, message, details: known });
  return new TextEncoder().encode(toJsonString(StatusSchema, status, { registry: detailRegistry }));
}

/** A `google.rpc.Status` as read from `grpc-status-details-bin`. */
export interface DecodedStatus {
  readonly code: number;
  readonly message: string;
  readonly details: readonly WireDetail[];
}

/**
 * Reads `grpc-status-details-bin` (base64, padded or not) as grpc-go and connect do: when it
 * decodes, its code, message and details describe the failure. Undefined when it does not.
 */
export function decodeStatusDetails(value: string | undefined): DecodedStatus | undefined {
  if (value === undefined || value === '') return undefined;
  try {
    const status = fromBinary(StatusSchema, Buffer.from(value, 'base64'));
    return {
      code: status.code,
      message: status.message,
      details: status.details.map((detail) => ({
        type: detail.typeUrl.slice(detail.typeUrl.lastIndexOf('/') + 1),
        value: detail.value,
      })),
    };
  } catch {
    return undefined;
  }
}
