import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import {
  isStateETagError,
  isTransactionalStore,
  type StateStore,
  type TransactionalStateStore,
} from '../../../../src/components/contracts/state.js';
import {
  deleteRequest,
  eventually,
  getRequest,
  PostgresFixture,
  setRequest,
  signal,
  text,
} from './postgresql-fixture.js';

const fixture = new PostgresFixture();
let store: TransactionalStateStore;
let table = '';
let metaTable = '';

before(async () => {
  await fixture.start();
  const opened = await fixture.open();
  assert.ok(isTransactionalStore(opened.instance, opened.features));
  store = opened.instance;
  table = opened.table;
  metaTable = opened.metaTable;
});

after(async () => {
  await fixture.stop();
});

const read = (key: string, from: StateStore = store) => from.get(getRequest(key), signal);

async function rejectsETag(work: Promise<unknown>, kind: 'mismatch' | 'invalid'): Promise<void> {
  await assert.rejects(work, (error) => isStateETagError(error) && error.kind === kind);
}

describe('state.postgresql v1: schema', () => {
  it("creates Dapr's table and records migration level 3", async () => {
    const columns = await fixture.client.query(
      `SELECT column_name, data_type, is_nullable FROM information_schema.columns
        WHERE table_name = $1 ORDER BY ordinal_position`,
      [table],
    );
    assert.deepEqual(
      columns.rows.map((row) => `${row.column_name}:${row.data_type}:${row.is_nullable}`),
      [
        'key:text:NO',
        'value:jsonb:NO',
        'isbinary:boolean:NO',
        'insertdate:timestamp with time zone:NO',
        'updatedate:timestamp with time zone:YES',
        'expiredate:timestamp with time zone:YES',
        'row_id:bigint:NO',
      ],
    );
    const meta = await fixture.client.query(`SELECT key, value FROM ${metaTable} ORDER BY key`);
    assert.deepEqual(meta.rows, [
      { key: 'lock', value: 'lock' },
      { key: 'migrations', value: '3' },
    ]);
    const index = await fixture.client.query('SELECT 1 FROM pg_indexes WHERE indexname = $1', [
      `${table}_row_id_uidx`,
    ]);
    assert.equal(index.rowCount, 1);
  });

  it('lets concurrent sidecars migrate the same tables', async () => {
    const tableName = fixture.table('race');
    const metadataTableName = fixture.table('racemeta');
    const opened = await Promise.all(
      [1, 2, 3].map(() => fixture.open({ tableName, metadataTableName })),
    );
    const level = await fixture.client.query(
      `SELECT value FROM ${metadataTableName} WHERE key = 'migrations'`,
    );
    assert.equal(level.rows[0]?.value, '3');
    await opened[0]?.instance.set(setRequest('k', '1'), signal);
    assert.equal(text((await read('k', opened[2]?.instance))?.data), '1');
  });

  it('accepts a schema-qualified table name', async () => {
    const tableName = `public.${fixture.table('qualified')}`;
    const { instance } = await fixture.open({ tableName });
    await instance.set(setRequest('q', '"v"'), signal);
    const raw = await fixture.client.query(`SELECT value FROM ${tableName}`);
    assert.deepEqual(raw.rows, [{ value: 'v' }]);
  });

  it('finishes a Dapr schema left at migration level 2 (before row_id)', async () => {
    const tableName = fixture.table('old');
    const metadataTableName = fixture.table('oldmeta');
    await fixture.client.query(
      `CREATE TABLE ${tableName} (key text NOT NULL PRIMARY KEY, value jsonb NOT NULL,
         isbinary boolean NOT NULL, insertdate TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT NOW(),
         updatedate TIMESTAMP WITH TIME ZONE NULL, expiredate TIMESTAMP WITH TIME ZONE)`,
    );
    await fixture.client.query(
      `CREATE TABLE ${metadataTableName} (key text NOT NULL PRIMARY KEY, value text NOT NULL)`,
    );
    await fixture.client.query(
      `INSERT INTO ${metadataTableName} VALUES ('migrations', '2'), ('lock', 'lock')`,
    );
    await fixture.client.query(
      `INSERT INTO ${tableName} (key, value, isbinary) VALUES ('b', '2', false), ('a', '1', false)`,
    );
    const { instance } = await fixture.open({ tableName, metadataTableName });
    const rows = await fixture.client.query(`SELECT key, row_id FROM ${tableName} ORDER BY key`);
    assert.deepEqual(
      rows.rows.map((row) => row.key),
      ['a', 'b'],
    );
    await instance.set(setRequest('c', '3'), signal);
    const ids = await fixture.client.query(`SELECT row_id FROM ${tableName} WHERE key = 'c'`);
    assert.equal(ids.rows[0]?.row_id, '3');
  });
});

