import type { MetadataRecord } from '../../components/contracts/component.js';
import {
  isTransactionalStore,
  type StateDeleteRequest,
  StateFeature,
  type StateGetRequest,
  type StateSetRequest,
  type TransactionalStateStore,
  type TransactionOperation,
} from '../../components/contracts/state.js';
import { GrpcCode } from '../../kernel/grpc-code.js';
import type { Logger } from '../../kernel/logger.js';
import { errorText, type TaprError, taprError } from '../../kernel/tapr-error.js';
import { mapLimited, runWrites } from './bulk.js';
import { illegalKeyProblem, type KeyPrefixContext, originalStateKey } from './key-prefix.js';
import {
  invalidKeyName,
  type StateCaller,
  tooManyTransactionalOps,
  transactionsNotSupported,
  writeFailed,
} from './state-errors.js';
import {
  CONTENT_TYPE_METADATA_KEY,
  parseConcurrency,
  parseConsistency,
  parseTtlSeconds,
  readConsistency,
  StateOptionError,
} from './state-options.js';
import type {
  BulkStateValue,
  DeleteStateItem,
  SaveStateItem,
  StateStoreEntry,
  StateTransactionInput,
  StateValue,
} from './state-types.js';

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/** What a handle needs besides its store. */
export interface StateHandleContext extends KeyPrefixContext {
  readonly caller: StateCaller;
  readonly logger: Logger;
}

/**
 * One state store opened for one request: validates keys, applies the key prefix, checks the
 * request options, calls the component and wraps its failures in Dapr's errors. Made by
 * `StateService.open`, which has already answered "not configured" or "not found".
 */
export class StateStoreHandle {
  readonly name: string;
  readonly #entry: StateStoreEntry;
  readonly #context: StateHandleContext;

  constructor(name: string, entry: StateStoreEntry, context: StateHandleContext) {
    this.name = name;
    this.#entry = entry;
    this.#context = context;
  }

