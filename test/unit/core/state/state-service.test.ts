import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { StateETagError, type StateStore } from '../../../../src/components/contracts/state.js';
import { StateService } from '../../../../src/core/state/state-service.js';
import type { StateStoreEntry } from '../../../../src/core/state/state-types.js';
import { GrpcCode } from '../../../../src/kernel/grpc-code.js';
import {
  entry,
  jsonItem,
  memoryService,
  PlainStore,
  rejectsWith,
  signal,
  text,
} from './fixtures.js';

describe('StateService: finding the store', () => {
  it('answers ERR_STATE_STORE_NOT_CONFIGURED when there is no state store', async () => {
    const state = new StateService(new Map(), { appId: 'app' });
    const error = await rejectsWith(
      Promise.resolve().then(() => state.open('s', 'http')),
      {
        code: 'ERR_STATE_STORE_NOT_CONFIGURED',
        httpStatus: 500,
        grpcCode: GrpcCode.FAILED_PRECONDITION,
        message: 'state store s is not configured',
        reason: 'DAPR_STATE_NOT_CONFIGURED',
      },
    );
    // Dapr sends the app id in the ErrorInfo over HTTP only, and no ResourceInfo.
    assert.deepEqual(error.extras.metadata, { appID: 'app' });
    assert.equal(error.extras.resource, undefined);
    const grpc = await rejectsWith(
      Promise.resolve().then(() => state.open('s', 'grpc')),
      {
        code: 'ERR_STATE_STORE_NOT_CONFIGURED',
      },
    );
    assert.equal(grpc.extras.metadata, undefined);
  });

  it('answers ERR_STATE_STORE_NOT_FOUND for an unknown store', async () => {
    const { state } = memoryService();
    const error = await rejectsWith(
      Promise.resolve().then(() => state.open('nope', 'http')),
      {
        code: 'ERR_STATE_STORE_NOT_FOUND',
        httpStatus: 400,
        grpcCode: GrpcCode.INVALID_ARGUMENT,
        message: 'state store nope is not found',
        reason: 'DAPR_STATE_NOT_FOUND',
      },
    );
    assert.deepEqual(error.extras.metadata, { appID: 'app' });
    await rejectsWith(state.query('nope', '{}', {}, signal), { code: 'ERR_STATE_STORE_NOT_FOUND' });
  });
});

