import { GrpcCode } from './grpc-code.js';

/** One public error: Dapr's `ERR_*` code with its HTTP status, gRPC code and message template. */
export interface ErrorDefinition {
  /** Dapr's legacy error code, matched by SDKs (`ERR_STATE_GET`). */
  readonly code: string;
  /** `google.rpc.ErrorInfo` reason where Dapr sends rich errors; absent where it does not. */
  readonly reason?: string;
  /**
   * ErrorInfo reason sent over gRPC only: Dapr's gRPC API builds some errors with
   * `apierrors.Basic`, whose ErrorInfo reason is the `ERR_*` code, while its HTTP API answers
   * the same failure without details.
   */
  readonly grpcReason?: string;
  readonly httpStatus: number;
  readonly grpcCode: GrpcCode;
  /** Whether a caller may retry the same request and expect another outcome. */
  readonly retryable: boolean;
  /** Template with `{name}` placeholders filled from the error's parameters. */
  readonly message: string;
}

const define = <T extends Record<string, Omit<ErrorDefinition, 'code'>>>(
  entries: T,
): { readonly [K in keyof T]: ErrorDefinition & { readonly code: K & string } } => {
  const out: Record<string, ErrorDefinition> = {};
  for (const [code, entry] of Object.entries(entries)) out[code] = { code, ...entry };
  return out as { readonly [K in keyof T]: ErrorDefinition & { readonly code: K & string } };
};

const { OK: _ok, ...G } = GrpcCode;

/**
 * The one catalogue of errors Tapr answers with, shared by the HTTP and gRPC APIs.
 * Codes, statuses and reasons follow Dapr's (see docs/compatibility.md).
 */
