import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import {
  isStateETagError,
  StateFeature,
  type TransactionalStateStore,
} from '../../../../src/components/contracts/state.js';
import { redisStateStore } from '../../../../src/components/state/redis.js';
import {
  deleteRequest,
  getRequest,
  RedisFixture,
  setRequest,
  signal,
  utf8,
} from './redis-fixture.js';

const fixture = new RedisFixture();
let store: TransactionalStateStore;

before(async () => {
  await fixture.start();
  store = await fixture.store();
});

after(async () => {
  await fixture.stop();
});

/** Asserts that `work` rejects with a StateETagError of the given kind. */
async function rejectsETag(work: Promise<unknown>, kind: 'mismatch' | 'invalid'): Promise<void> {
  await assert.rejects(work, (error: unknown) => {
    assert.ok(isStateETagError(error), `expected StateETagError, got ${String(error)}`);
    assert.equal(error.kind, kind);
    return true;
  });
}

async function read(key: string) {
  return store.get(getRequest(key), signal);
}

describe('state.redis: CRUD and values', () => {
  it('declares Dapr features it implements', () => {
    assert.deepEqual(
      [...redisStateStore.features].sort(),
      [StateFeature.ETAG, StateFeature.TRANSACTIONAL, StateFeature.TTL].sort(),
    );
  });

  it('saves, reads, overwrites and deletes a JSON value with a changing etag', async () => {
    const key = fixture.key('crud');
    assert.equal(await read(key), undefined);
    await store.set(setRequest(key, '{"a":1,"b":"ü"}'), signal);
    const first = await read(key);
    assert.deepEqual(first?.data, utf8('{"a":1,"b":"ü"}'));
    assert.equal(first?.etag, '1');
    await store.set(setRequest(key, '"second"'), signal);
    const second = await read(key);
    assert.deepEqual(second?.data, utf8('"second"'));
    assert.equal(second?.etag, '2');
    assert.equal(second?.metadata, undefined, 'no ttlExpireTime without a TTL');
    await store.delete(deleteRequest(key), signal);
    assert.equal(await read(key), undefined);
    await store.delete(deleteRequest(key), signal); // deleting a missing key succeeds
  });

  it('keeps binary values byte-exact, including 1 MiB', async () => {
    const every = Uint8Array.from({ length: 256 }, (_, index) => index);
    const big = new Uint8Array(randomBytes(1024 * 1024));
    const empty = new Uint8Array(0);
    for (const [name, value] of [
      ['bytes', every],
      ['big', big],
      ['empty', empty],
    ] as const) {
      const key = fixture.key(`binary-${name}`);
      await store.set(setRequest(key, value), signal);
      const got = await read(key);
      assert.ok(got, name);
      assert.equal(got.data.byteLength, value.byteLength, name);
      assert.ok(Buffer.from(got.data).equals(Buffer.from(value)), name);
    }
  });

  it('rejects an aborted signal before sending', async () => {
    const controller = new AbortController();
    controller.abort(new Error('stop'));
    await assert.rejects(store.get(getRequest(fixture.key('abort')), controller.signal), /stop/);
    await assert.rejects(
      store.set(setRequest(fixture.key('abort'), 'x'), controller.signal),
      /stop/,
    );
    assert.equal(await read(fixture.key('abort')), undefined);
  });
});