describe('StateService: get, save, delete', () => {
  it('saves under the prefixed key and reads the exact bytes back with an ETag', async () => {
    const { state, memory } = memoryService();
    const store = state.open('store', 'http');
    await store.save([jsonItem('order', '{ "id": 1,  "b": [1, 2] }')], signal);
    const value = await store.get('order', undefined, {}, signal);
    assert.equal(text(value?.data), '{ "id": 1,  "b": [1, 2] }');
    assert.match(value?.etag ?? '', /^[0-9a-f-]{36}$/);
    const raw = await memory.get({ key: 'app||order', metadata: {}, consistency: 'eventual' });
    assert.ok(raw, 'stored under app||order');
    assert.equal(await store.get('missing', 'strong', {}, signal), undefined);
  });

  it('applies the store’s keyPrefix strategy', async () => {
    const { state, memory } = memoryService({
      metadata: { keyPrefix: 'namespace' },
      namespace: 'ns',
    });
    await state.open('store', 'grpc').save([jsonItem('k', '1')], signal);
    assert.ok(await memory.get({ key: 'ns.app||k', metadata: {}, consistency: 'eventual' }));
  });

  it('refuses keys holding || with DAPR_STATE_ILLEGAL_KEY in every operation', async () => {
    const { state } = memoryService();
    const store = state.open('store', 'grpc');
    const expected = {
      code: 'ERR_MALFORMED_REQUEST',
      httpStatus: 400,
      grpcCode: GrpcCode.INVALID_ARGUMENT,
      message: "input key/keyPrefix 'a||b' can't contain '||'",
      reason: 'DAPR_STATE_ILLEGAL_KEY',
    };
    const error = await rejectsWith(store.get('a||b', undefined, {}, signal), expected);
    assert.deepEqual(error.extras.resource, { type: 'state', name: 'store' });
    assert.deepEqual(error.extras.fieldViolations, [
      { field: 'a||b', description: "input key/keyPrefix 'a||b' can't contain '||'" },
    ]);
    await rejectsWith(store.save([jsonItem('a||b', '1')], signal), expected);
    await rejectsWith(store.delete({ key: 'a||b', metadata: {} }, signal), expected);
    await rejectsWith(store.bulkGet(['ok', 'a||b'], 0, {}, signal), expected);
    await rejectsWith(store.bulkDelete([{ key: 'a||b', metadata: {} }], signal), expected);
    await rejectsWith(
      store.transaction([{ operation: 'upsert', request: jsonItem('a||b', '1') }], {}, signal),
      expected,
    );
  });

  it('words an empty key as each of Dapr’s APIs does', async () => {
    const { state } = memoryService();
    const http = await rejectsWith(state.open('store', 'http').save([jsonItem('', '1')], signal), {
      code: 'ERR_MALFORMED_REQUEST',
      httpStatus: 400,
      message: '"key" is a required field',
      reason: null,
    });
    assert.equal(http.extras.fieldViolations, undefined);
    const grpc = await rejectsWith(state.open('store', 'grpc').save([jsonItem('', '1')], signal), {
      code: 'ERR_STATE_SAVE',
      httpStatus: 400,
      grpcCode: GrpcCode.INVALID_ARGUMENT,
      message: 'state key cannot be empty',
    });
    assert.equal(grpc.definition.grpcReason, 'ERR_STATE_SAVE');
  });

  it('answers 409 / ABORTED for an ETag mismatch on save and delete', async () => {
    const { state } = memoryService();
    const store = state.open('store', 'http');
    await store.save([jsonItem('k', '1')], signal);
    await rejectsWith(store.save([jsonItem('k', '2', { etag: 'stale' })], signal), {
      code: 'ERR_STATE_SAVE',
      httpStatus: 409,
      grpcCode: GrpcCode.ABORTED,
      message:
        /^failed saving state in state store store: possible etag mismatch\. error from state store: state etag not match for key=app\|\|k: current=.+, expect=stale$/,
    });
    await rejectsWith(store.delete({ key: 'k', etag: 'stale', metadata: {} }, signal), {
      code: 'ERR_STATE_DELETE',
      httpStatus: 409,
      grpcCode: GrpcCode.ABORTED,
      message: /^failed deleting state with key k: possible etag mismatch/,
    });
    const etag = (await store.get('k', undefined, {}, signal))?.etag;
    await store.save([jsonItem('k', '3', { etag })], signal);
    assert.equal(text((await store.get('k', undefined, {}, signal))?.data), '3');
  });

  it('treats an empty ETag as none, and first-write without one as a mismatch on an existing key', async () => {
    const { state } = memoryService();
    const store = state.open('store', 'http');
    await store.save([jsonItem('k', '1', { etag: '' })], signal);
    await rejectsWith(store.save([jsonItem('k', '2', { concurrency: 'first-write' })], signal), {
      code: 'ERR_STATE_SAVE',
      httpStatus: 409,
      message: /item already exists and no etag was passed/,
    });
    await store.save([jsonItem('new', '2', { concurrency: 'first-write' })], signal);
    await store.delete({ key: 'k', etag: '', metadata: {} }, signal);
    assert.equal(await store.get('k', undefined, {}, signal), undefined);
  });

  it('answers 400 / INVALID_ARGUMENT for an ETag the store finds malformed', async () => {
    const plain = new PlainStore();
    plain.failSet = () => new StateETagError('invalid', 'invalid etag value: not a number');
    const state = new StateService(new Map([['s', entry(plain, ['ETAG'])]]), { appId: 'app' });
    await rejectsWith(state.open('s', 'grpc').save([jsonItem('k', '1', { etag: 'x' })], signal), {
      code: 'ERR_STATE_SAVE',
      httpStatus: 400,
      grpcCode: GrpcCode.INVALID_ARGUMENT,
      message: 'failed saving state in state store s: invalid etag value: not a number',
    });
  });

  it('refuses unknown concurrency or consistency as Dapr’s stores do (500)', async () => {
    const { state } = memoryService();
    const store = state.open('store', 'http');
    await rejectsWith(store.save([jsonItem('k', '1', { concurrency: 'bogus' })], signal), {
      code: 'ERR_STATE_SAVE',
      httpStatus: 500,
      grpcCode: GrpcCode.INTERNAL,
      message: "failed saving state in state store store: unrecognized concurrency model 'bogus'",
    });
    await rejectsWith(store.delete({ key: 'k', consistency: 'weird', metadata: {} }, signal), {
      code: 'ERR_STATE_DELETE',
      httpStatus: 500,
      message: "failed deleting state with key k: unrecognized consistency model 'weird'",
    });
    // Reads ignore an unknown consistency, as Dapr's stores do.
    assert.equal(await store.get('k', 'weird', {}, signal), undefined);
  });

  it('wraps a failing read in ERR_STATE_GET with the store’s text', async () => {
    const plain = new PlainStore();
    plain.failGet = () => new Error('connection refused');
    const state = new StateService(new Map([['s', entry(plain, [])]]), { appId: 'app' });
    await rejectsWith(state.open('s', 'http').get('k', undefined, {}, signal), {
      code: 'ERR_STATE_GET',
      httpStatus: 500,
      grpcCode: GrpcCode.INTERNAL,
      message: 'fail to get k from state store s: connection refused',
    });
  });
});

