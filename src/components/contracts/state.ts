import type { Component, MetadataRecord } from './component.js';

/** State store features, spelled as Dapr reports them in the metadata API. */
export const StateFeature = {
  ETAG: 'ETAG',
  TRANSACTIONAL: 'TRANSACTIONAL',
  QUERY_API: 'QUERY_API',
  TTL: 'TTL',
  DELETE_WITH_PREFIX: 'DELETE_WITH_PREFIX',
  PARTITION_KEY: 'PARTITION_KEY',
  KEYS_LIKE: 'KEYS_LIKE',
  /**
   * Not declared by components: like Dapr's metadata API, the runtime lists it for every store
   * that has both ETAG and TRANSACTIONAL.
   */
  ACTOR: 'ACTOR',
} as const;

/** A state store feature name. */
export type StateFeature = (typeof StateFeature)[keyof typeof StateFeature];

/** Dapr's concurrency modes; last-write is the default. */
export type StateConcurrency = 'first-write' | 'last-write';
/** Dapr's consistency modes; eventual is the default. */
export type StateConsistency = 'eventual' | 'strong';

/** Reading one key. Keys arrive already prefixed by the runtime (`appid||key`). */
export interface StateGetRequest {
  readonly key: string;
  readonly metadata: MetadataRecord;
  readonly consistency: StateConsistency;
}

/** A stored value; `undefined` from `get` means the key is absent (or expired). */
export interface StateGetResponse {
  /** The value's bytes exactly as saved (JSON text for JSON values). */
  readonly data: Uint8Array;
  readonly etag?: string;
  /** Response metadata, e.g. `ttlExpireTime` (RFC 3339) where the store tracks expiry. */
  readonly metadata?: MetadataRecord;
  readonly contentType?: string;
}

/** Saving one key. */
export interface StateSetRequest {
  readonly key: string;
  /** The value's bytes: JSON text when `isJson` (HTTP API), opaque bytes otherwise (gRPC API). */
  readonly value: Uint8Array;
  /**
   * True when the value came as JSON (Dapr's HTTP API); stores with a JSON column keep it
   * as JSON, others store the bytes. False for gRPC's raw bytes, which Dapr's stores treat as
   * binary.
   */
  readonly isJson: boolean;
  /**
   * Present: save only if the stored ETag matches (else `StateETagError` 'mismatch'). Never
   * empty: the runtime drops an empty ETag, which Dapr's stores read as none.
   */
  readonly etag?: string;
  readonly metadata: MetadataRecord;
  readonly concurrency: StateConcurrency;
  readonly consistency: StateConsistency;
  /**
   * `metadata.ttlInSeconds` parsed by the runtime (only for stores declaring TTL; Dapr's
   * `utils.ParseTTL` rules); -1 means never expire.
   */
  readonly ttlSeconds?: number;
  readonly contentType?: string;
}

/** Deleting one key. */
export interface StateDeleteRequest {
  readonly key: string;
  readonly etag?: string;
  readonly metadata: MetadataRecord;
  readonly concurrency: StateConcurrency;
  readonly consistency: StateConsistency;
}

/** One key of a bulk read; `error` set when that key alone failed. */
export interface BulkGetItem {
  readonly key: string;
  readonly response?: StateGetResponse;
  readonly error?: string;
}

/** One operation of a transaction. */
export type TransactionOperation =
  | { readonly operation: 'upsert'; readonly request: StateSetRequest }
  | { readonly operation: 'delete'; readonly request: StateDeleteRequest };

/** A state store component (`state.*`): the operations every store has. */
export interface StateStore extends Component {
  get(request: StateGetRequest, signal: AbortSignal): Promise<StateGetResponse | undefined>;
  set(request: StateSetRequest, signal: AbortSignal): Promise<void>;
  delete(request: StateDeleteRequest, signal: AbortSignal): Promise<void>;
  /** Native bulk read; when absent the runtime issues parallel `get`s. */
  bulkGet?(requests: readonly StateGetRequest[], signal: AbortSignal): Promise<BulkGetItem[]>;
  /** Native bulk write, used for two items or more; when absent the runtime issues `set`s in parallel. */
  bulkSet?(requests: readonly StateSetRequest[], signal: AbortSignal): Promise<void>;
  /** Native bulk delete, used for two keys or more; when absent the runtime issues `delete`s in parallel. */
  bulkDelete?(requests: readonly StateDeleteRequest[], signal: AbortSignal): Promise<void>;
}