describe('state.postgresql v1: values', () => {
  it('saves, reads and deletes JSON, returning jsonb text as Dapr does', async () => {
    await store.set(setRequest('json', '{"b": [1, 2], "a":"x"}'), signal);
    const got = await read('json');
    assert.equal(text(got?.data), '{"a": "x", "b": [1, 2]}');
    assert.match(got?.etag ?? '', /^\d+$/);
    assert.equal(got?.metadata, undefined);
    await store.delete(deleteRequest('json'), signal);
    assert.equal(await read('json'), undefined);
    await store.delete(deleteRequest('json'), signal);
  });

  it('keeps binary values byte-exact, 1 MiB included', async () => {
    for (const bytes of [new Uint8Array([0, 255, 10, 34, 92]), randomBytes(1024 * 1024)]) {
      await store.set(setRequest('bin', bytes), signal);
      const got = await read('bin');
      assert.ok(got && Buffer.from(got.data).equals(Buffer.from(bytes)));
    }
    const raw = await fixture.client.query(
      `SELECT isbinary, value #>> '{}' AS b64 FROM ${table} WHERE key = 'bin'`,
    );
    assert.equal(raw.rows[0]?.isbinary, true);
    assert.equal(Buffer.from(raw.rows[0]?.b64 ?? '', 'base64').length, 1024 * 1024);
  });

  it('changes the etag on every write and checks it on set and delete', async () => {
    await store.set(setRequest('e', '1'), signal);
    const first = (await read('e'))?.etag ?? '';
    await store.set(setRequest('e', '2', { etag: first }), signal);
    const second = (await read('e'))?.etag ?? '';
    assert.notEqual(second, first);
    await rejectsETag(store.set(setRequest('e', '3', { etag: first }), signal), 'mismatch');
    await rejectsETag(store.delete(deleteRequest('e', first), signal), 'mismatch');
    await rejectsETag(store.set(setRequest('e', '3', { etag: 'abc' }), signal), 'invalid');
    await rejectsETag(store.delete(deleteRequest('e', '4294967296'), signal), 'invalid');
    await rejectsETag(store.set(setRequest('missing', '1', { etag: first }), signal), 'mismatch');
    assert.equal(text((await read('e'))?.data), '2');
    await store.delete(deleteRequest('e', second), signal);
    assert.equal(await read('e'), undefined);
  });

  it('first-write without an etag fails on an existing key', async () => {
    await store.set(setRequest('fw', '1', { concurrency: 'first-write' }), signal);
    await rejectsETag(
      store.set(setRequest('fw', '2', { concurrency: 'first-write' }), signal),
      'mismatch',
    );
    assert.equal(text((await read('fw'))?.data), '1');
  });

  it('lets exactly one of concurrent writers with the same etag win', async () => {
    await store.set(setRequest('race', '0'), signal);
    const etag = (await read('race'))?.etag ?? '';
    const outcomes = await Promise.allSettled(
      Array.from({ length: 8 }, (_, i) =>
        store.set(setRequest('race', `${i + 1}`, { etag }), signal),
      ),
    );
    assert.equal(outcomes.filter((outcome) => outcome.status === 'fulfilled').length, 1);
    for (const outcome of outcomes) {
      if (outcome.status === 'rejected') assert.ok(isStateETagError(outcome.reason));
    }
    const firstWrites = await Promise.allSettled(
      Array.from({ length: 8 }, (_, i) =>
        store.set(setRequest('race-new', `${i}`, { concurrency: 'first-write' }), signal),
      ),
    );
    assert.equal(firstWrites.filter((outcome) => outcome.status === 'fulfilled').length, 1);
  });

  it('honours an aborted signal', async () => {
    const controller = new AbortController();
    controller.abort(new Error('stop'));
    await assert.rejects(store.get(getRequest('e'), controller.signal), /stop/);
  });
});

