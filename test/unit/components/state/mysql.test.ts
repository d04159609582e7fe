import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, beforeEach, describe, it } from 'node:test';
import {
  isStateETagError,
  type TransactionalStateStore,
} from '../../../../src/components/contracts/state.js';
import { mysqlStateStore } from '../../../../src/components/state/mysql.js';
import {
  bytesSet,
  del,
  getReq,
  jsonSet,
  MySqlFixture,
  signal,
  text,
  waitFor,
} from './mysql-fixture.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

function isMismatch(error: unknown): boolean {
  return isStateETagError(error) && error.kind === 'mismatch';
}

const fixture = new MySqlFixture();
let store: TransactionalStateStore;

before(async () => {
  if (await fixture.start()) store = await fixture.store();
});

beforeEach(() => fixture.check());

after(async () => {
  await fixture.stop();
});

describe('state.mysql', () => {
  it('declares the features it implements', () => {
    assert.deepEqual([...mysqlStateStore.features], ['ETAG', 'TRANSACTIONAL', 'TTL']);
  });

  it('saves, reads and deletes a JSON value', async () => {
    await store.set(jsonSet('app||crud', '{"n":1}'), signal);
    const got = await store.get(getReq('app||crud'), signal);
    assert.equal(text(got?.data), '{"n":1}');
    assert.match(got?.etag ?? '', UUID);
    assert.equal(got?.metadata, undefined);
    await store.delete(del('app||crud'), signal);
    assert.equal(await store.get(getReq('app||crud'), signal), undefined);
    // Deleting a missing key without an ETag is not an error.
    await store.delete(del('app||crud'), signal);
  });

  it('returns JSON text and binary values byte for byte', async () => {
    const json = '{ "z": [1, 2.50, {"é": "😀"}],\n  "a": null }';
    await store.set(jsonSet('app||json', json), signal);
    assert.equal(text((await store.get(getReq('app||json'), signal))?.data), json);

    const every = Uint8Array.from({ length: 256 }, (_, index) => index);
    await store.set(bytesSet('app||bytes', every), signal);
    assert.deepEqual(
      Buffer.from((await store.get(getReq('app||bytes'), signal))?.data ?? []),
      Buffer.from(every),
    );

    await store.set(bytesSet('app||empty', new Uint8Array()), signal);
    assert.equal((await store.get(getReq('app||empty'), signal))?.data.length, 0);
  });

  it('round-trips 1 MiB values', async () => {
    const big = randomBytes(1024 * 1024);
    await store.set(bytesSet('app||big', big), signal);
    assert.ok(Buffer.from((await store.get(getReq('app||big'), signal))?.data ?? []).equals(big));

    const bigJson = JSON.stringify('x'.repeat(1024 * 1024));
    await store.set(jsonSet('app||big-json', bigJson), signal);
    assert.equal(text((await store.get(getReq('app||big-json'), signal))?.data), bigJson);
  });

  it('changes the ETag on every write', async () => {
    await store.set(jsonSet('app||etag', '1'), signal);
    const first = (await store.get(getReq('app||etag'), signal))?.etag;
    await store.set(jsonSet('app||etag', '1'), signal);
    const second = (await store.get(getReq('app||etag'), signal))?.etag;
    await store.set(jsonSet('app||etag', '2', { etag: second ?? '' }), signal);
    const third = (await store.get(getReq('app||etag'), signal))?.etag;
    assert.equal(new Set([first, second, third]).size, 3);
  });

  it('rejects a stale ETag on save and delete, and accepts the current one', async () => {
    await store.set(jsonSet('app||check', '"a"'), signal);
    const etag = (await store.get(getReq('app||check'), signal))?.etag ?? '';
    await store.set(jsonSet('app||check', '"b"', { etag }), signal);
    await assert.rejects(store.set(jsonSet('app||check', '"c"', { etag }), signal), isMismatch);
    await assert.rejects(store.delete(del('app||check', { etag }), signal), isMismatch);
    assert.equal(text((await store.get(getReq('app||check'), signal))?.data), '"b"');

    const current = (await store.get(getReq('app||check'), signal))?.etag ?? '';
    await store.delete(del('app||check', { etag: current }), signal);
    assert.equal(await store.get(getReq('app||check'), signal), undefined);
    // An ETag on a missing key fails too.
    await assert.rejects(
      store.set(jsonSet('app||check', '1', { etag: current }), signal),
      isMismatch,
    );
    await assert.rejects(store.delete(del('app||check', { etag: current }), signal), isMismatch);
  });

  it('reports a malformed ETag as a mismatch, as Dapr MySQL does (ETags are plain strings)', async () => {
    await store.set(jsonSet('app||bad-etag', '1'), signal);
    await assert.rejects(
      store.set(jsonSet('app||bad-etag', '2', { etag: 'not-a-uuid' }), signal),
      isMismatch,
    );
    await assert.rejects(
      store.delete(del('app||bad-etag', { etag: 'x'.repeat(80) }), signal),
      isMismatch,
    );
    // An empty ETag is no ETag, as Dapr's HasETag reads it.
    await store.set(jsonSet('app||bad-etag', '3', { etag: '' }), signal);
    assert.equal(text((await store.get(getReq('app||bad-etag'), signal))?.data), '3');
  });

  it('refuses a first-write save without an ETag on an existing key', async () => {
    const firstWrite = { concurrency: 'first-write' } as const;
    await store.set(jsonSet('app||first', '1', firstWrite), signal);
    await assert.rejects(store.set(jsonSet('app||first', '2', firstWrite), signal), isMismatch);
    assert.equal(text((await store.get(getReq('app||first'), signal))?.data), '1');
    const etag = (await store.get(getReq('app||first'), signal))?.etag ?? '';
    await store.set(jsonSet('app||first', '3', { ...firstWrite, etag }), signal);
    assert.equal(text((await store.get(getReq('app||first'), signal))?.data), '3');
  });

  it('lets exactly one of several concurrent writers with the same ETag win', async () => {
    await store.set(jsonSet('app||race', '0'), signal);
    const etag = (await store.get(getReq('app||race'), signal))?.etag ?? '';
    const results = await Promise.allSettled(
      Array.from({ length: 8 }, (_, index) =>
        store.set(jsonSet('app||race', String(index + 1), { etag }), signal),
      ),
    );
    const won = results.filter((result) => result.status === 'fulfilled');
    assert.equal(won.length, 1);
    for (const result of results) {
      if (result.status === 'rejected') assert.ok(isMismatch(result.reason));
    }
  });

  it('lets exactly one of several concurrent first-writers create a key', async () => {
    const results = await Promise.allSettled(
      Array.from({ length: 8 }, (_, index) =>
        store.set(jsonSet('app||race-new', String(index), { concurrency: 'first-write' }), signal),
      ),
    );
    assert.equal(results.filter((result) => result.status === 'fulfilled').length, 1);
    for (const result of results) {
      if (result.status === 'rejected') assert.ok(isMismatch(result.reason), String(result.reason));
    }
  });

  it('saves, reads and deletes 1,000 keys in bulk', async () => {
    const keys = Array.from({ length: 1000 }, (_, index) => `app||bulk-${index}`);
    await store.bulkSet?.(
      keys.map((key, index) =>
        index % 2 === 0
          ? jsonSet(key, `{"i":${index}}`)
          : bytesSet(key, Buffer.from([index % 256])),
      ),
      signal,
    );
    const items = (await store.bulkGet?.([...keys, 'app||bulk-missing'].map(getReq), signal)) ?? [];
    assert.equal(items.length, 1001);
    assert.equal(text(items[10]?.response?.data), '{"i":10}');
    assert.deepEqual([...(items[11]?.response?.data ?? [])], [11]);
    assert.match(items[999]?.response?.etag ?? '', UUID);
    assert.deepEqual(items[1000], { key: 'app||bulk-missing' });
    assert.deepEqual(
      items.map((item) => item.key),
      [...keys, 'app||bulk-missing'],
    );

    await store.bulkDelete?.(
      keys.map((key) => del(key)),
      signal,
    );
    const after = (await store.bulkGet?.(keys.map(getReq), signal)) ?? [];
    assert.ok(after.every((item) => item.response === undefined));
  });

  it('saves the other keys of a bulk save and reports the stale ETag', async () => {
    await store.set(jsonSet('app||bulk-etag', '1'), signal);
    await assert.rejects(
      store.bulkSet?.(
        [
          jsonSet('app||bulk-a', '"a"'),
          jsonSet('app||bulk-etag', '2', { etag: 'stale' }),
          jsonSet('app||bulk-b', '"b"'),
        ],
        signal,
      ) ?? Promise.reject(new Error('no bulkSet')),
      isMismatch,
    );
    assert.equal(text((await store.get(getReq('app||bulk-a'), signal))?.data), '"a"');
    assert.equal(text((await store.get(getReq('app||bulk-b'), signal))?.data), '"b"');
    assert.equal(text((await store.get(getReq('app||bulk-etag'), signal))?.data), '1');
    await assert.rejects(
      store.bulkDelete?.([del('app||bulk-a'), del('app||bulk-etag', { etag: 'stale' })], signal) ??
        Promise.reject(new Error('no bulkDelete')),
      isMismatch,
    );
    assert.equal(await store.get(getReq('app||bulk-a'), signal), undefined);
  });

  it('commits a transaction', async () => {
    await store.set(jsonSet('app||tx-old', '1'), signal);
    await store.multi(
      [
        { operation: 'upsert', request: jsonSet('app||tx-a', '"a"') },
        { operation: 'upsert', request: bytesSet('app||tx-b', Buffer.from('b')) },
        { operation: 'delete', request: del('app||tx-old') },
      ],
      {},
      signal,
    );
    assert.equal(text((await store.get(getReq('app||tx-a'), signal))?.data), '"a"');
    assert.equal(text((await store.get(getReq('app||tx-b'), signal))?.data), 'b');
    assert.equal(await store.get(getReq('app||tx-old'), signal), undefined);
  });

  it('rolls back the whole transaction when one operation fails', async () => {
    await store.set(jsonSet('app||tx-keep', '"kept"'), signal);
    await assert.rejects(
      store.multi(
        [
          { operation: 'upsert', request: jsonSet('app||tx-new', '1') },
          { operation: 'delete', request: del('app||tx-keep') },
          { operation: 'upsert', request: jsonSet('app||tx-keep', '2', { etag: 'stale' }) },
        ],
        {},
        signal,
      ),
      isMismatch,
    );
    assert.equal(await store.get(getReq('app||tx-new'), signal), undefined);
    assert.equal(text((await store.get(getReq('app||tx-keep'), signal))?.data), '"kept"');
    // A failing statement (not JSON) rolls back too.
    await assert.rejects(
      store.multi(
        [
          { operation: 'upsert', request: jsonSet('app||tx-new', '1') },
          { operation: 'upsert', request: jsonSet('app||tx-bad', '{not json') },
        ],
        {},
        signal,
      ),
    );
    assert.equal(await store.get(getReq('app||tx-new'), signal), undefined);
  });

  it('expires a value after its TTL and reports the expiry time', async () => {
    const startedAt = Date.now();
    await store.set(jsonSet('app||ttl', '"short"', { ttlSeconds: 1 }), signal);
    const got = await store.get(getReq('app||ttl'), signal);
    const expires = Date.parse(got?.metadata?.ttlExpireTime ?? '');
    assert.match(got?.metadata?.ttlExpireTime ?? '', /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    assert.ok(expires >= Math.floor(startedAt / 1000) * 1000 && expires <= startedAt + 3000);
    await waitFor('the key to expire', async () => !(await store.get(getReq('app||ttl'), signal)));
    const items = (await store.bulkGet?.([getReq('app||ttl')], signal)) ?? [];
    assert.equal(items[0]?.response, undefined);
    // A first-write save treats the expired (not yet deleted) row as absent.
    await store.set(jsonSet('app||ttl', '"again"', { concurrency: 'first-write' }), signal);
    assert.equal(text((await store.get(getReq('app||ttl'), signal))?.data), '"again"');
    // ...and an ETag save does not revive an expired row.
    await store.set(jsonSet('app||ttl2', '1', { ttlSeconds: 1 }), signal);
    const etag = (await store.get(getReq('app||ttl2'), signal))?.etag ?? '';
    await waitFor('the key to expire', async () => !(await store.get(getReq('app||ttl2'), signal)));
    await assert.rejects(store.set(jsonSet('app||ttl2', '2', { etag }), signal), isMismatch);
  });

  it('clears the expiry on a save without TTL and keeps values with TTL -1', async () => {
    await store.set(jsonSet('app||ttl-clear', '1', { ttlSeconds: 100 }), signal);
    assert.ok((await store.get(getReq('app||ttl-clear'), signal))?.metadata?.ttlExpireTime);
    await store.set(jsonSet('app||ttl-clear', '2'), signal);
    assert.equal((await store.get(getReq('app||ttl-clear'), signal))?.metadata, undefined);
    await store.set(jsonSet('app||ttl-never', '1', { ttlSeconds: -1 }), signal);
    assert.equal((await store.get(getReq('app||ttl-never'), signal))?.metadata, undefined);
  });

  it('matches keys case-insensitively, like the table collation Dapr creates', async () => {
    await store.set(jsonSet('app||MixedCase', '1'), signal);
    assert.equal(text((await store.get(getReq('app||mixedcase'), signal))?.data), '1');
    const items = (await store.bulkGet?.([getReq('app||MIXEDCASE')], signal)) ?? [];
    assert.equal(items[0]?.key, 'app||MIXEDCASE');
    assert.equal(text(items[0]?.response?.data), '1');
  });

  it('fails an operation when its signal aborts and when it outlives timeoutInSeconds', async () => {
    const slow = await fixture.store({ timeoutInSeconds: '1' });
    await store.set(jsonSet('app||locked', '1'), signal);
    // Hold the row lock so the next save blocks.
    await fixture.raw.query('START TRANSACTION');
    await fixture.raw.query(`SELECT * FROM ${fixture.table()} WHERE id = 'app||locked' FOR UPDATE`);
    try {
      const controller = new AbortController();
      const saving = store.set(jsonSet('app||locked', '2'), controller.signal);
      setTimeout(() => controller.abort(new Error('caller gave up')), 100);
      await assert.rejects(saving, /caller gave up/);

      const started = Date.now();
      await assert.rejects(
        slow.set(jsonSet('app||locked', '3'), signal),
        /timed out after 1000 ms/,
      );
      assert.ok(Date.now() - started < 5000);
      await assert.rejects(store.get(getReq('app||locked'), AbortSignal.abort()));
    } finally {
      await fixture.raw.query('ROLLBACK');
    }
    // The pool recovers from the destroyed connections.
    await slow.set(jsonSet('app||locked', '4'), signal);
    assert.equal(text((await store.get(getReq('app||locked'), signal))?.data), '4');
  });
});