describe('state.redis: etags and concurrency', () => {
  it('fails set and delete with a stale etag and keeps the value', async () => {
    const key = fixture.key('etag');
    await store.set(setRequest(key, '"v1"'), signal);
    await store.set(setRequest(key, '"v2"'), signal);
    await rejectsETag(store.set(setRequest(key, '"v3"', { etag: '1' }), signal), 'mismatch');
    await rejectsETag(store.delete(deleteRequest(key, '1'), signal), 'mismatch');
    assert.deepEqual((await read(key))?.data, utf8('"v2"'));
    await store.set(setRequest(key, '"v3"', { etag: '2' }), signal);
    assert.equal((await read(key))?.etag, '3');
    await store.delete(deleteRequest(key, '3'), signal);
    assert.equal(await read(key), undefined);
  });

  it('reads an etag the way Dapr parses it (strconv.Atoi) and rejects malformed ones', async () => {
    const key = fixture.key('etag-format');
    await store.set(setRequest(key, '"v"'), signal);
    await store.set(setRequest(key, '"w"', { etag: '001' }), signal);
    assert.equal((await read(key))?.etag, '2');
    for (const bad of ['abc', '1.5', '0x1', '99999999999999999999']) {
      await rejectsETag(store.set(setRequest(key, '"x"', { etag: bad }), signal), 'invalid');
      await rejectsETag(store.delete(deleteRequest(key, bad), signal), 'invalid');
    }
    assert.deepEqual((await read(key))?.data, utf8('"w"'));
  });

  it('first-write: creates once, then needs the current etag', async () => {
    const key = fixture.key('first-write');
    const firstWrite = { concurrency: 'first-write' } as const;
    await store.set(setRequest(key, '"one"', firstWrite), signal);
    await rejectsETag(store.set(setRequest(key, '"two"', firstWrite), signal), 'mismatch');
    // Dapr's script also refuses a later last-write without etag on a first-write key.
    await rejectsETag(store.set(setRequest(key, '"two"'), signal), 'mismatch');
    await store.set(setRequest(key, '"two"', { ...firstWrite, etag: '1' }), signal);
    await rejectsETag(
      store.set(setRequest(key, '"three"', { ...firstWrite, etag: '1' }), signal),
      'mismatch',
    );
    const got = await read(key);
    assert.deepEqual(got?.data, utf8('"two"'));
    assert.equal(got?.etag, '2');
  });

  it('lets exactly one of many concurrent writers with the same etag win', async () => {
    const key = fixture.key('race');
    await store.set(setRequest(key, '"start"'), signal);
    const other = await fixture.store();
    const writers = Array.from({ length: 20 }, (_, index) =>
      (index % 2 ? other : store).set(setRequest(key, `"w${index}"`, { etag: '1' }), signal),
    );
    const results = await Promise.allSettled(writers);
    const won = results.filter((result) => result.status === 'fulfilled');
    assert.equal(won.length, 1);
    for (const result of results) {
      if (result.status === 'rejected') assert.ok(isStateETagError(result.reason));
    }
    assert.equal((await read(key))?.etag, '2');
  });

  it('lets exactly one concurrent first-write creator win', async () => {
    const key = fixture.key('race-first');
    const other = await fixture.store();
    const results = await Promise.allSettled(
      Array.from({ length: 10 }, (_, index) =>
        (index % 2 ? other : store).set(
          setRequest(key, `"c${index}"`, { concurrency: 'first-write' }),
          signal,
        ),
      ),
    );
    assert.equal(results.filter((result) => result.status === 'fulfilled').length, 1);
  });
});

describe('state.redis: bulk', () => {
  it('sets, reads and deletes 1,000 keys', async () => {
    const keys = Array.from({ length: 1000 }, (_, index) => fixture.key(`bulk-${index}`));
    await store.bulkSet?.(
      keys.map((key, index) => setRequest(key, `{"n":${index}}`)),
      signal,
    );
    const missing = fixture.key('bulk-missing');
    const items = (await store.bulkGet?.([...keys, missing].map(getRequest), signal)) ?? [];
    assert.equal(items.length, 1001);
    items.slice(0, 1000).forEach((item, index) => {
      assert.equal(item.key, keys[index]);
      assert.deepEqual(item.response?.data, utf8(`{"n":${index}}`));
      assert.equal(item.response?.etag, '1');
    });
    assert.deepEqual(items[1000], { key: missing });
    await store.bulkDelete?.(
      keys.map((key) => deleteRequest(key)),
      signal,
    );
    const after = (await store.bulkGet?.(keys.map(getRequest), signal)) ?? [];
    assert.ok(after.every((item) => item.response === undefined && item.error === undefined));
  });

  it('reports a stale etag in a bulk set while saving the other keys (Dapr semantics)', async () => {
    const [a, b] = [fixture.key('bulk-etag-a'), fixture.key('bulk-etag-b')];
    await store.set(setRequest(a, '"a1"'), signal);
    await store.set(setRequest(a, '"a2"'), signal);
    await rejectsETag(
      store.bulkSet?.([setRequest(a, '"a3"', { etag: '1' }), setRequest(b, '"b1"')], signal) ??
        Promise.resolve(),
      'mismatch',
    );
    assert.deepEqual((await read(a))?.data, utf8('"a2"'));
    assert.deepEqual((await read(b))?.data, utf8('"b1"'));
    await rejectsETag(
      store.bulkDelete?.([deleteRequest(a, '1'), deleteRequest(b)], signal) ?? Promise.resolve(),
      'mismatch',
    );
    assert.equal(await read(b), undefined);
  });
});

