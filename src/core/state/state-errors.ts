import { isStateETagError } from '../../components/contracts/state.js';
import { GrpcCode } from '../../kernel/grpc-code.js';
import { type ErrorCode, errorText, type TaprError, taprError } from '../../kernel/index.js';

/** Which API a request came through; Dapr's two APIs differ in a few error details. */
export type StateCaller = 'http' | 'grpc';

const RESOURCE_TYPE = 'state';

/**
 * Dapr's "state store X is not configured" (`StateStore(name).NotConfigured`). Dapr sends no
 * ResourceInfo here, and its ErrorInfo carries `appID` only on the HTTP API.
 */
export function storeNotConfigured(storeName: string, appId: string | undefined): TaprError {
  return taprError('ERR_STATE_STORE_NOT_CONFIGURED', { store: storeName }, appIdMetadata(appId));
}

/** Dapr's "state store X is not found", shaped like `storeNotConfigured`. */
export function storeNotFound(storeName: string, appId: string | undefined): TaprError {
  return taprError('ERR_STATE_STORE_NOT_FOUND', { store: storeName }, appIdMetadata(appId));
}

function appIdMetadata(appId: string | undefined): { metadata?: Record<string, string> } {
  return appId ? { metadata: { appID: appId } } : {};
}

/** A key containing `||` (Dapr's `InvalidKeyName`): 400 with BadRequest, ResourceInfo and ErrorInfo. */
export function invalidKeyName(storeName: string, key: string, problem: string): TaprError {
  return taprError(
    'ERR_MALFORMED_REQUEST',
    {},
    {
      message: problem,
      reason: 'DAPR_STATE_ILLEGAL_KEY',
      resource: { type: RESOURCE_TYPE, name: storeName },
      fieldViolations: [{ field: key, description: problem }],
    },
  );
}

/** Dapr's `TransactionsNotSupported`, with its help link to the list of stores. */
export function transactionsNotSupported(storeName: string): TaprError {
  return taprError(
    'ERR_STATE_STORE_NOT_SUPPORTED',
    { store: storeName },
    {
      resource: { type: RESOURCE_TYPE, name: storeName },
      helpLinks: [
        {
          url: 'https://docs.dapr.io/reference/components-reference/supported-state-stores/',
          description: 'Check the list of state stores and the features they support',
        },
      ],
    },
  );
}

/** Dapr's `TooManyTransactionalOps`: 400 with the counts in the ErrorInfo metadata. */
export function tooManyTransactionalOps(storeName: string, count: number, max: number): TaprError {
  return taprError(
    'ERR_STATE_STORE_TOO_MANY_TRANSACTIONS',
    { count, max },
    {
      resource: { type: RESOURCE_TYPE, name: storeName },
      metadata: { currentOpsTransaction: String(count), maxOpsPerTransaction: String(max) },
    },
  );
}

/** Dapr's `QueryUnsupported`: same code as transactions, another reason and gRPC INTERNAL. */
export function queryUnsupported(storeName: string): TaprError {
  return taprError(
    'ERR_STATE_STORE_NOT_SUPPORTED',
    {},
    {
      message: 'state store does not support querying',
      reason: 'DAPR_STATE_QUERYING_NOT_SUPPORTED',
      grpcCode: GrpcCode.INTERNAL,
      resource: { type: RESOURCE_TYPE, name: storeName },
    },
  );
}

/** Dapr's `QueryFailed`: the query could not be parsed or the store failed to run it. */
export function queryFailed(storeName: string, detail: string, cause?: unknown): TaprError {
  return taprError(
    'ERR_STATE_QUERY',
    { store: storeName, detail },
    { resource: { type: RESOURCE_TYPE, name: storeName }, cause },
  );
}

/**
 * Wraps a store failure of a write (save, delete, bulk delete) the way Dapr's APIs do: an ETag
 * mismatch is 409 / ABORTED, a malformed ETag 400 / INVALID_ARGUMENT, anything else the
 * operation's 500 / INTERNAL, all with the component's own text as the detail.
 */
export function writeFailed(
  code: Extract<ErrorCode, 'ERR_STATE_SAVE' | 'ERR_STATE_DELETE' | 'ERR_STATE_BULK_DELETE'>,
  params: Record<string, string>,
  cause: unknown,
): TaprError {
  const detail = errorText(cause);
  if (isStateETagError(cause)) {
    const mismatch = cause.kind === 'mismatch';
    return taprError(
      code,
      { ...params, detail },
      {
        cause,
        httpStatus: mismatch ? 409 : 400,
        grpcCode: mismatch ? GrpcCode.ABORTED : GrpcCode.INVALID_ARGUMENT,
      },
    );
  }
  return taprError(code, { ...params, detail }, { cause });
}
