import { GrpcCode, type TaprError, taprError } from '../../kernel/index.js';

const REMOTE_CALL_ERROR = Symbol.for('tapr.remoteCallError');
const POLICY_ERROR = Symbol.for('tapr.invokePolicyError');

/**
 * A sidecar-to-sidecar call that ended with a gRPC status other than OK, or could not be made
 * (UNAVAILABLE). Thrown by `RemoteInvoker` implementations.
 */
export class RemoteCallError extends Error {
  readonly [REMOTE_CALL_ERROR] = true;
  readonly grpcCode: number;
  /**
   * True when the request provably never reached the peer (no connection, or the stream was
   * refused unprocessed), so sending it to another instance cannot run it twice.
   */
  readonly unsent: boolean;

  constructor(
    grpcCode: number,
    message: string,
    options?: { readonly cause?: unknown; readonly unsent?: boolean },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'RemoteCallError';
    this.grpcCode = grpcCode;
    this.unsent = options?.unsent ?? false;
  }
}

/** True for a `RemoteCallError`, across module copies (no `instanceof`). */
export function isRemoteCallError(value: unknown): value is RemoteCallError {
  return typeof value === 'object' && value !== null && REMOTE_CALL_ERROR in value;
}

/** Why a resiliency policy stopped a call before the target answered. */
export type PolicyStop = 'timeout' | 'circuit-open';

/** A call stopped by a resiliency policy: its timeout fired or its circuit breaker is open. */
export class InvokePolicyError extends Error {
  readonly [POLICY_ERROR] = true;
  readonly stop: PolicyStop;

  constructor(stop: PolicyStop, message?: string) {
    // Go's texts, which Dapr puts after "err: " in its invocation errors.
    super(
      message ?? (stop === 'timeout' ? 'context deadline exceeded' : 'circuit breaker is open'),
    );
    this.name = 'InvokePolicyError';
    this.stop = stop;
  }
}

/** True for an `InvokePolicyError`, across module copies. */
export function isInvokePolicyError(value: unknown): value is InvokePolicyError {
  return typeof value === 'object' && value !== null && POLICY_ERROR in value;
}

// grpc-go's code names, as they appear in `rpc error: code = X desc = Y`.
const CODE_NAMES: Readonly<Record<number, string>> = {
  0: 'OK',
  1: 'Canceled',
  2: 'Unknown',
  3: 'InvalidArgument',
  4: 'DeadlineExceeded',
  5: 'NotFound',
  6: 'AlreadyExists',
  7: 'PermissionDenied',
  8: 'ResourceExhausted',
  9: 'FailedPrecondition',
  10: 'Aborted',
  11: 'OutOfRange',
  12: 'Unimplemented',
  13: 'Internal',
  14: 'Unavailable',
  15: 'DataLoss',
  16: 'Unauthenticated',
};

/** A gRPC failure the way Go prints a status error, which Dapr embeds in its messages. */
export function rpcErrorText(code: number, message: string): string {
  return `rpc error: code = ${CODE_NAMES[code] ?? `Code(${code})`} desc = ${message}`;
}

/**
 * Dapr's `ERR_DIRECT_INVOKE` for a failed call: 500 and INTERNAL, `failed to invoke, id: X, err:
 * ...`; 403 when the target's access control denied it (gRPC callers still get INTERNAL, as
 * Dapr's gRPC API answers). Policy timeouts and open breakers keep Dapr's gRPC codes.
 */
export function directInvokeError(targetId: string, cause: unknown): TaprError {
  let detail: string;
  let httpStatus = 500;
  let grpcCode: number = GrpcCode.INTERNAL;
  if (isRemoteCallError(cause)) {
    detail = rpcErrorText(cause.grpcCode, cause.message);
    if (cause.grpcCode === GrpcCode.PERMISSION_DENIED) httpStatus = 403;
  } else if (isInvokePolicyError(cause)) {
    detail = cause.message;
    // Dapr's gRPC API returns these errors as they are: grpc-go turns a deadline into
    // DEADLINE_EXCEEDED and anything else into UNKNOWN.
    grpcCode = cause.stop === 'timeout' ? GrpcCode.DEADLINE_EXCEEDED : GrpcCode.UNKNOWN;
  } else {
    detail = cause instanceof Error ? cause.message : String(cause);
  }
  return taprError(
    'ERR_DIRECT_INVOKE',
    {},
    { message: `failed to invoke, id: ${targetId}, err: ${detail}`, httpStatus, grpcCode, cause },
  );
}

/** The 404 Dapr answers when a request names no app id at all. */
export function noAppIdError(): TaprError {
  return taprError(
    'ERR_DIRECT_INVOKE',
    {},
    {
      message: 'failed getting app id either from the URL path or the header dapr-app-id',
      httpStatus: 404,
      grpcCode: GrpcCode.NOT_FOUND,
    },
  );
}

/** A failure on the receiving side, sent back to the calling sidecar as a plain gRPC status. */
export function localCallError(grpcCode: number, message: string, cause?: unknown): TaprError {
  return taprError('ERR_DIRECT_INVOKE', {}, { message, grpcCode, cause });
}