  /** Reads one key (Dapr's GetState); undefined when it is missing or expired. */
  async get(
    key: string,
    consistency: string | undefined,
    metadata: MetadataRecord,
    signal: AbortSignal,
  ): Promise<StateValue | undefined> {
    const request: StateGetRequest = {
      key: this.#storedKey(key),
      metadata,
      consistency: readConsistency(consistency),
    };
    try {
      return await this.#entry.store.get(request, signal);
    } catch (cause) {
      throw this.#debug(
        taprError('ERR_STATE_GET', { key, store: this.name, detail: errorText(cause) }, { cause }),
      );
    }
  }

  /**
   * Reads several keys (Dapr's GetBulkState): the store's native bulk read, else parallel gets,
   * at most `parallelism` at once (unbounded when <= 0). A key that fails alone gets its error
   * text in its item; results carry the app's keys, not the stored ones.
   */
  async bulkGet(
    keys: readonly string[],
    parallelism: number,
    metadata: MetadataRecord,
    signal: AbortSignal,
  ): Promise<BulkStateValue[]> {
    if (keys.length === 0) return [];
    const requests: StateGetRequest[] = keys.map((key) => ({
      key: this.#storedKey(key),
      metadata,
      consistency: 'eventual',
    }));
    const { store } = this.#entry;
    if (store.bulkGet) {
      let items: Awaited<ReturnType<NonNullable<typeof store.bulkGet>>>;
      try {
        items = await store.bulkGet(requests, signal);
      } catch (cause) {
        // Dapr's gRPC API returns the store's own error here, which gRPC reports as UNKNOWN.
        throw this.#debug(
          taprError(
            'ERR_STATE_BULK_GET',
            { detail: errorText(cause) },
            { cause, grpcCode: GrpcCode.UNKNOWN },
          ),
        );
      }
      return items.map((item) => {
        const key = originalStateKey(item.key);
        if (item.error !== undefined && item.error !== '') return { key, error: item.error };
        return item.response ? { key, ...item.response } : { key };
      });
    }
    return mapLimited(requests, parallelism, async (request): Promise<BulkStateValue> => {
      const key = originalStateKey(request.key);
      try {
        const response = await store.get(request, signal);
        return response ? { key, ...response } : { key };
      } catch (error) {
        return { key, error: errorText(error) };
      }
    });
  }

  /**
   * Saves values (Dapr's SaveState): one `set` for one item, else the store's native bulk write
   * or parallel `set`s. Every item is checked before anything is written.
   */
  async save(items: readonly SaveStateItem[], signal: AbortSignal): Promise<void> {
    if (items.length === 0) return;
    if (items.length === 1) return this.#saveOne(items[0] as SaveStateItem, signal);
    const keys = items.map((item) => {
      if (item.key === '') throw this.#emptySaveKey();
      return this.#storedKey(item.key);
    });
    const requests = this.#built(
      items.map((item, i) => () => this.#setRequest(item, keys[i] as string)),
      (cause) => writeFailed('ERR_STATE_SAVE', { store: this.name }, cause),
    );
    const { store } = this.#entry;
    try {
      if (requests.length > 1 && store.bulkSet) await store.bulkSet(requests, signal);
      else await runWrites(requests.map((request) => () => store.set(request, signal)));
    } catch (cause) {
      throw this.#debug(writeFailed('ERR_STATE_SAVE', { store: this.name }, cause));
    }
  }

  /**
   * `save` of one item, the common case, with the same checks and errors but without the
   * arrays and closures the general path builds per call (for one item `runWrites` rethrows the
   * store's error as it is, and `#built` wraps a single option problem as done here).
   */
  async #saveOne(item: SaveStateItem, signal: AbortSignal): Promise<void> {
    if (item.key === '') throw this.#emptySaveKey();
    const key = this.#storedKey(item.key);
    let request: StateSetRequest;
    try {
      request = this.#setRequest(item, key);
    } catch (error) {
      if (!(error instanceof StateOptionError)) throw error;
      throw this.#debug(writeFailed('ERR_STATE_SAVE', { store: this.name }, error));
    }
    try {
      await this.#entry.store.set(request, signal);
    } catch (cause) {
      throw this.#debug(writeFailed('ERR_STATE_SAVE', { store: this.name }, cause));
    }
  }

  /** Deletes one key (Dapr's DeleteState); a missing key is not an error. */
  async delete(item: DeleteStateItem, signal: AbortSignal): Promise<void> {
    const key = this.#storedKey(item.key);
    const [request] = this.#built([() => this.#deleteRequest(item, key)], (cause) =>
      writeFailed('ERR_STATE_DELETE', { key: item.key }, cause),
    );
    try {
      await this.#entry.store.delete(request as StateDeleteRequest, signal);
    } catch (cause) {
      throw this.#debug(writeFailed('ERR_STATE_DELETE', { key: item.key }, cause));
    }
  }

  /** Deletes several keys (Dapr's gRPC DeleteBulkState; no HTTP route has it). */
  async bulkDelete(items: readonly DeleteStateItem[], signal: AbortSignal): Promise<void> {
    if (items.length === 0) return;
    const keys = items.map((item) => this.#storedKey(item.key));
    const failed = (cause: unknown): TaprError =>
      writeFailed('ERR_STATE_BULK_DELETE', { store: this.name }, cause);
    const requests = this.#built(
      items.map((item, i) => () => this.#deleteRequest(item, keys[i] as string)),
      failed,
    );
    const { store } = this.#entry;
    try {
      if (requests.length > 1 && store.bulkDelete) await store.bulkDelete(requests, signal);
      else await runWrites(requests.map((request) => () => store.delete(request, signal)));
    } catch (cause) {
      throw this.#debug(failed(cause));
    }
  }

  /** The store as a transactional one, or Dapr's "doesn't support transactions" error. */
  requireTransactions(): TransactionalStateStore {
    const { store, features } = this.#entry;
    if (!isTransactionalStore(store, features)) throw transactionsNotSupported(this.name);
    return store;
  }

  /**
   * Runs upserts and deletes all or nothing (Dapr's ExecuteStateTransaction). Any failure of
   * the store, an ETag mismatch included, is ERR_STATE_TRANSACTION (500), as in both of Dapr's
   * APIs.
   */
  async transaction(
    inputs: readonly StateTransactionInput[],
    metadata: MetadataRecord,
    signal: AbortSignal,
  ): Promise<void> {
    const store = this.requireTransactions();
    if (inputs.length === 0) return;
    const keys = inputs.map(({ operation, request }) => {
      if (operation !== 'upsert' && operation !== 'delete') {
        throw taprError(
          'ERR_NOT_SUPPORTED_STATE_OPERATION',
          { operation },
          // Dapr's gRPC API answers UNIMPLEMENTED (500 in its table) where HTTP answers 400.
          this.#context.caller === 'grpc'
            ? { grpcCode: GrpcCode.UNIMPLEMENTED, httpStatus: 500 }
            : {},
        );
      }
      return this.#storedKey(request.key);
    });
    const max = store.maxTransactionOperations;
    if (max !== undefined && max > 0 && inputs.length > max) {
      throw tooManyTransactionalOps(this.name, inputs.length, max);
    }
    const failed = (cause: unknown): TaprError =>
      taprError('ERR_STATE_TRANSACTION', { detail: errorText(cause) }, { cause });
    const operations = this.#built(
      inputs.map(({ operation, request }, i) => (): TransactionOperation => {
        const key = keys[i] as string;
        return operation === 'upsert'
          ? { operation, request: this.#setRequest(request, key) }
          : { operation: 'delete', request: this.#deleteRequest(request, key) };
      }),
      failed,
    );
    try {
      await store.multi(operations, metadata, signal);
    } catch (cause) {
      throw this.#debug(failed(cause));
    }
  }

  /** The stored key for an app key, or Dapr's illegal-key error for a key holding `||`. */
  #storedKey(key: string): string {
    const problem = illegalKeyProblem(key);
    if (problem !== undefined) throw this.#debug(invalidKeyName(this.name, key, problem));
    return this.#entry.keyPrefix.apply(key, this.name, this.#context);
  }

  /** Dapr's APIs word an empty key differently: HTTP 400 ERR_MALFORMED_REQUEST, gRPC ERR_STATE_SAVE. */
  #emptySaveKey(): TaprError {
    if (this.#context.caller === 'http') {
      return taprError('ERR_MALFORMED_REQUEST', {}, { message: '"key" is a required field' });
    }
    return taprError(
      'ERR_STATE_SAVE',
      {},
      {
        message: 'state key cannot be empty',
        httpStatus: 400,
        grpcCode: GrpcCode.INVALID_ARGUMENT,
      },
    );
  }

  #setRequest(item: SaveStateItem, key: string): StateSetRequest {
    const ttlSeconds = this.#entry.features.includes(StateFeature.TTL)
      ? parseTtlSeconds(item.metadata)
      : undefined;
    const contentType = item.contentType || item.metadata[CONTENT_TYPE_METADATA_KEY] || undefined;
    // Optional fields are added only when set (absent, not undefined), without the temporary
    // objects that spreading `cond ? {x} : {}` makes per request.
    const request: Mutable<StateSetRequest> = {
      key,
      value: item.value,
      isJson: item.isJson,
      metadata: item.metadata,
      concurrency: parseConcurrency(item.concurrency),
      consistency: parseConsistency(item.consistency),
    };
    if (item.etag) request.etag = item.etag;
    if (ttlSeconds !== undefined) request.ttlSeconds = ttlSeconds;
    if (contentType !== undefined) request.contentType = contentType;
    return request;
  }

  #deleteRequest(item: DeleteStateItem, key: string): StateDeleteRequest {
    return {
      key,
      ...(item.etag ? { etag: item.etag } : {}),
      metadata: item.metadata,
      concurrency: parseConcurrency(item.concurrency),
      consistency: parseConsistency(item.consistency),
    };
  }

  /**
   * Builds every request; option problems (a bad TTL or concurrency) are what Dapr's stores
   * would answer, so they fail the whole call as a store error, joined when there are several.
   */
  #built<T>(builders: readonly (() => T)[], wrap: (cause: unknown) => TaprError): T[] {
    const out: T[] = [];
    const problems: StateOptionError[] = [];
    for (const build of builders) {
      try {
        out.push(build());
      } catch (error) {
        if (!(error instanceof StateOptionError)) throw error;
        problems.push(error);
      }
    }
    if (problems.length === 1) throw this.#debug(wrap(problems[0]));
    if (problems.length > 1) {
      throw this.#debug(wrap(new Error(problems.map((p) => p.message).join('\n'))));
    }
    return out;
  }

  #debug(error: TaprError): TaprError {
    this.#context.logger.debug(error.message, { store: this.name, errorCode: error.code });
    return error;
  }
}
