import type { Any } from '@bufbuild/protobuf/wkt';
import { GrpcCode } from '../../../kernel/grpc-code.js';

const GRPC_ERROR = Symbol.for('tapr.grpc-error');

/** A gRPC status other than OK: what a handler or interceptor throws to end a call with it. */
export class GrpcError extends Error {
  readonly [GRPC_ERROR] = true;
  readonly code: GrpcCode;
  /** `google.rpc.Status.details`: sent in the `grpc-status-details-bin` trailer when not empty. */
  readonly details: readonly Any[];

  constructor(code: GrpcCode, message: string, details: readonly Any[] = [], cause?: unknown) {
    super(message, cause === undefined ? {} : { cause });
    this.name = 'GrpcError';
    this.code = code;
    this.details = details;
  }
}

/** True for errors made by `GrpcError`, across module copies (no `instanceof`). */
export function isGrpcError(value: unknown): value is GrpcError {
  return typeof value === 'object' && value !== null && GRPC_ERROR in value;
}

// Go's codes.Code.String() spelling: Dapr's API log shows these names.
const CODE_NAMES = [
  'OK',
  'Canceled',
  'Unknown',
  'InvalidArgument',
  'DeadlineExceeded',
  'NotFound',
  'AlreadyExists',
  'PermissionDenied',
  'ResourceExhausted',
  'FailedPrecondition',
  'Aborted',
  'OutOfRange',
  'Unimplemented',
  'Internal',
  'Unavailable',
  'DataLoss',
  'Unauthenticated',
] as const;

/** The name Go's gRPC gives a status code (`NotFound`), or `Code(n)` for values outside the list. */
export function grpcCodeName(code: number): string {
  return CODE_NAMES[code] ?? `Code(${code})`;
}

/** Narrows a number to a gRPC code; values outside 0..16 become UNKNOWN, as gRPC clients read them. */
export function toGrpcCode(value: number): GrpcCode {
  return Number.isInteger(value) && value >= 0 && value < CODE_NAMES.length
    ? (value as GrpcCode)
    : GrpcCode.UNKNOWN;
}
