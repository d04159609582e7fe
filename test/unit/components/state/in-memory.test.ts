import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createComponent } from '../../../../src/components/contracts/component.js';
import {
  isStateETagError,
  isTransactionalStore,
  type StateSetRequest,
} from '../../../../src/components/contracts/state.js';
import {
  InMemoryStateStore,
  inMemoryStateStore,
} from '../../../../src/components/state/in-memory.js';
import { silentLogger } from '../../../../src/kernel/logger.js';

const signal = new AbortController().signal;

function set(key: string, value: string, extra: Partial<StateSetRequest> = {}): StateSetRequest {
  return {
    key,
    value: Buffer.from(value),
    isJson: true,
    metadata: {},
    concurrency: 'last-write',
    consistency: 'eventual',
    ...extra,
  };
}

const get = (key: string) => ({ key, metadata: {}, consistency: 'eventual' as const });

describe('state.in-memory', () => {
  it('is defined with Dapr’s type and features and ignores unknown metadata', async () => {
    const created = await createComponent(
      inMemoryStateStore,
      { keyPrefix: 'none', actorStateStore: 'true' },
      { name: 'mem', appId: 'a', logger: silentLogger, signal },
    );
    assert.deepEqual(created.features, ['ETAG', 'TRANSACTIONAL', 'TTL']);
    assert.equal(inMemoryStateStore.type, 'state.in-memory');
    assert.ok(isTransactionalStore(created.instance, created.features));
    await created.instance.close();
  });

  it('renews a UUID ETag on every write and keeps a copy of the bytes', async () => {
    const store = new InMemoryStateStore(Date.now);
    const bytes = Buffer.from('"v"');
    await store.set(set('k', '', { value: bytes }), signal);
    bytes.write('X');
    const first = await store.get(get('k'), signal);
    assert.equal(Buffer.from(first?.data ?? []).toString(), '"v"');
    assert.match(
      first?.etag ?? '',
      /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
    );
    await store.set(set('k', '2'), signal);
    assert.notEqual((await store.get(get('k'), signal))?.etag, first?.etag);
    await store.close();
  });

  it('checks ETags with Dapr’s in-memory messages', async () => {
    const store = new InMemoryStateStore(Date.now);
    const mismatch = async (work: Promise<void>, text: string) =>
      assert.rejects(work, (error: unknown) => {
        assert.ok(isStateETagError(error));
        assert.equal(error.kind, 'mismatch');
        assert.equal(error.message, `possible etag mismatch. error from state store: ${text}`);
        return true;
      });
    await mismatch(
      store.set(set('k', '1', { etag: 'e' }), signal),
      'state not exist or expired for key=k',
    );
    await store.set(set('k', '1'), signal);
    const etag = (await store.get(get('k'), signal))?.etag;
    await mismatch(
      store.set(set('k', '2', { etag: 'e' }), signal),
      `state etag not match for key=k: current=${etag}, expect=e`,
    );
    await mismatch(
      store.set(set('k', '2', { concurrency: 'first-write' }), signal),
      'item already exists and no etag was passed',
    );
    await mismatch(
      store.delete(
        { key: 'k', etag: 'e', metadata: {}, concurrency: 'last-write', consistency: 'eventual' },
        signal,
      ),
      `state etag not match for key=k: current=${etag}, expect=e`,
    );
    await store.close();
  });

  it('expires keys after their TTL, for get, bulk get and the sweep', async () => {
    let now = 1_000_000;
    const store = new InMemoryStateStore(() => now);
    await store.set(set('a', '1', { ttlSeconds: 2 }), signal);
    await store.set(set('b', '1', { ttlSeconds: 0 }), signal);
    assert.equal(
      (await store.get(get('a'), signal))?.metadata?.ttlExpireTime,
      '1970-01-01T00:16:42Z',
    );
    assert.equal((await store.get(get('b'), signal))?.metadata, undefined);
    now += 2001;
    assert.equal(await store.get(get('a'), signal), undefined);
    await store.set(set('c', '1', { ttlSeconds: 1 }), signal);
    now += 1001;
    assert.deepEqual(
      await store
        .bulkGet([get('c'), get('b')], signal)
        .then((r) => r.map((i) => [i.key, !!i.response])),
      [
        ['c', false],
        ['b', true],
      ],
    );
    await store.close();
  });

  it('runs transactions all or nothing', async () => {
    const store = new InMemoryStateStore(Date.now);
    await store.set(set('x', '1'), signal);
    await assert.rejects(
      store.multi(
        [
          { operation: 'upsert', request: set('y', '1') },
          {
            operation: 'delete',
            request: {
              key: 'x',
              etag: 'bad',
              metadata: {},
              concurrency: 'last-write',
              consistency: 'eventual',
            },
          },
        ],
        {},
        signal,
      ),
    );
    assert.equal(await store.get(get('y'), signal), undefined);
    assert.ok(await store.get(get('x'), signal));
    await store.multi(
      [
        { operation: 'upsert', request: set('y', '1') },
        {
          operation: 'delete',
          request: { key: 'x', metadata: {}, concurrency: 'last-write', consistency: 'eventual' },
        },
      ],
      {},
      signal,
    );
    assert.ok(await store.get(get('y'), signal));
    assert.equal(await store.get(get('x'), signal), undefined);
    await store.close();
  });

  it('checks each transaction operation against the earlier ones, not the state before', async () => {
    const store = new InMemoryStateStore(Date.now);
    await store.set(set('k', '"old"'), signal);
    const etag = (await store.get(get('k'), signal))?.etag;
    assert.ok(etag);
    // The first upsert replaces the ETag, so the second, carrying the old one, must fail.
    await assert.rejects(
      store.multi(
        [
          { operation: 'upsert', request: set('k', '"first"', { etag }) },
          { operation: 'upsert', request: set('k', '"second"', { etag }) },
        ],
        {},
        signal,
      ),
      isStateETagError,
    );
    assert.equal(Buffer.from((await store.get(get('k'), signal))?.data ?? []).toString(), '"old"');
    // Two first-write creators of one new key in one transaction: the second sees the first.
    await assert.rejects(
      store.multi(
        [
          { operation: 'upsert', request: set('n', '1', { concurrency: 'first-write' }) },
          { operation: 'upsert', request: set('n', '2', { concurrency: 'first-write' }) },
        ],
        {},
        signal,
      ),
      isStateETagError,
    );
    assert.equal(await store.get(get('n'), signal), undefined);
    // A key deleted earlier in the transaction is absent for a later first-write upsert.
    await store.multi(
      [
        {
          operation: 'delete',
          request: { key: 'k', metadata: {}, concurrency: 'last-write', consistency: 'eventual' },
        },
        { operation: 'upsert', request: set('k', '"new"', { concurrency: 'first-write' }) },
      ],
      {},
      signal,
    );
    assert.equal(Buffer.from((await store.get(get('k'), signal))?.data ?? []).toString(), '"new"');
    await store.close();
  });
});