describe('StateService: TTL and content type', () => {
  it('expires a value after ttlInSeconds and reports ttlExpireTime', async () => {
    const { state, clock } = memoryService();
    const store = state.open('store', 'http');
    await store.save([jsonItem('k', '"v"', { metadata: { ttlInSeconds: '10' } })], signal);
    const value = await store.get('k', undefined, {}, signal);
    assert.equal(
      value?.metadata?.ttlExpireTime,
      new Date(clock.now + 10_000).toISOString().replace(/\.\d+Z$/, 'Z'),
    );
    clock.now += 10_001;
    assert.equal(await store.get('k', undefined, {}, signal), undefined);
    await store.save([jsonItem('k', '"v"', { metadata: { ttlInSeconds: '-1' } })], signal);
    clock.now += 1e9;
    assert.ok(await store.get('k', undefined, {}, signal));
  });

  it('refuses a malformed ttlInSeconds with Dapr’s text, and writes nothing of the call', async () => {
    const { state } = memoryService();
    const store = state.open('store', 'http');
    await rejectsWith(
      store.save(
        [jsonItem('good', '1'), jsonItem('bad', '1', { metadata: { ttlInSeconds: 'soon' } })],
        signal,
      ),
      {
        code: 'ERR_STATE_SAVE',
        httpStatus: 500,
        message:
          'failed saving state in state store store: incorrect value for metadata \'ttlInSeconds\': strconv.ParseInt: parsing "soon": invalid syntax',
      },
    );
    assert.equal(await store.get('good', undefined, {}, signal), undefined);
  });

  it('does not parse ttlInSeconds for a store without TTL, and passes the content type', async () => {
    const plain = new PlainStore();
    const state = new StateService(new Map([['s', entry(plain, [])]]), { appId: 'app' });
    await state
      .open('s', 'grpc')
      .save(
        [jsonItem('k', '1', { metadata: { ttlInSeconds: 'soon', contentType: 'text/plain' } })],
        signal,
      );
    assert.equal(plain.sets[0]?.ttlSeconds, undefined);
    assert.equal(plain.sets[0]?.contentType, 'text/plain');
    assert.equal(plain.sets[0]?.concurrency, 'last-write');
    assert.equal(plain.sets[0]?.consistency, 'eventual');
  });
});

