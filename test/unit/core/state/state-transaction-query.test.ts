import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { MetadataRecord } from '../../../../src/components/contracts/component.js';
import type {
  QueryableStateStore,
  StateQuery,
  StateQueryResponse,
} from '../../../../src/components/contracts/state.js';
import { InMemoryStateStore } from '../../../../src/components/state/in-memory.js';
import { GrpcCode } from '../../../../src/kernel/grpc-code.js';
import { taprError } from '../../../../src/kernel/tapr-error.js';
import {
  entry,
  jsonItem,
  MEMORY_FEATURES,
  memoryService,
  PlainStore,
  rejectsWith,
  signal,
  text,
} from './fixtures.js';

class LimitedStore extends InMemoryStateStore {
  readonly maxTransactionOperations = 2;
}

describe('StateService: transactions', () => {
  it('applies upserts and deletes together', async () => {
    const { state } = memoryService();
    const store = state.open('store', 'http');
    await store.save([jsonItem('gone', '1')], signal);
    await store.transaction(
      [
        { operation: 'upsert', request: jsonItem('a', '{"n":1}') },
        { operation: 'delete', request: jsonItem('gone', '') },
      ],
      {},
      signal,
    );
    assert.equal(text((await store.get('a', undefined, {}, signal))?.data), '{"n":1}');
    assert.equal(await store.get('gone', undefined, {}, signal), undefined);
    await store.transaction([], {}, signal);
  });

  it('is all or nothing: an ETag mismatch leaves every key as it was (ERR_STATE_TRANSACTION 500)', async () => {
    const { state } = memoryService();
    const store = state.open('store', 'grpc');
    await store.save([jsonItem('b', '"old"')], signal);
    await rejectsWith(
      store.transaction(
        [
          { operation: 'upsert', request: jsonItem('a', '1') },
          { operation: 'upsert', request: jsonItem('b', '"new"', { etag: 'stale' }) },
        ],
        {},
        signal,
      ),
      {
        code: 'ERR_STATE_TRANSACTION',
        httpStatus: 500,
        grpcCode: GrpcCode.INTERNAL,
        message: /^error while executing state transaction: possible etag mismatch/,
      },
    );
    assert.equal(await store.get('a', undefined, {}, signal), undefined);
    assert.equal(text((await store.get('b', undefined, {}, signal))?.data), '"old"');
  });

  it('refuses a store without TRANSACTIONAL with Dapr’s rich error and help link', async () => {
    const { state } = memoryService({ others: { plain: entry(new PlainStore(), ['ETAG']) } });
    const error = await rejectsWith(state.open('plain', 'http').transaction([], {}, signal), {
      code: 'ERR_STATE_STORE_NOT_SUPPORTED',
      httpStatus: 500,
      grpcCode: GrpcCode.UNIMPLEMENTED,
      message: "state store plain doesn't support transactions",
      reason: 'DAPR_STATE_TRANSACTIONS_NOT_SUPPORTED',
    });
    assert.deepEqual(error.extras.resource, { type: 'state', name: 'plain' });
    assert.equal(
      error.extras.helpLinks?.[0]?.url,
      'https://docs.dapr.io/reference/components-reference/supported-state-stores/',
    );
    // A store with multi() but without the declared feature is refused too.
    const undeclared = memoryService({
      others: { quiet: entry(new InMemoryStateStore(Date.now), ['ETAG']) },
    });
    assert.throws(() => undeclared.state.open('quiet', 'grpc').requireTransactions(), {
      message: "state store quiet doesn't support transactions",
    });
  });

  it('refuses operations other than upsert and delete (HTTP 400, gRPC UNIMPLEMENTED)', async () => {
    const { state } = memoryService();
    const ops = [{ operation: 'merge', request: jsonItem('a', '1') }];
    await rejectsWith(state.open('store', 'http').transaction(ops, {}, signal), {
      code: 'ERR_NOT_SUPPORTED_STATE_OPERATION',
      httpStatus: 400,
      grpcCode: GrpcCode.INVALID_ARGUMENT,
      message: 'operation type merge not supported',
    });
    await rejectsWith(state.open('store', 'grpc').transaction(ops, {}, signal), {
      code: 'ERR_NOT_SUPPORTED_STATE_OPERATION',
      grpcCode: GrpcCode.UNIMPLEMENTED,
    });
  });

  it('refuses more operations than the store allows', async () => {
    const { state } = memoryService({
      others: { limited: entry(new LimitedStore(Date.now), MEMORY_FEATURES) },
    });
    const op = { operation: 'upsert', request: jsonItem('a', '1') };
    const error = await rejectsWith(
      state.open('limited', 'http').transaction([op, op, op], {}, signal),
      {
        code: 'ERR_STATE_STORE_TOO_MANY_TRANSACTIONS',
        httpStatus: 400,
        grpcCode: GrpcCode.INVALID_ARGUMENT,
        message:
          'the transaction contains 3 operations, which is more than what the state store supports: 2',
        reason: 'DAPR_STATE_TOO_MANY_TRANSACTIONS',
      },
    );
    assert.deepEqual(error.extras.metadata, {
      currentOpsTransaction: '3',
      maxOpsPerTransaction: '2',
    });
    await state.open('limited', 'http').transaction([op, op], {}, signal);
  });

  it('fails the transaction on a malformed TTL, writing nothing', async () => {
    const { state } = memoryService();
    const store = state.open('store', 'http');
    await rejectsWith(
      store.transaction(
        [
          { operation: 'upsert', request: jsonItem('a', '1') },
          {
            operation: 'upsert',
            request: jsonItem('b', '1', { metadata: { ttlInSeconds: '-5' } }),
          },
        ],
        {},
        signal,
      ),
      {
        code: 'ERR_STATE_TRANSACTION',
        message:
          "error while executing state transaction: incorrect value for metadata 'ttlInSeconds': must be -1 or greater",
      },
    );
    assert.equal(await store.get('a', undefined, {}, signal), undefined);
  });
});