export const Errors = define({
  ERROR: { httpStatus: 500, grpcCode: G.UNKNOWN, retryable: false, message: '{detail}' },
  ERR_BAD_REQUEST: {
    httpStatus: 400,
    grpcCode: G.INVALID_ARGUMENT,
    retryable: false,
    message: '{detail}',
  },
  ERR_API_UNIMPLEMENTED: {
    httpStatus: 501,
    grpcCode: G.UNIMPLEMENTED,
    retryable: false,
    message: '{api} is not implemented yet in Tapr',
  },
  ERR_API_DENIED: {
    httpStatus: 403,
    grpcCode: G.PERMISSION_DENIED,
    retryable: false,
    message: 'access to the {api} API is denied by the configuration',
  },
  ERR_BODY_READ: {
    httpStatus: 400,
    grpcCode: G.INVALID_ARGUMENT,
    retryable: false,
    message: 'failed to read request body: {detail}',
  },
  ERR_BODY_TOO_LARGE: {
    httpStatus: 413,
    grpcCode: G.RESOURCE_EXHAUSTED,
    retryable: false,
    message: 'request body exceeds the limit of {limit} bytes',
  },
  ERR_MALFORMED_REQUEST: {
    httpStatus: 400,
    grpcCode: G.INVALID_ARGUMENT,
    retryable: false,
    message: 'failed deserializing HTTP body: {detail}',
  },
  ERR_INTERNAL: { httpStatus: 500, grpcCode: G.INTERNAL, retryable: false, message: '{detail}' },
  ERR_DIRECT_INVOKE: {
    httpStatus: 500,
    grpcCode: G.INTERNAL,
    retryable: true,
    message: '{detail}',
  },
  ERR_HEALTH_NOT_READY: {
    httpStatus: 500,
    grpcCode: G.INTERNAL,
    retryable: true,
    message: 'dapr is not ready',
  },
  ERR_HEALTH_APPID_NOT_MATCH: {
    httpStatus: 500,
    grpcCode: G.INTERNAL,
    retryable: false,
    message: 'dapr app-id does not match',
  },
  ERR_OUTBOUND_HEALTH_NOT_READY: {
    httpStatus: 500,
    grpcCode: G.INTERNAL,
    retryable: true,
    message: 'dapr outbound is not ready',
  },
  ERR_SECRET_STORES_NOT_CONFIGURED: {
    httpStatus: 500,
    grpcCode: G.FAILED_PRECONDITION,
    retryable: false,
    message: 'secret store is not configured',
  },
  ERR_SECRET_STORE_NOT_FOUND: {
    // Dapr answers 401 here; odd, but SDKs and users rely on it.
    httpStatus: 401,
    grpcCode: G.INVALID_ARGUMENT,
    retryable: false,
    message: 'failed finding secret store with key {store}',
  },
  ERR_PERMISSION_DENIED: {
    httpStatus: 403,
    grpcCode: G.PERMISSION_DENIED,
    retryable: false,
    message: 'access denied by policy to get "{key}" from "{store}"',
  },
  ERR_SECRET_GET: {
    httpStatus: 500,
    grpcCode: G.INTERNAL,
    retryable: true,
    message: 'failed getting secret with key {key} from secret store {store}: {detail}',
  },
  ERR_STATE_STORE_NOT_CONFIGURED: {
    reason: 'DAPR_STATE_NOT_CONFIGURED',
    httpStatus: 500,
    grpcCode: G.FAILED_PRECONDITION,
    retryable: false,
    message: 'state store {store} is not configured',
  },
  ERR_STATE_STORE_NOT_FOUND: {
    reason: 'DAPR_STATE_NOT_FOUND',
    httpStatus: 400,
    grpcCode: G.INVALID_ARGUMENT,
    retryable: false,
    message: 'state store {store} is not found',
  },
  ERR_STATE_GET: {
    grpcReason: 'ERR_STATE_GET',
    httpStatus: 500,
    grpcCode: G.INTERNAL,
    retryable: true,
    message: 'fail to get {key} from state store {store}: {detail}',
  },
  ERR_STATE_SAVE: {
    // 409 (gRPC ABORTED) for an ETag mismatch and 400 (INVALID_ARGUMENT) for a malformed ETag.
    grpcReason: 'ERR_STATE_SAVE',
    httpStatus: 500,
    grpcCode: G.INTERNAL,
    retryable: true,
    message: 'failed saving state in state store {store}: {detail}',
  },
  ERR_STATE_DELETE: {
    // 409 (gRPC ABORTED) for an ETag mismatch and 400 (INVALID_ARGUMENT) for a malformed ETag.
    grpcReason: 'ERR_STATE_DELETE',
    httpStatus: 500,
    grpcCode: G.INTERNAL,
    retryable: true,
    message: 'failed deleting state with key {key}: {detail}',
  },
  ERR_STATE_BULK_GET: {
    httpStatus: 500,
    grpcCode: G.INTERNAL,
    retryable: true,
    message: '{detail}',
  },
  ERR_STATE_BULK_DELETE: {
    grpcReason: 'ERR_STATE_BULK_DELETE',
    httpStatus: 500,
    grpcCode: G.INTERNAL,
    retryable: true,
    message: 'failed deleting state in state store {store}: {detail}',
  },
  ERR_STATE_TRANSACTION: {
    grpcReason: 'ERR_STATE_TRANSACTION',
    httpStatus: 500,
    grpcCode: G.INTERNAL,
    retryable: true,
    message: 'error while executing state transaction: {detail}',
  },
  ERR_NOT_SUPPORTED_STATE_OPERATION: {
    // Dapr's gRPC API answers UNIMPLEMENTED for the same request.
    grpcReason: 'ERR_NOT_SUPPORTED_STATE_OPERATION',
    httpStatus: 400,
    grpcCode: G.INVALID_ARGUMENT,
    retryable: false,
    message: 'operation type {operation} not supported',
  },
  ERR_STATE_STORE_NOT_SUPPORTED: {
    // One code, two reasons: DAPR_STATE_QUERYING_NOT_SUPPORTED (gRPC INTERNAL) is set per call.
    reason: 'DAPR_STATE_TRANSACTIONS_NOT_SUPPORTED',
    httpStatus: 500,
    grpcCode: G.UNIMPLEMENTED,
    retryable: false,
    message: "state store {store} doesn't support transactions",
  },
  ERR_STATE_STORE_TOO_MANY_TRANSACTIONS: {
    reason: 'DAPR_STATE_TOO_MANY_TRANSACTIONS',
    httpStatus: 400,
    grpcCode: G.INVALID_ARGUMENT,
    retryable: false,
    message:
      'the transaction contains {count} operations, which is more than what the state store supports: {max}',
  },
  ERR_STATE_QUERY: {
    reason: 'DAPR_STATE_QUERY_FAILED',
    httpStatus: 500,
    grpcCode: G.INTERNAL,
    retryable: true,
    message: 'state store {store} query failed: {detail}',
  },
  ERR_PUBSUB_NOT_CONFIGURED: {
    reason: 'DAPR_PUBSUB_NOT_CONFIGURED',
    httpStatus: 400,
    grpcCode: G.FAILED_PRECONDITION,
    retryable: false,
    message: 'no pubsub is configured',
  },
  ERR_PUBSUB_NOT_FOUND: {
    reason: 'DAPR_PUBSUB_NOT_FOUND',
    httpStatus: 404,
    grpcCode: G.INVALID_ARGUMENT,
    retryable: false,
    message: 'pubsub {pubsub} is not found',
  },
  ERR_PUBSUB_EMPTY: {
    reason: 'DAPR_PUBSUB_NAME_EMPTY',
    httpStatus: 404,
    grpcCode: G.INVALID_ARGUMENT,
    retryable: false,
    message: 'pubsub name is empty',
  },
  ERR_TOPIC_NAME_EMPTY: {
    reason: 'DAPR_PUBSUB_TOPIC_NAME_EMPTY',
    httpStatus: 404,
    grpcCode: G.INVALID_ARGUMENT,
    retryable: false,
    message: 'topic is empty in pubsub {pubsub}',
  },
  ERR_PUBSUB_FORBIDDEN: {
    reason: 'DAPR_PUBSUB_FORBIDDEN',
    httpStatus: 403,
    grpcCode: G.PERMISSION_DENIED,
    retryable: false,
    message: 'topic {topic} is not allowed for app id {appId}',
  },
  ERR_PUBSUB_PUBLISH_MESSAGE: {
    reason: 'DAPR_PUBSUB_PUBLISH_MESSAGE',
    httpStatus: 500,
    grpcCode: G.INTERNAL,
    retryable: true,
    message: 'error when publishing to topic {topic} in pubsub {pubsub}: {detail}',
  },
  ERR_PUBSUB_REQUEST_METADATA: {
    reason: 'DAPR_PUBSUB_METADATA_DESERIALIZATION',
    httpStatus: 400,
    grpcCode: G.INVALID_ARGUMENT,
    retryable: false,
    message: 'failed deserializing metadata. Error: {detail}',
  },
  ERR_PUBSUB_CLOUD_EVENTS_SER: {
    reason: 'DAPR_PUBSUB_CLOUD_EVENT_CREATION',
    httpStatus: 500,
    grpcCode: G.INVALID_ARGUMENT,
    retryable: false,
    message: 'cannot create cloudevent',
  },
  ERR_PUBSUB_EVENTS_SER: {
    reason: 'DAPR_PUBSUB_MARSHAL_EVENTS',
    httpStatus: 400,
    grpcCode: G.INVALID_ARGUMENT,
    retryable: false,
    message: 'error marshaling events to bytes for topic {topic} pubsub {pubsub}. error: {detail}',
  },
  ERR_INVOKE_OUTPUT_BINDING: {
    httpStatus: 500,
    grpcCode: G.INTERNAL,
    retryable: true,
    message: 'error invoking output binding {name}: {detail}',
  },
  ERR_CONFIGURATION_STORE_NOT_CONFIGURED: {
    httpStatus: 500,
    grpcCode: G.FAILED_PRECONDITION,
    retryable: false,
    message: 'configuration stores not configured',
  },
  ERR_LOCK_STORE_NOT_CONFIGURED: {
    httpStatus: 500,
    grpcCode: G.FAILED_PRECONDITION,
    retryable: false,
    message: 'lock store is not configured',
  },
  ERR_ACTOR_RUNTIME_NOT_FOUND: {
    httpStatus: 500,
    grpcCode: G.INTERNAL,
    retryable: false,
    message: 'the state store is not configured to use the actor runtime',
  },
  ERR_COMPONENT_INIT: {
    httpStatus: 500,
    grpcCode: G.INTERNAL,
    retryable: false,
    message: 'component {name} ({type}/{version}) failed to initialize: {detail}',
  },
});

/** A code in the catalogue. */
export type ErrorCode = keyof typeof Errors;