/** A store that runs several operations all or nothing (feature `TRANSACTIONAL`). */
export interface TransactionalStateStore extends StateStore {
  multi(
    operations: readonly TransactionOperation[],
    metadata: MetadataRecord,
    signal: AbortSignal,
  ): Promise<void>;
  /** The most operations one transaction may hold, when the store has a limit. */
  readonly maxTransactionOperations?: number;
}

/** A filter of Dapr's state query language (alpha): EQ, IN, AND, OR over value fields. */
export type StateQueryFilter =
  | { readonly op: 'EQ'; readonly field: string; readonly value: unknown }
  | { readonly op: 'IN'; readonly field: string; readonly values: readonly unknown[] }
  | { readonly op: 'AND'; readonly filters: readonly StateQueryFilter[] }
  | { readonly op: 'OR'; readonly filters: readonly StateQueryFilter[] };

/** A parsed state query; the runtime validates the JSON document into this shape. */
export interface StateQuery {
  readonly filter?: StateQueryFilter;
  readonly sort: readonly { readonly field: string; readonly order: 'ASC' | 'DESC' }[];
  readonly page: { readonly limit?: number; readonly token?: string };
  /** Stored keys start with this prefix (the app's key prefix); results come back without it. */
  readonly keyPrefix: string;
}

/** One query result. */
export interface StateQueryItem {
  /** The stored key (with prefix); the runtime strips the prefix. */
  readonly key: string;
  readonly data: Uint8Array;
  readonly etag?: string;
  readonly error?: string;
}

/** A page of query results. */
export interface StateQueryResponse {
  readonly results: readonly StateQueryItem[];
  /** Token of the next page; absent on the last page. */
  readonly token?: string;
  readonly metadata?: MetadataRecord;
}

/** A store that answers state queries (feature `QUERY_API`). */
export interface QueryableStateStore extends StateStore {
  query(
    query: StateQuery,
    metadata: MetadataRecord,
    signal: AbortSignal,
  ): Promise<StateQueryResponse>;
}

/** Whether a store can run transactions: both the method and the declared feature. */
export function isTransactionalStore(
  store: StateStore,
  features: readonly string[],
): store is TransactionalStateStore {
  return (
    features.includes(StateFeature.TRANSACTIONAL) &&
    typeof (store as Partial<TransactionalStateStore>).multi === 'function'
  );
}

/** Whether a store can answer queries: both the method and the declared feature. */
export function isQueryableStore(
  store: StateStore,
  features: readonly string[],
): store is QueryableStateStore {
  return (
    features.includes(StateFeature.QUERY_API) &&
    typeof (store as Partial<QueryableStateStore>).query === 'function'
  );
}

const STATE_ETAG_ERROR = Symbol.for('tapr.stateETagError');

/** An ETag check failed: the stored ETag differs (`mismatch`) or the given one is malformed (`invalid`). */
export class StateETagError extends Error {
  readonly [STATE_ETAG_ERROR] = true;
  readonly kind: 'mismatch' | 'invalid';

  constructor(kind: 'mismatch' | 'invalid', message?: string) {
    super(
      message ??
        (kind === 'mismatch'
          ? 'possible etag mismatch. error from state store'
          : 'invalid etag value'),
    );
    this.name = 'StateETagError';
    this.kind = kind;
  }
}

/** True for a `StateETagError`, across module copies (no `instanceof`). */
export function isStateETagError(value: unknown): value is StateETagError {
  return typeof value === 'object' && value !== null && STATE_ETAG_ERROR in value;
}