/** A queryable store that records the query and answers from a list. */
class QueryStore extends PlainStore implements QueryableStateStore {
  seen: StateQuery | undefined;
  seenMetadata: MetadataRecord | undefined;
  answer: StateQueryResponse = { results: [] };
  failure: unknown;

  async query(query: StateQuery, metadata: MetadataRecord): Promise<StateQueryResponse> {
    this.seen = query;
    this.seenMetadata = metadata;
    if (this.failure !== undefined) throw this.failure;
    return this.answer;
  }
}

describe('StateService: query', () => {
  function setup() {
    const queryable = new QueryStore();
    const { state } = memoryService({ others: { q: entry(queryable, ['QUERY_API']) } });
    return { state, queryable };
  }

  it('passes the parsed query with the app’s key prefix and strips it from results', async () => {
    const { state, queryable } = setup();
    queryable.answer = {
      results: [
        { key: 'app||k1', data: Buffer.from('{"a":1}'), etag: '3' },
        { key: 'app||k2', data: Buffer.from('{"a":2}') },
      ],
      token: '2',
    };
    const result = await state.query(
      'q',
      '{"filter":{"EQ":{"a":1}},"page":{"limit":2}}',
      { x: '1' },
      signal,
    );
    assert.equal(queryable.seen?.keyPrefix, 'app||');
    assert.deepEqual(queryable.seen?.filter, { op: 'EQ', field: 'a', value: 1 });
    assert.deepEqual(queryable.seenMetadata, { x: '1' });
    assert.deepEqual(
      result.results.map((r) => [r.key, text(r.data), r.etag]),
      [
        ['k1', '{"a":1}', '3'],
        ['k2', '{"a":2}', undefined],
      ],
    );
    assert.equal(result.token, '2');
  });

  it('answers an empty page without a token, as Dapr', async () => {
    const { state, queryable } = setup();
    queryable.answer = { results: [], token: '5', metadata: { a: 'b' } };
    assert.deepEqual(await state.query('q', '{}', {}, signal), { results: [] });
  });

  it('refuses a store without the query API', async () => {
    const { state } = setup();
    const error = await rejectsWith(state.query('store', '{}', {}, signal), {
      code: 'ERR_STATE_STORE_NOT_SUPPORTED',
      httpStatus: 500,
      grpcCode: GrpcCode.INTERNAL,
      message: 'state store does not support querying',
      reason: 'DAPR_STATE_QUERYING_NOT_SUPPORTED',
    });
    assert.deepEqual(error.extras.resource, { type: 'state', name: 'store' });
  });

  it('answers ERR_STATE_QUERY for a malformed query or a failing store', async () => {
    const { state, queryable } = setup();
    const error = await rejectsWith(state.query('q', '{"filter":{"EQ":[]}}', {}, signal), {
      code: 'ERR_STATE_QUERY',
      httpStatus: 500,
      grpcCode: GrpcCode.INTERNAL,
      message:
        'state store q query failed: failed to parse JSON query body: EQ filter must be a map',
      reason: 'DAPR_STATE_QUERY_FAILED',
    });
    assert.deepEqual(error.extras.resource, { type: 'state', name: 'q' });
    queryable.failure = new Error('no index');
    await rejectsWith(state.query('q', '{}', {}, signal), {
      code: 'ERR_STATE_QUERY',
      message: 'state store q query failed: no index',
    });
    queryable.failure = taprError('ERR_STATE_QUERY', { store: 'q', detail: 'custom' });
    await rejectsWith(state.query('q', '{}', {}, signal), {
      code: 'ERR_STATE_QUERY',
      message: 'state store q query failed: custom',
    });
  });
});