describe('state.postgresql v1: bulk and transactions', () => {
  it('bulk-saves, reads and deletes 1,000 keys', async () => {
    const keys = Array.from({ length: 1000 }, (_, i) => `bulk-${i}`);
    assert.ok(store.bulkSet && store.bulkGet && store.bulkDelete);
    await store.bulkSet(
      keys.map((key, i) => (i % 2 ? setRequest(key, `{"i":${i}}`) : setRequest(key, utf8Of(i)))),
      signal,
    );
    const items = await store.bulkGet([...keys, 'bulk-missing'].map(getRequest), signal);
    assert.equal(items.length, 1001);
    assert.equal(text(items[1]?.response?.data), '{"i": 1}');
    assert.equal(text(items[2]?.response?.data), '2');
    assert.deepEqual(items[1000], { key: 'bulk-missing' });
    await store.bulkDelete(
      keys.map((key) => deleteRequest(key)),
      signal,
    );
    const gone = await store.bulkGet(keys.slice(0, 10).map(getRequest), signal);
    assert.ok(gone.every((item) => item.response === undefined));
  });

  it('bulk saves with etags attempt every key and report the failures', async () => {
    await store.set(setRequest('be1', '1'), signal);
    const etag = (await read('be1'))?.etag ?? '';
    await rejectsETag(
      store.bulkSet?.(
        [
          setRequest('be1', '2', { etag }),
          setRequest('be2', '2', { etag }),
          setRequest('be3', '3'),
        ],
        signal,
      ) ?? Promise.resolve(),
      'mismatch',
    );
    assert.equal(text((await read('be1'))?.data), '2');
    assert.equal(text((await read('be3'))?.data), '3');
  });

  it('commits a transaction', async () => {
    await store.set(setRequest('tx-del', '0'), signal);
    await store.multi(
      [
        { operation: 'upsert', request: setRequest('tx-a', '"a"') },
        { operation: 'upsert', request: setRequest('tx-b', new Uint8Array([1, 2])) },
        { operation: 'delete', request: deleteRequest('tx-del') },
      ],
      {},
      signal,
    );
    assert.equal(text((await read('tx-a'))?.data), '"a"');
    assert.deepEqual([...((await read('tx-b'))?.data ?? [])], [1, 2]);
    assert.equal(await read('tx-del'), undefined);
  });

  it('rolls a transaction back when one operation fails', async () => {
    await store.set(setRequest('tx-keep', '"old"'), signal);
    const stale = (await read('tx-keep'))?.etag ?? '';
    await store.set(setRequest('tx-keep', '"newer"'), signal);
    await rejectsETag(
      store.multi(
        [
          { operation: 'upsert', request: setRequest('tx-new', '1') },
          { operation: 'delete', request: deleteRequest('tx-a') },
          { operation: 'upsert', request: setRequest('tx-keep', '"lost"', { etag: stale }) },
        ],
        {},
        signal,
      ),
      'mismatch',
    );
    assert.equal(await read('tx-new'), undefined);
    assert.equal(text((await read('tx-a'))?.data), '"a"');
    assert.equal(text((await read('tx-keep'))?.data), '"newer"');
  });
});

function utf8Of(i: number): Uint8Array {
  return Buffer.from(String(i));
}

