import type { MetadataRecord } from '../../components/contracts/component.js';
import { isQueryableStore, type StateQueryResponse } from '../../components/contracts/state.js';
import { type Logger, silentLogger } from '../../kernel/logger.js';
import { errorText, isTaprError } from '../../kernel/tapr-error.js';
import { originalStateKey } from './key-prefix.js';
import {
  queryFailed,
  queryUnsupported,
  type StateCaller,
  storeNotConfigured,
  storeNotFound,
} from './state-errors.js';
import { parseStateQuery, StateQueryError } from './state-query.js';
import { type StateHandleContext, StateStoreHandle } from './state-store-handle.js';
import type { QueryStateResult, StateStoreEntry } from './state-types.js';

/** Where the sidecar runs and what it logs to. */
export interface StateServiceOptions {
  readonly appId: string;
  /** `NAMESPACE`, read by the `namespace` key prefix strategy. */
  readonly namespace?: string | undefined;
  readonly logger?: Logger;
}

/**
 * The state building block, shared by the HTTP and gRPC APIs (Dapr keeps this logic twice, in
 * `pkg/api/http` and `pkg/api/grpc`; here it lives once). `open` finds a store for one request
 * and returns a handle for the key-value operations; `query` is the alpha query API.
 */
export class StateService {
  readonly #stores: ReadonlyMap<string, StateStoreEntry>;
  readonly #appId: string;
  readonly #namespace: string | undefined;
  readonly #logger: Logger;
  /** One context per caller, made once: `open` runs on every request. */
  readonly #contexts: Readonly<Record<StateCaller, StateHandleContext>>;

  /** `stores` is read on every call, not copied, so a hot reload that swaps stores is seen. */
  constructor(stores: ReadonlyMap<string, StateStoreEntry>, options: StateServiceOptions) {
    this.#stores = stores;
    this.#appId = options.appId;
    this.#namespace = options.namespace;
    this.#logger = options.logger ?? silentLogger;
    const context = (caller: StateCaller): StateHandleContext => ({
      appId: this.#appId,
      namespace: this.#namespace,
      caller,
      logger: this.#logger,
    });
    this.#contexts = { http: context('http'), grpc: context('grpc') };
  }

  /**
   * Finds a store for a request: Dapr's "not configured" when there are no state stores at all,
   * "not found" for an unknown name. Over HTTP Dapr puts the app id in the ErrorInfo metadata;
   * over gRPC it does not.
   */
  open(storeName: string, caller: StateCaller): StateStoreHandle {
    const entry = this.#find(storeName, caller === 'http' ? this.#appId : undefined);
    return new StateStoreHandle(storeName, entry, this.#contexts[caller]);
  }

  /**
   * Runs a state query (Dapr's QueryStateAlpha1, shared by both APIs in Dapr's universal
   * layer, which reports no app id on lookup errors). `query` is the JSON document as sent.
   * Results carry the app's keys; an empty page has no token, as in Dapr.
   */
  async query(
    storeName: string,
    query: string,
    metadata: MetadataRecord,
    signal: AbortSignal,
  ): Promise<QueryStateResult> {
    const entry = this.#find(storeName, undefined);
    const { store, features, keyPrefix } = entry;
    if (!isQueryableStore(store, features)) throw this.#debug(queryUnsupported(storeName));
    let parsed: ReturnType<typeof parseStateQuery>;
    try {
      parsed = parseStateQuery(
        query,
        keyPrefix.apply('', storeName, { appId: this.#appId, namespace: this.#namespace }),
      );
    } catch (error) {
      if (!(error instanceof StateQueryError)) throw error;
      throw this.#debug(
        queryFailed(storeName, `failed to parse JSON query body: ${error.message}`, error),
      );
    }
    let response: StateQueryResponse;
    try {
      response = await store.query(parsed, metadata, signal);
    } catch (cause) {
      // A store may already answer one of Dapr's errors; Dapr passes those through as they are.
      if (isTaprError(cause)) throw cause;
      throw this.#debug(queryFailed(storeName, errorText(cause), cause));
    }
    if (response.results.length === 0) return { results: [] };
    return {
      results: response.results.map((item) => ({
        key: originalStateKey(item.key),
        data: item.data,
        ...(item.etag ? { etag: item.etag } : {}),
        ...(item.error ? { error: item.error } : {}),
      })),
      ...(response.token ? { token: response.token } : {}),
      ...(response.metadata ? { metadata: response.metadata } : {}),
    };
  }

  #find(storeName: string, appId: string | undefined): StateStoreEntry {
    if (this.#stores.size === 0) throw this.#debug(storeNotConfigured(storeName, appId));
    const entry = this.#stores.get(storeName);
    if (!entry) throw this.#debug(storeNotFound(storeName, appId));
    return entry;
  }

  #debug<E extends Error>(error: E): E {
    this.#logger.debug(error.message);
    return error;
  }
}