describe('StateService: bulk operations', () => {
  it('reads in bulk with the store’s native call, returning the app’s keys', async () => {
    const { state } = memoryService();
    const store = state.open('store', 'grpc');
    await store.save([jsonItem('a', '1'), jsonItem('b', '"two"')], signal);
    const items = await store.bulkGet(['a', 'b', 'c'], 0, {}, signal);
    assert.deepEqual(
      items.map((i) => [i.key, text(i.data), typeof i.etag]),
      [
        ['a', '1', 'string'],
        ['b', '"two"', 'string'],
        ['c', undefined, 'undefined'],
      ],
    );
    assert.deepEqual(await store.bulkGet([], 0, {}, signal), []);
  });

  it('falls back to parallel gets bounded by parallelism, with per-key errors', async () => {
    const plain = new PlainStore();
    plain.data.set('app||a', Buffer.from('1'));
    plain.failGet = (key) => (key === 'app||bad' ? new Error('boom') : undefined);
    const state = new StateService(new Map([['s', entry(plain, [])]]), { appId: 'app' });
    const keys = ['a', 'bad', 'c', 'd', 'e', 'f'];
    const items = await state.open('s', 'http').bulkGet(keys, 2, { m: '1' }, signal);
    assert.equal(plain.maxInFlight, 2);
    assert.deepEqual(
      items.map((i) => [i.key, text(i.data), i.error]),
      [
        ['a', '1', undefined],
        ['bad', undefined, 'boom'],
        ['c', undefined, undefined],
        ['d', undefined, undefined],
        ['e', undefined, undefined],
        ['f', undefined, undefined],
      ],
    );
    assert.deepEqual(plain.gets[0]?.metadata, { m: '1' });
    plain.maxInFlight = 0;
    await state.open('s', 'http').bulkGet(keys, 0, {}, signal);
    assert.equal(plain.maxInFlight, keys.length);
  });

  it('wraps a failing native bulk read in ERR_STATE_BULK_GET (gRPC UNKNOWN, as Dapr)', async () => {
    const failing = new PlainStore() as PlainStore & Pick<StateStore, 'bulkGet'>;
    failing.bulkGet = async () => {
      throw new Error('cluster down');
    };
    const state = new StateService(new Map([['s', entry(failing, [])]]), { appId: 'app' });
    await rejectsWith(state.open('s', 'grpc').bulkGet(['a'], 0, {}, signal), {
      code: 'ERR_STATE_BULK_GET',
      httpStatus: 500,
      grpcCode: GrpcCode.UNKNOWN,
      message: 'cluster down',
    });
  });

  it('joins the failures of a multi-item save; all ETag failures give 409', async () => {
    const { state } = memoryService();
    const store = state.open('store', 'http');
    await store.save([jsonItem('a', '1'), jsonItem('b', '1')], signal);
    const error = await rejectsWith(
      store.save(
        [jsonItem('a', '2', { etag: 'x' }), jsonItem('b', '2', { etag: 'y' }), jsonItem('c', '2')],
        signal,
      ),
      { code: 'ERR_STATE_SAVE', httpStatus: 409, grpcCode: GrpcCode.ABORTED },
    );
    assert.match(
      error.message,
      /^failed saving state in state store store: possible etag mismatch\. error from state store: possible etag mismatch\. error from state store: state etag not match for key=app\|\|a.*\npossible etag mismatch.*key=app\|\|b/s,
    );
    assert.equal(text((await store.get('c', undefined, {}, signal))?.data), '2');
  });

  it('deletes in bulk, with ERR_STATE_BULK_DELETE on an ETag mismatch', async () => {
    const { state } = memoryService();
    const store = state.open('store', 'grpc');
    await store.save([jsonItem('a', '1'), jsonItem('b', '1')], signal);
    await store.bulkDelete(
      [
        { key: 'a', metadata: {} },
        { key: 'b', metadata: {} },
      ],
      signal,
    );
    assert.equal(await store.get('a', undefined, {}, signal), undefined);
    await store.save([jsonItem('a', '1')], signal);
    await rejectsWith(store.bulkDelete([{ key: 'a', etag: 'nope', metadata: {} }], signal), {
      code: 'ERR_STATE_BULK_DELETE',
      grpcCode: GrpcCode.ABORTED,
      httpStatus: 409,
      message: /^failed deleting state in state store store: possible etag mismatch/,
    });
  });
});

describe('StateService: entries are read live', () => {
  it('sees stores added after construction (hot reload)', async () => {
    const stores = new Map<string, StateStoreEntry>();
    const state = new StateService(stores, { appId: 'app' });
    stores.set('late', entry(new PlainStore(), []));
    await state.open('late', 'http').save([jsonItem('k', '1')], signal);
  });
});
