import type { StateService } from '../../../core/state/state-service.js';
import type { DeleteStateItem, SaveStateItem } from '../../../core/state/state-types.js';
import {
  type StateItem,
  type StateOptions,
  StateOptions_StateConcurrency,
  StateOptions_StateConsistency,
} from '../../../gen/dapr/proto/common/v1/common_pb.js';
import type { Dapr } from '../../../gen/dapr/proto/runtime/v1/dapr_pb.js';
import { taprError } from '../../../kernel/tapr-error.js';
import type { GrpcServiceImpl } from '../server/types.js';

type StateRpcs =
  | 'getState'
  | 'getBulkState'
  | 'saveState'
  | 'deleteState'
  | 'deleteBulkState'
  | 'executeStateTransaction'
  | 'queryStateAlpha1';

/**
 * The state RPCs. Values travel as bytes: a missing key reads as empty data (not an error) and
 * an absent ETag as an empty string, as in Dapr.
 */
export function stateService(state: StateService): Pick<GrpcServiceImpl<typeof Dapr>, StateRpcs> {
  return {
    async getState(request, { signal }) {
      const store = state.open(request.storeName, 'grpc');
      const value = await store.get(
        request.key,
        consistencyText(request.consistency),
        request.metadata,
        signal,
      );
      return value
        ? { data: value.data, etag: value.etag ?? '', metadata: { ...value.metadata } }
        : {};
    },
    async getBulkState(request, { signal }) {
      const store = state.open(request.storeName, 'grpc');
      const items = await store.bulkGet(
        request.keys,
        request.parallelism,
        request.metadata,
        signal,
      );
      return {
        items: items.map((item) => ({
          key: item.key,
          ...(item.data ? { data: item.data } : {}),
          etag: item.etag ?? '',
          error: item.error ?? '',
          metadata: { ...item.metadata },
        })),
      };
    },
    async saveState(request, { signal }) {
      const store = state.open(request.storeName, 'grpc');
      await store.save(request.states.map(saveItem), signal);
      return {};
    },
    async deleteState(request, { signal }) {
      const store = state.open(request.storeName, 'grpc');
      await store.delete(
        {
          key: request.key,
          etag: request.etag?.value,
          metadata: request.metadata,
          ...optionTexts(request.options),
        },
        signal,
      );
      return {};
    },
    async deleteBulkState(request, { signal }) {
      const store = state.open(request.storeName, 'grpc');
      await store.bulkDelete(request.states.map(deleteItem), signal);
      return {};
    },
    async executeStateTransaction(request, { signal }) {
      const store = state.open(request.storeName, 'grpc');
      // Dapr passes transaction values to the store as bytes, whatever their content type.
      const operations = request.operations.map((op) => ({
        operation: op.operationType,
        request: { ...deleteItem(op.request), value: op.request?.value ?? EMPTY, isJson: false },
      }));
      await store.transaction(operations, request.metadata, signal);
      return {};
    },
    async queryStateAlpha1(request, { signal }) {
      const result = await state.query(request.storeName, request.query, request.metadata, signal);
      return {
        results: result.results.map((item) => ({
          key: item.key,
          data: item.data,
          etag: item.etag ?? '',
          error: item.error ?? '',
        })),
        token: result.token ?? '',
        metadata: { ...result.metadata },
      };
    },
  };
}

const EMPTY = new Uint8Array(0);

/**
 * A SaveState item. Dapr stores the bytes as given, except when `metadata.contentType` is
 * `application/json`: then it decodes them as JSON (a Go decoder error, which gRPC reports as
 * UNKNOWN) and the store keeps them as JSON.
 */
function saveItem(item: StateItem): SaveStateItem {
  const isJson = item.metadata.contentType === 'application/json';
  if (isJson) {
    try {
      JSON.parse(Buffer.from(item.value).toString('utf8'));
    } catch (error) {
      throw taprError('ERROR', { detail: (error as Error).message });
    }
  }
  // Spelled out rather than spread from `deleteItem`: this runs for every saved item, and the
  // spreads cost more than the rest of the mapping (same fields, same order).
  const options = item.options;
  if (!options) {
    return {
      key: item.key,
      etag: item.etag?.value,
      metadata: item.metadata,
      value: item.value,
      isJson,
    };
  }
  return {
    key: item.key,
    etag: item.etag?.value,
    metadata: item.metadata,
    concurrency: concurrencyText(options.concurrency),
    consistency: consistencyText(options.consistency),
    value: item.value,
    isJson,
  };
}

/** The parts of a StateItem every operation uses: key, ETag, metadata and options. */
function deleteItem(item: StateItem | undefined): DeleteStateItem {
  return {
    key: item?.key ?? '',
    etag: item?.etag?.value,
    metadata: item?.metadata ?? {},
    ...optionTexts(item?.options),
  };
}

function optionTexts(options: StateOptions | undefined): {
  concurrency?: string;
  consistency?: string;
} {
  if (!options) return {};
  return {
    concurrency: concurrencyText(options.concurrency),
    consistency: consistencyText(options.consistency),
  };
}

/** Dapr's `stateConcurrencyToString`: unspecified is empty, which stores read as last-write. */
function concurrencyText(value: StateOptions_StateConcurrency): string {
  if (value === StateOptions_StateConcurrency.CONCURRENCY_FIRST_WRITE) return 'first-write';
  if (value === StateOptions_StateConcurrency.CONCURRENCY_LAST_WRITE) return 'last-write';
  return '';
}

/** Dapr's `stateConsistencyToString`: unspecified is empty, which stores read as eventual. */
function consistencyText(value: StateOptions_StateConsistency): string {
  if (value === StateOptions_StateConsistency.CONSISTENCY_EVENTUAL) return 'eventual';
  if (value === StateOptions_StateConsistency.CONSISTENCY_STRONG) return 'strong';
  return '';
}
