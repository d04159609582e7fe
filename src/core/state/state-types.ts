import type { MetadataRecord } from '../../components/contracts/component.js';
import type { StateStore } from '../../components/contracts/state.js';
import type { KeyPrefix } from './key-prefix.js';

/** A built state store as the state block sees it; the runtime makes one per component. */
export interface StateStoreEntry {
  readonly store: StateStore;
  /** The features the component declared (Dapr's `Features()`). */
  readonly features: readonly string[];
  /** The component's resolved metadata (`keyPrefix`, `actorStateStore`, ...). */
  readonly metadata: MetadataRecord;
  /** The key prefix strategy read from `metadata` when the component was built. */
  readonly keyPrefix: KeyPrefix;
}

/** One value to save, as an API decoded it; options are Dapr's strings, checked by the core. */
export interface SaveStateItem {
  readonly key: string;
  /** JSON text when `isJson` (HTTP API), the caller's bytes otherwise (gRPC API). */
  readonly value: Uint8Array;
  readonly isJson: boolean;
  /** Compared with the stored ETag; an empty ETag means none, as Dapr's stores read it. */
  readonly etag?: string | undefined;
  readonly metadata: MetadataRecord;
  /** `first-write` or `last-write`; empty or absent is last-write. */
  readonly concurrency?: string | undefined;
  /** `eventual` or `strong`; empty or absent is eventual. */
  readonly consistency?: string | undefined;
  /** The value's content type; `metadata.contentType` when absent. */
  readonly contentType?: string | undefined;
}

/** One key to delete. */
export interface DeleteStateItem {
  readonly key: string;
  readonly etag?: string | undefined;
  readonly metadata: MetadataRecord;
  readonly concurrency?: string | undefined;
  readonly consistency?: string | undefined;
}

/** One operation of a transaction; `request.value` is ignored for `delete`. */
export interface StateTransactionInput {
  /** `upsert` or `delete`; anything else is ERR_NOT_SUPPORTED_STATE_OPERATION. */
  readonly operation: string;
  readonly request: SaveStateItem;
}

/** A value read by key; absent when the key is missing or expired. */
export interface StateValue {
  readonly data: Uint8Array;
  readonly etag?: string;
  readonly metadata?: MetadataRecord;
  readonly contentType?: string;
}

/** One key of a bulk read, under the app's own key; `error` set when only that key failed. */
export interface BulkStateValue {
  readonly key: string;
  /** Absent when the key is missing or failed. */
  readonly data?: Uint8Array;
  readonly etag?: string;
  readonly metadata?: MetadataRecord;
  readonly error?: string;
}

/** One result of a state query, under the app's own key. */
export interface QueryStateValue {
  readonly key: string;
  readonly data: Uint8Array;
  readonly etag?: string;
  readonly error?: string;
}

/** A page of query results; empty `results` carry no token, as in Dapr. */
export interface QueryStateResult {
  readonly results: readonly QueryStateValue[];
  readonly token?: string;
  readonly metadata?: MetadataRecord;
}