describe('state.redis: transactions', () => {
  it('commits upserts and deletes together, in order', async () => {
    const a = fixture.key('tx-a');
    const b = fixture.key('tx-b');
    const c = fixture.key('tx-c');
    await store.set(setRequest(c, '"c"'), signal);
    await store.multi(
      [
        { operation: 'upsert', request: setRequest(a, '"a1"') },
        { operation: 'upsert', request: setRequest(a, '"a2"', { etag: '1' }) },
        { operation: 'upsert', request: setRequest(b, new Uint8Array([0, 255])) },
        { operation: 'delete', request: deleteRequest(c, '1') },
      ],
      {},
      signal,
    );
    const gotA = await read(a);
    assert.deepEqual(gotA?.data, utf8('"a2"'));
    assert.equal(gotA?.etag, '2');
    assert.deepEqual((await read(b))?.data, new Uint8Array([0, 255]));
    assert.equal(await read(c), undefined);
  });

  it('rolls back every operation when one etag check fails', async () => {
    const a = fixture.key('rb-a');
    const b = fixture.key('rb-b');
    const c = fixture.key('rb-c');
    await store.set(setRequest(a, '"a"'), signal);
    await store.set(setRequest(b, '"b"'), signal);
    // A stale etag in the last operation undoes the three before it.
    await rejectsETag(
      store.multi(
        [
          { operation: 'upsert', request: setRequest(a, '"a-new"') },
          { operation: 'delete', request: deleteRequest(b) },
          { operation: 'upsert', request: setRequest(c, '"c"', { ttlSeconds: 60 }) },
          { operation: 'upsert', request: setRequest(a, '"late"', { etag: '1' }) },
        ],
        {},
        signal,
      ),
      'mismatch',
    );
    // The second first-write upsert of b conflicts with the first one of the same transaction.
    const firstWrite = { concurrency: 'first-write' } as const;
    await rejectsETag(
      store.multi(
        [
          { operation: 'upsert', request: setRequest(a, '"a-new"') },
          { operation: 'upsert', request: setRequest(b, '"b2"', firstWrite) },
          { operation: 'upsert', request: setRequest(b, '"b3"', firstWrite) },
        ],
        {},
        signal,
      ),
      'mismatch',
    );
    // A malformed etag is refused before anything is sent.
    await rejectsETag(
      store.multi(
        [
          { operation: 'upsert', request: setRequest(c, '"c"') },
          { operation: 'upsert', request: setRequest(a, '"x"', { etag: 'abc' }) },
        ],
        {},
        signal,
      ),
      'invalid',
    );
    const gotA = await read(a);
    assert.deepEqual(gotA?.data, utf8('"a"'));
    assert.equal(gotA?.etag, '1');
    assert.deepEqual((await read(b))?.data, utf8('"b"'));
    assert.equal(await fixture.raw.hexists(b, 'first-write'), 0);
    assert.equal(await read(c), undefined);
    assert.equal(await fixture.raw.exists(a, b, c), 2);
  });

  it('accepts an empty transaction', async () => {
    await store.multi([], {}, signal);
  });
});