describe('state.postgresql v1: TTL', () => {
  it('expires values, reports ttlExpireTime and never expires with -1', async () => {
    const before = Date.now();
    await store.set(setRequest('ttl', '"short"', { ttlSeconds: 1 }), signal);
    await store.set(setRequest('ttl-forever', '"long"', { ttlSeconds: -1 }), signal);
    const got = await read('ttl');
    const expiry = got?.metadata?.ttlExpireTime ?? '';
    assert.match(expiry, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    assert.ok(Math.abs(Date.parse(expiry) - (before + 1000)) < 2000, expiry);
    assert.equal((await read('ttl-forever'))?.metadata, undefined);
    await eventually(async () => (await read('ttl')) === undefined, 4000);
    assert.equal(text((await read('ttl-forever'))?.data), '"long"');
    // An expired key can be written again under first-write, as in Dapr.
    await store.set(setRequest('ttl', '"again"', { concurrency: 'first-write' }), signal);
    assert.equal(text((await read('ttl'))?.data), '"again"');
  });

  it('deletes expired rows in the background', async () => {
    const {
      instance,
      table: own,
      metaTable: ownMeta,
    } = await fixture.open({
      cleanupInterval: '1s',
    });
    await instance.set(setRequest('gc', '1', { ttlSeconds: 1 }), signal);
    await eventually(async () => {
      const rows = await fixture.client.query(`SELECT 1 FROM ${own}`);
      return rows.rowCount === 0;
    }, 5000);
    const stamp = await fixture.client.query(
      `SELECT value FROM ${ownMeta} WHERE key = 'last-cleanup'`,
    );
    assert.ok(!Number.isNaN(Date.parse(stamp.rows[0]?.value ?? '')));
  });
});

describe('state.postgresql v1: Dapr compatibility', () => {
  it('reads rows written in Dapr layout', async () => {
    await fixture.client.query(
      `INSERT INTO ${table} (key, value, isbinary, expiredate) VALUES
         ('app||dj', '{"name":"dapr","n":1}', false, NULL),
         ('app||db', to_jsonb($1::text), true, NULL),
         ('app||dx', '"gone"', false, now() - interval '1 second'),
         ('app||dt', '"later"', false, now() + interval '1 hour')`,
      [Buffer.from('raw\u0000bytes').toString('base64')],
    );
    const json = await read('app||dj');
    assert.deepEqual(JSON.parse(text(json?.data)), { name: 'dapr', n: 1 });
    const xmin = await fixture.client.query(
      `SELECT xmin::text AS x FROM ${table} WHERE key = 'app||dj'`,
    );
    assert.equal(json?.etag, xmin.rows[0]?.x);
    assert.equal(text((await read('app||db'))?.data), 'raw\u0000bytes');
    assert.equal(await read('app||dx'), undefined);
    assert.ok((await read('app||dt'))?.metadata?.ttlExpireTime);
    // An etag read by Dapr (xmin) is accepted by Tapr.
    await store.set(setRequest('app||dj', '2', { etag: String(xmin.rows[0]?.x) }), signal);
  });

  it('writes rows Dapr reads', async () => {
    await store.set(setRequest('app||tj', '{"x": [true, null]}', { ttlSeconds: 60 }), signal);
    await store.set(setRequest('app||tb', new Uint8Array([104, 105])), signal);
    const rows = await fixture.client.query(
      `SELECT key, value, isbinary, xmin::text AS etag, expiredate, updatedate, insertdate
         FROM ${table} WHERE key IN ('app||tj', 'app||tb') ORDER BY key`,
    );
    const [binary, json] = rows.rows;
    assert.equal(binary?.value, 'aGk=');
    assert.equal(binary?.isbinary, true);
    assert.equal(binary?.expiredate, null);
    assert.deepEqual(json?.value, { x: [true, null] });
    assert.equal(json?.isbinary, false);
    assert.ok(json?.expiredate instanceof Date && json.expiredate.getTime() > Date.now() + 50_000);
    assert.equal(json?.etag, (await read('app||tj'))?.etag);
    // Dapr's own conditional update matches the etag Tapr hands out.
    const updated = await fixture.client.query(
      `UPDATE ${table} SET value = '3', updatedate = CURRENT_TIMESTAMP WHERE key = $1 AND xmin = $2`,
      ['app||tj', json?.etag],
    );
    assert.equal(updated.rowCount, 1);
  });
});
