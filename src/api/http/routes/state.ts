import type { StateService } from '../../../core/state/state-service.js';
import type { BulkStateValue, QueryStateValue } from '../../../core/state/state-types.js';
import { rawJsonValue } from '../json-text.js';
import { type HttpReply, type HttpRoute, metadataFromQuery, NO_CONTENT } from '../route.js';
import { decodeBulkGetBody, decodeSaveBody, decodeTransactionBody } from './state-body.js';

const WRITE = ['POST', 'PUT'] as const;

/**
 * Dapr's state routes: get, save, delete, bulk get, transaction and the alpha query. As in
 * Dapr, the store is looked up before the body is read, so an unknown store answers
 * ERR_STATE_STORE_NOT_FOUND whatever the body holds.
 */
export function stateRoutes(state: StateService): HttpRoute[] {
  const route = (
    methods: HttpRoute['methods'],
    path: string,
    handler: HttpRoute['handler'],
  ): HttpRoute => ({ methods, path, api: 'state', version: path.split('/')[1] ?? 'v1.0', handler });
  return [
    route(['GET'], '/v1.0/state/:store/:key', async ({ params, query, signal }) => {
      const store = state.open(params.store ?? '', 'http');
      const value = await store.get(
        params.key ?? '',
        query.get('consistency') ?? undefined,
        metadataFromQuery(query),
        signal,
      );
      if (!value) return NO_CONTENT;
      // Dapr writes the stored bytes with a JSON content type whatever they hold, the ETag raw
      // (unquoted), and each response metadata entry as a `metadata.<key>` header.
      const headers: Record<string, string> = { 'content-type': 'application/json' };
      if (value.etag !== undefined) headers.etag = value.etag;
      for (const [key, entry] of Object.entries(value.metadata ?? {})) {
        headers[`metadata.${key}`] = entry;
      }
      return { status: 200, headers, body: value.data };
    }),
    route(['DELETE'], '/v1.0/state/:store/:key', async ({ request, params, query, signal }) => {
      const store = state.open(params.store ?? '', 'http');
      // A present If-Match header is the ETag, even empty (which stores read as none).
      const ifMatch = request.headers['if-match'];
      await store.delete(
        {
          key: params.key ?? '',
          etag: ifMatch,
          metadata: metadataFromQuery(query),
          concurrency: query.get('concurrency') ?? undefined,
          consistency: query.get('consistency') ?? undefined,
        },
        signal,
      );
      return NO_CONTENT;
    }),
    route(WRITE, '/v1.0/state/:store', async ({ params, query, body, signal }) => {
      const store = state.open(params.store ?? '', 'http');
      await store.save(decodeSaveBody(await body(), metadataFromQuery(query)), signal);
      return NO_CONTENT;
    }),
    route(WRITE, '/v1.0/state/:store/bulk', async ({ params, query, body, signal }) => {
      const store = state.open(params.store ?? '', 'http');
      const request = decodeBulkGetBody(await body(), metadataFromQuery(query));
      const items = await store.bulkGet(
        request.keys,
        request.parallelism,
        request.metadata,
        signal,
      );
      return rawJson(`[${items.map(bulkItemJson).join(',')}]`);
    }),
    route(WRITE, '/v1.0/state/:store/transaction', async ({ params, query, body, signal }) => {
      const store = state.open(params.store ?? '', 'http');
      // Dapr refuses a store without transactions before it reads the body.
      store.requireTransactions();
      const request = decodeTransactionBody(await body(), metadataFromQuery(query));
      if (request.operations.length === 0) return NO_CONTENT;
      await store.transaction(request.operations, request.metadata, signal);
      return NO_CONTENT;
    }),
    route(WRITE, '/v1.0-alpha1/state/:store/query', async ({ params, query, body, signal }) => {
      const result = await state.query(
        params.store ?? '',
        (await body()).toString('utf8'),
        metadataFromQuery(query),
        signal,
      );
      // Dapr answers an empty page with 204 and no body.
      if (result.results.length === 0) return NO_CONTENT;
      const fields = [`"results":[${result.results.map(queryItemJson).join(',')}]`];
      if (result.token) fields.push(`"token":${JSON.stringify(result.token)}`);
      if (result.metadata && Object.keys(result.metadata).length > 0) {
        fields.push(`"metadata":${JSON.stringify(result.metadata)}`);
      }
      return rawJson(`{${fields.join(',')}}`);
    }),
  ];
}

/** A JSON body written as is: values are embedded raw, so it is built as text. */
function rawJson(text: string): HttpReply {
  return { status: 200, headers: { 'content-type': 'application/json' }, body: text };
}

/** Dapr's `BulkGetResponse`: key, then data, etag, metadata and error, each only when set. */
function bulkItemJson(item: BulkStateValue): string {
  let out = `{"key":${JSON.stringify(item.key)}`;
  if (item.data !== undefined && item.data.length > 0) out += `,"data":${rawJsonValue(item.data)}`;
  if (item.etag !== undefined) out += `,"etag":${JSON.stringify(item.etag)}`;
  if (item.metadata && Object.keys(item.metadata).length > 0) {
    out += `,"metadata":${JSON.stringify(item.metadata)}`;
  }
  if (item.error) out += `,"error":${JSON.stringify(item.error)}`;
  return `${out}}`;
}

/** Dapr's `QueryItem`: key and data always, etag and error when set. */
function queryItemJson(item: QueryStateValue): string {
  let out = `{"key":${JSON.stringify(item.key)},"data":${rawJsonValue(item.data)}`;
  if (item.etag) out += `,"etag":${JSON.stringify(item.etag)}`;
  if (item.error) out += `,"error":${JSON.stringify(item.error)}`;
  return `${out}}`;
}
