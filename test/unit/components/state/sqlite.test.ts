import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  isStateETagError,
  type TransactionalStateStore,
} from '../../../../src/components/contracts/state.js';
import { sqliteStateStore } from '../../../../src/components/state/sqlite.js';
import {
  deleteRequest,
  getRequest,
  openStore,
  rawDriver,
  setRequest,
  signal,
  tempDir,
  text,
  waitFor,
} from './sqlite-fixture.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

function isMismatch(error: unknown): boolean {
  return isStateETagError(error) && error.kind === 'mismatch';
}

let dir = '';
let cleanup: () => Promise<void> = async () => {};
let file = '';
let store: TransactionalStateStore;

before(async () => {
  ({ dir, cleanup } = await tempDir());
  file = join(dir, 'state.db');
  store = await openStore({ connectionString: file });
});

after(async () => {
  await store?.close();
  await cleanup();
});

describe('state.sqlite', () => {
  it('declares the features it implements', () => {
    assert.deepEqual([...sqliteStateStore.features], ['ETAG', 'TRANSACTIONAL', 'TTL']);
  });

  it('saves, reads and deletes a JSON value', async () => {
    await store.set(setRequest('app||crud', '{"n":1}'), signal);
    const got = await store.get(getRequest('app||crud'), signal);
    assert.equal(text(got?.data), '{"n":1}');
    assert.match(got?.etag ?? '', UUID);
    assert.equal(got?.metadata, undefined);
    await store.delete(deleteRequest('app||crud'), signal);
    assert.equal(await store.get(getRequest('app||crud'), signal), undefined);
    // Deleting a missing key without an ETag is not an error.
    await store.delete(deleteRequest('app||crud'), signal);
  });

  it('returns JSON text and binary values byte for byte', async () => {
    const json = '\uFEFF{ "z": [1, 2.50, {"é": "😀"}],\n  "a": null }';
    await store.set(setRequest('app||json', json), signal);
    assert.equal(text((await store.get(getRequest('app||json'), signal))?.data), json);
    const raw = await store.get(getRequest('app||json'), signal);
    assert.deepEqual(Buffer.from(raw?.data ?? []), Buffer.from(json, 'utf8'));

    const every = Uint8Array.from({ length: 256 }, (_, index) => index);
    await store.set(setRequest('app||bytes', every), signal);
    assert.deepEqual(
      Buffer.from((await store.get(getRequest('app||bytes'), signal))?.data ?? []),
      Buffer.from(every),
    );
    await store.set(setRequest('app||empty', new Uint8Array()), signal);
    assert.equal((await store.get(getRequest('app||empty'), signal))?.data.length, 0);

    // Bytes flagged as JSON that are not UTF-8 are kept as binary rather than mangled.
    const notUtf8 = Uint8Array.of(0x7b, 0xff, 0xfe, 0x7d);
    await store.set({ ...setRequest('app||bad-utf8', notUtf8), isJson: true }, signal);
    assert.deepEqual(
      Buffer.from((await store.get(getRequest('app||bad-utf8'), signal))?.data ?? []),
      Buffer.from(notUtf8),
    );
  });

  it('round-trips 1 MiB values', async () => {
    const big = randomBytes(1024 * 1024);
    await store.set(setRequest('app||big', big), signal);
    assert.ok(
      Buffer.from((await store.get(getRequest('app||big'), signal))?.data ?? []).equals(big),
    );
    const bigJson = JSON.stringify('x'.repeat(1024 * 1024));
    await store.set(setRequest('app||big-json', bigJson), signal);
    assert.equal(text((await store.get(getRequest('app||big-json'), signal))?.data), bigJson);
  });

  it('returns a new ETag on every write and checks it on set and delete', async () => {
    await store.set(setRequest('app||etag', '1'), signal);
    const first = (await store.get(getRequest('app||etag'), signal))?.etag ?? '';
    await store.set(setRequest('app||etag', '2', { etag: first }), signal);
    const second = (await store.get(getRequest('app||etag'), signal))?.etag ?? '';
    assert.match(second, UUID);
    assert.notEqual(second, first);

    await assert.rejects(
      store.set(setRequest('app||etag', '3', { etag: first }), signal),
      isMismatch,
    );
    await assert.rejects(store.delete(deleteRequest('app||etag', first), signal), isMismatch);
    // Dapr's SQLite store compares ETags as text, so a malformed one is a mismatch too
    // (its conformance suite expects ETagMismatch for "bad-etag"), never 'invalid'.
    await assert.rejects(
      store.set(setRequest('app||etag', '3', { etag: 'not-a-uuid' }), signal),
      isMismatch,
    );
    await assert.rejects(
      store.delete(deleteRequest('app||etag', 'not-a-uuid'), signal),
      isMismatch,
    );
    assert.equal(text((await store.get(getRequest('app||etag'), signal))?.data), '2');
    // An ETag on a missing key is a mismatch as well.
    await assert.rejects(
      store.set(setRequest('app||etag-missing', '1', { etag: second }), signal),
      isMismatch,
    );
    await store.delete(deleteRequest('app||etag', second), signal);
    assert.equal(await store.get(getRequest('app||etag'), signal), undefined);
  });

  it('applies first-write: insert only when absent, an ETag otherwise', async () => {
    const firstWrite = { concurrency: 'first-write' } as const;
    await store.set(setRequest('app||fw', '1', firstWrite), signal);
    await assert.rejects(store.set(setRequest('app||fw', '2', firstWrite), signal), isMismatch);
    const etag = (await store.get(getRequest('app||fw'), signal))?.etag ?? '';
    await store.set(setRequest('app||fw', '2', { ...firstWrite, etag }), signal);
    assert.equal(text((await store.get(getRequest('app||fw'), signal))?.data), '2');
    // An empty ETag counts as none, as in Dapr.
    await assert.rejects(
      store.set(setRequest('app||fw', '3', { ...firstWrite, etag: '' }), signal),
      isMismatch,
    );
  });

  it('lets exactly one of two connections win a race on the same ETag', async () => {
    const other = await openStore({ connectionString: file });
    try {
      let wins = 0;
      for (let round = 0; round < 20; round++) {
        await store.set(setRequest('app||race', `${round}`), signal);
        const etag = (await store.get(getRequest('app||race'), signal))?.etag ?? '';
        const results = await Promise.allSettled([
          store.set(setRequest('app||race', '"a"', { etag }), signal),
          other.set(setRequest('app||race', '"b"', { etag }), signal),
        ]);
        const won = results.filter((result) => result.status === 'fulfilled').length;
        assert.equal(won, 1, `round ${round}: ${won} writers won`);
        for (const result of results) {
          if (result.status === 'rejected') assert.ok(isMismatch(result.reason));
        }
        wins += won;
      }
      assert.equal(wins, 20);
    } finally {
      await other.close();
    }
  });

  it('bulk-saves, reads and deletes 1,000 keys', async () => {
    const keys = Array.from({ length: 1000 }, (_, index) => `app||bulk-${index}`);
    await store.bulkSet?.(
      keys.map((key, index) => setRequest(key, `{"i":${index}}`)),
      signal,
    );
    const items =
      (await store.bulkGet?.(
        [...keys, 'app||bulk-missing'].map((key) => getRequest(key)),
        signal,
      )) ?? [];
    assert.equal(items.length, 1001);
    items.slice(0, 1000).forEach((item, index) => {
      assert.equal(item.key, keys[index]);
      assert.equal(text(item.response?.data), `{"i":${index}}`);
      assert.match(item.response?.etag ?? '', UUID);
    });
    assert.deepEqual(items[1000], { key: 'app||bulk-missing' });

    await store.bulkDelete?.(
      keys.map((key) => deleteRequest(key)),
      signal,
    );
    const gone =
      (await store.bulkGet?.(
        keys.map((key) => getRequest(key)),
        signal,
      )) ?? [];
    assert.ok(gone.every((item) => item.response === undefined));
  });

  it('applies the rest of a bulk write when one key fails its ETag, as Dapr does', async () => {
    await store.bulkSet?.([setRequest('app||b1', '1'), setRequest('app||b2', '1')], signal);
    const etag2 = (await store.get(getRequest('app||b2'), signal))?.etag ?? '';
    await assert.rejects(
      store.bulkSet?.(
        [
          setRequest('app||b1', '2', { etag: 'bad-etag' }),
          setRequest('app||b2', '2', { etag: etag2 }),
        ],
        signal,
      ) ?? Promise.resolve(),
      (error: unknown) => isMismatch(error) && /app\|\|b1/.test((error as Error).message),
    );
    assert.equal(text((await store.get(getRequest('app||b1'), signal))?.data), '1');
    assert.equal(text((await store.get(getRequest('app||b2'), signal))?.data), '2');

    await assert.rejects(
      store.bulkDelete?.(
        [deleteRequest('app||b1'), deleteRequest('app||b2', 'bad-etag')],
        signal,
      ) ?? Promise.resolve(),
      isMismatch,
    );
    assert.equal(await store.get(getRequest('app||b1'), signal), undefined);
    assert.ok(await store.get(getRequest('app||b2'), signal));
  });

  it('commits a transaction, and rolls all of it back when one operation fails', async () => {
    await store.set(setRequest('app||tx-del', '0'), signal);
    await store.multi(
      [
        { operation: 'upsert', request: setRequest('app||tx-a', '"a"') },
        { operation: 'upsert', request: setRequest('app||tx-b', Uint8Array.of(1, 2)) },
        { operation: 'delete', request: deleteRequest('app||tx-del') },
      ],
      {},
      signal,
    );
    assert.equal(text((await store.get(getRequest('app||tx-a'), signal))?.data), '"a"');
    assert.deepEqual([...((await store.get(getRequest('app||tx-b'), signal))?.data ?? [])], [1, 2]);
    assert.equal(await store.get(getRequest('app||tx-del'), signal), undefined);

    const etagA = (await store.get(getRequest('app||tx-a'), signal))?.etag ?? '';
    await assert.rejects(
      store.multi(
        [
          { operation: 'upsert', request: setRequest('app||tx-a', '"changed"', { etag: etagA }) },
          { operation: 'delete', request: deleteRequest('app||tx-b') },
          { operation: 'upsert', request: setRequest('app||tx-c', '"new"') },
          { operation: 'upsert', request: setRequest('app||tx-b', '"x"', { etag: 'stale' }) },
        ],
        {},
        signal,
      ),
      isMismatch,
    );
    const a = await store.get(getRequest('app||tx-a'), signal);
    assert.equal(text(a?.data), '"a"');
    assert.equal(a?.etag, etagA);
    assert.ok(await store.get(getRequest('app||tx-b'), signal));
    assert.equal(await store.get(getRequest('app||tx-c'), signal), undefined);
    await store.multi([], {}, signal);
  });

  it('expires keys after their TTL and reports ttlExpireTime', async () => {
    const before = Date.now();
    await store.set(setRequest('app||ttl', '"soon"', { ttlSeconds: 1 }), signal);
    const got = await store.get(getRequest('app||ttl'), signal);
    const expire = got?.metadata?.ttlExpireTime ?? '';
    assert.match(expire, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/);
    const expireMs = Date.parse(expire);
    assert.ok(expireMs >= before - 1000 && expireMs <= Date.now() + 2000, expire);
    const bulk = await store.bulkGet?.([getRequest('app||ttl')], signal);
    assert.equal(bulk?.[0]?.response?.metadata?.ttlExpireTime, expire);

    await waitFor(
      'app||ttl to expire',
      async () => !(await store.get(getRequest('app||ttl'), signal)),
    );
    // The expired row is still in the table; first-write treats it as absent, like Dapr.
    await store.set(setRequest('app||ttl', '"again"', { concurrency: 'first-write' }), signal);
    assert.equal(text((await store.get(getRequest('app||ttl'), signal))?.data), '"again"');
  });

  it('clears the expiry on a write without TTL or with ttlInSeconds -1', async () => {
    await store.set(setRequest('app||ttl-reset', '1', { ttlSeconds: 100 }), signal);
    assert.ok((await store.get(getRequest('app||ttl-reset'), signal))?.metadata?.ttlExpireTime);
    await store.set(setRequest('app||ttl-reset', '2', { ttlSeconds: -1 }), signal);
    assert.equal((await store.get(getRequest('app||ttl-reset'), signal))?.metadata, undefined);
  });

  it('keeps its data across a restart (a file)', async () => {
    await store.set(setRequest('app||durable', '"kept"'), signal);
    await store.close();
    store = await openStore({ connectionString: file });
    assert.equal(text((await store.get(getRequest('app||durable'), signal))?.data), '"kept"');
  });

  it('rejects an aborted request and operations after close', async () => {
    const aborted = AbortSignal.abort(new Error('caller gave up'));
    await assert.rejects(store.get(getRequest('app||x'), aborted), /caller gave up/);
    const closing = await openStore({ connectionString: file });
    await closing.close();
    await closing.close();
    await assert.rejects(closing.get(getRequest('app||x'), signal), /closed/);
  });

  it('waits for another connection holding the write lock without blocking the event loop', async () => {
    const Database = rawDriver();
    const raw = new Database(file);
    const patient = await openStore({ connectionString: file, busyTimeout: '5s' });
    const hasty = await openStore({ connectionString: file, busyTimeout: '200ms' });
    try {
      raw.exec('BEGIN IMMEDIATE');
      const started = Date.now();
      await assert.rejects(hasty.set(setRequest('app||locked', '1'), signal), {
        code: 'SQLITE_BUSY',
      });
      assert.ok(Date.now() - started >= 190, 'gave up before busyTimeout');

      let ticks = 0;
      const ticker = setInterval(() => ticks++, 10);
      setTimeout(() => raw.exec('COMMIT'), 300);
      await patient.set(setRequest('app||locked', '2'), signal);
      clearInterval(ticker);
      assert.ok(ticks >= 10, `event loop ran only ${ticks} ticks while waiting`);
      assert.equal(text((await patient.get(getRequest('app||locked'), signal))?.data), '2');
    } finally {
      if (raw.inTransaction) raw.exec('ROLLBACK');
      raw.close();
      await patient.close();
      await hasty.close();
    }
  });
});
