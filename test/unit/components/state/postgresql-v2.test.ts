import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import {
  isComponentMetadataError,
  parseComponentMetadata,
} from '../../../../src/components/contracts/component.js';
import {
  isQueryableStore,
  isStateETagError,
  isTransactionalStore,
  type TransactionalStateStore,
} from '../../../../src/components/contracts/state.js';
import { postgresqlV2StateStore } from '../../../../src/components/state/postgresql-v2.js';
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
let prefix = '';

before(async () => {
  await fixture.start();
  const opened = await fixture.openV2();
  assert.ok(isTransactionalStore(opened.instance, opened.features));
  assert.ok(!isQueryableStore(opened.instance, opened.features));
  store = opened.instance;
  table = opened.table;
  metaTable = opened.metaTable;
  prefix = table.slice(0, -'state'.length);
});

after(async () => {
  await fixture.stop();
});

const read = (key: string) => store.get(getRequest(key), signal);

async function rejectsMismatch(work: Promise<unknown>): Promise<void> {
  await assert.rejects(work, (error) => isStateETagError(error) && error.kind === 'mismatch');
}

describe('state.postgresql v2', () => {
  it('parses tablePrefix and names bad fields', () => {
    const parse = (metadata: Record<string, string>) =>
      parseComponentMetadata(postgresqlV2StateStore, 'statestore', metadata);
    assert.equal(parse({ connectionString: 'host=h' }).tablePrefix, '');
    assert.equal(
      parse({ connectionString: 'host=h', tablePrefix: 'app.x_' }).tablePrefix,
      'app.x_',
    );
    assert.throws(
      () => parse({ connectionString: 'host=h', tablePrefix: "x'; --" }),
      (error) => isComponentMetadataError(error) && error.field === 'tablePrefix',
    );
    assert.deepEqual([...postgresqlV2StateStore.features].sort(), ['ETAG', 'TRANSACTIONAL', 'TTL']);
  });

  it("creates Dapr's v2 table and per-prefix migration level", async () => {
    const columns = await fixture.client.query(
      `SELECT column_name, data_type FROM information_schema.columns
        WHERE table_name = $1 ORDER BY ordinal_position`,
      [table],
    );
    assert.deepEqual(
      columns.rows.map((row) => `${row.column_name}:${row.data_type}`),
      [
        'key:text',
        'value:bytea',
        'etag:uuid',
        'created_at:timestamp with time zone',
        'updated_at:timestamp with time zone',
        'expires_at:timestamp with time zone',
        'row_id:bigint',
      ],
    );
    const level = await fixture.client.query(`SELECT value FROM ${metaTable} WHERE key = $1`, [
      `migrations-state-v2-${prefix}`,
    ]);
    assert.equal(level.rows[0]?.value, '2');
  });

  it('keeps JSON and binary values byte-exact, 1 MiB included', async () => {
    await store.set(setRequest('json', '{"b":1,  "a":[true]}'), signal);
    assert.equal(text((await read('json'))?.data), '{"b":1,  "a":[true]}');
    const big = randomBytes(1024 * 1024);
    await store.set(setRequest('bin', big), signal);
    assert.ok(Buffer.from((await read('bin'))?.data ?? []).equals(big));
  });

  it('uses UUID etags: changed on write, checked on set and delete', async () => {
    await store.set(setRequest('e', '1'), signal);
    const first = (await read('e'))?.etag ?? '';
    assert.match(first, /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    // Go's uuid.Parse forms are accepted, as in Dapr.
    await store.set(setRequest('e', '2', { etag: `{${first.toUpperCase()}}` }), signal);
    const second = (await read('e'))?.etag ?? '';
    assert.notEqual(second, first);
    await rejectsMismatch(store.set(setRequest('e', '3', { etag: first }), signal));
    await rejectsMismatch(store.delete(deleteRequest('e', randomUUID()), signal));
    // Dapr's v2 reports a malformed etag as a mismatch.
    await rejectsMismatch(store.set(setRequest('e', '3', { etag: 'nope' }), signal));
    await rejectsMismatch(store.set(setRequest('e', '3', { concurrency: 'first-write' }), signal));
    const outcomes = await Promise.allSettled(
      [1, 2, 3, 4].map((i) => store.set(setRequest('e', `${i}`, { etag: second }), signal)),
    );
    assert.equal(outcomes.filter((outcome) => outcome.status === 'fulfilled').length, 1);
    const third = (await read('e'))?.etag ?? '';
    await store.delete(deleteRequest('e', third), signal);
    assert.equal(await read('e'), undefined);
  });

  it('bulk operations and transactions', async () => {
    const keys = Array.from({ length: 1000 }, (_, i) => `b-${i}`);
    await store.bulkSet?.(
      keys.map((key, i) => setRequest(key, `${i}`)),
      signal,
    );
    const items = (await store.bulkGet?.(keys.map(getRequest), signal)) ?? [];
    assert.equal(text(items[999]?.response?.data), '999');
    await store.bulkDelete?.(
      keys.map((key) => deleteRequest(key)),
      signal,
    );
    assert.equal(await read('b-1'), undefined);
    await store.set(setRequest('t', '"keep"'), signal);
    await rejectsMismatch(
      store.multi(
        [
          { operation: 'upsert', request: setRequest('t-new', '1') },
          { operation: 'delete', request: deleteRequest('t', randomUUID()) },
        ],
        {},
        signal,
      ),
    );
    assert.equal(await read('t-new'), undefined);
    assert.equal(text((await read('t'))?.data), '"keep"');
  });

  it('expires values with a TTL', async () => {
    await store.set(setRequest('ttl', '1', { ttlSeconds: 1 }), signal);
    assert.match((await read('ttl'))?.metadata?.ttlExpireTime ?? '', /Z$/);
    await eventually(async () => (await read('ttl')) === undefined, 4000);
  });

  it('reads rows Dapr wrote and writes rows Dapr reads', async () => {
    await fixture.client.query(
      `INSERT INTO ${table} (key, value, etag, expires_at) VALUES
         ('dapr-1', $1, gen_random_uuid(), NULL),
         ('dapr-2', 'x', gen_random_uuid(), now() - interval '1 second')`,
      [Buffer.from('{"from":"dapr"}')],
    );
    const got = await read('dapr-1');
    assert.equal(text(got?.data), '{"from":"dapr"}');
    const raw = await fixture.client.query(
      `SELECT etag::text AS etag FROM ${table} WHERE key = 'dapr-1'`,
    );
    assert.equal(got?.etag, raw.rows[0]?.etag);
    assert.equal(await read('dapr-2'), undefined);
    await store.set(setRequest('tapr-1', new Uint8Array([0, 1, 2])), signal);
    const written = await fixture.client.query(
      `SELECT value, etag::text AS etag FROM ${table} WHERE key = 'tapr-1'`,
    );
    assert.deepEqual([...written.rows[0].value], [0, 1, 2]);
    assert.equal(written.rows[0].etag, (await read('tapr-1'))?.etag);
  });
});
