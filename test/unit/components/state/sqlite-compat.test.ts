import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  createComponent,
  isComponentMetadataError,
  parseComponentMetadata,
} from '../../../../src/components/contracts/component.js';
import { sqliteStateStore } from '../../../../src/components/state/sqlite.js';
import { resolveConnectionString } from '../../../../src/components/state/sqlite-dsn.js';
import { silentLogger } from '../../../../src/kernel/logger.js';
import {
  context,
  getRequest,
  openStore,
  rawDriver,
  setRequest,
  signal,
  tempDir,
  text,
  waitFor,
} from './sqlite-fixture.js';

let dir = '';
let cleanup: () => Promise<void> = async () => {};

before(async () => {
  ({ dir, cleanup } = await tempDir());
});

after(async () => {
  await cleanup();
});

/** Dapr's DDL for `state.sqlite` (migration 1) and its metadata table, as daprd creates them. */
const DAPR_SCHEMA = `
  CREATE TABLE metadata (key text NOT NULL PRIMARY KEY, value text NOT NULL);
  INSERT INTO metadata (key, value) VALUES ('migrations', '1');
  CREATE TABLE state (
    key TEXT NOT NULL PRIMARY KEY,
    value TEXT NOT NULL,
    is_binary BOOLEAN NOT NULL,
    etag TEXT NOT NULL,
    expiration_time TIMESTAMP DEFAULT NULL,
    update_time TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP
  );`;

interface RawRow {
  key: string;
  value: string;
  is_binary: number;
  etag: string;
  expiration_time: string | null;
  update_time: string;
}

const parse = (metadata: Record<string, string>) =>
  parseComponentMetadata(sqliteStateStore, 'statestore', metadata);

describe('state.sqlite storage layout', () => {
  it("creates Dapr's tables and migration level", async () => {
    const file = join(dir, 'fresh.db');
    const store = await openStore({ connectionString: file });
    await store.close();
    const raw = new (rawDriver())(file, { readonly: true });
    try {
      const columns = raw.prepare('PRAGMA table_info(state)').all() as {
        name: string;
        type: string;
        notnull: number;
        pk: number;
      }[];
      assert.deepEqual(
        columns.map((column) => [column.name, column.type, column.notnull, column.pk]),
        [
          ['key', 'TEXT', 1, 1],
          ['value', 'TEXT', 1, 0],
          ['is_binary', 'BOOLEAN', 1, 0],
          ['etag', 'TEXT', 1, 0],
          ['expiration_time', 'TIMESTAMP', 0, 0],
          ['update_time', 'TIMESTAMP', 1, 0],
        ],
      );
      assert.deepEqual(raw.prepare("SELECT value FROM metadata WHERE key = 'migrations'").get(), {
        value: '1',
      });
      assert.equal(raw.pragma('journal_mode', { simple: true }), 'wal');
    } finally {
      raw.close();
    }
  });

  it('reads rows written in the layout of Dapr’s component', async () => {
    const file = join(dir, 'from-dapr.db');
    const raw = new (rawDriver())(file);
    raw.exec(DAPR_SCHEMA);
    const insert = raw.prepare(
      `INSERT INTO state (key, value, is_binary, etag, expiration_time, update_time)
       VALUES (?, ?, ?, ?, DATETIME(CURRENT_TIMESTAMP, ?), CURRENT_TIMESTAMP)`,
    );
    const jsonEtag = randomUUID();
    insert.run('app||json', '{"from":"dapr"}', 0, jsonEtag, null);
    insert.run('app||bin', Buffer.from([0, 1, 2, 255]).toString('base64'), 1, randomUUID(), null);
    insert.run('app||ttl', '"t"', 0, randomUUID(), '+3600 seconds');
    insert.run('app||gone', '"old"', 0, randomUUID(), '-10 seconds');
    raw.close();

    const store = await openStore({ connectionString: file });
    try {
      const json = await store.get(getRequest('app||json'), signal);
      assert.equal(text(json?.data), '{"from":"dapr"}');
      assert.equal(json?.etag, jsonEtag);
      const bin = await store.get(getRequest('app||bin'), signal);
      assert.deepEqual([...(bin?.data ?? [])], [0, 1, 2, 255]);
      const ttl = await store.get(getRequest('app||ttl'), signal);
      const expires = Date.parse(ttl?.metadata?.ttlExpireTime ?? '');
      assert.ok(Math.abs(expires - (Date.now() + 3_600_000)) < 5000);
      assert.equal(await store.get(getRequest('app||gone'), signal), undefined);
      // Dapr's ETag is checked as written.
      await store.set(setRequest('app||json', '2', { etag: jsonEtag }), signal);
    } finally {
      await store.close();
    }
  });

  it('writes rows in the layout Dapr’s component reads', async () => {
    const file = join(dir, 'to-dapr.db');
    const store = await openStore({ connectionString: file });
    await store.set(setRequest('app||json', '{"to":"dapr"}'), signal);
    await store.set(setRequest('app||bin', Uint8Array.of(9, 8, 7)), signal);
    await store.set(setRequest('app||ttl', '1', { ttlSeconds: 60 }), signal);
    await store.close();

    const raw = new (rawDriver())(file, { readonly: true });
    try {
      const rows = new Map(
        (raw.prepare('SELECT * FROM state').all() as RawRow[]).map((row) => [row.key, row]),
      );
      const json = rows.get('app||json');
      assert.equal(json?.value, '{"to":"dapr"}');
      assert.equal(json?.is_binary, 0);
      assert.match(json?.etag ?? '', /^[0-9a-f-]{36}$/);
      assert.equal(json?.expiration_time, null);
      assert.match(json?.update_time ?? '', /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/);
      const bin = rows.get('app||bin');
      assert.equal(bin?.value, Buffer.from([9, 8, 7]).toString('base64'));
      assert.equal(bin?.is_binary, 1);
      // Dapr's query: visible while expiration_time > CURRENT_TIMESTAMP, both SQLite UTC text.
      const ttl = raw
        .prepare(
          `SELECT expiration_time, (unixepoch(expiration_time) - unixepoch(update_time)) AS ttl
           FROM state WHERE key = 'app||ttl' AND expiration_time > CURRENT_TIMESTAMP`,
        )
        .get() as { expiration_time: string; ttl: number } | undefined;
      assert.match(ttl?.expiration_time ?? '', /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/);
      assert.equal(ttl?.ttl, 60);
    } finally {
      raw.close();
    }
  });

  it('deletes expired rows every cleanupInterval and records last-cleanup like Dapr', async () => {
    const file = join(dir, 'cleanup.db');
    const store = await openStore({
      connectionString: file,
      tableName: 'app_state',
      metadataTableName: 'app_meta',
      cleanupInterval: '1s',
    });
    const raw = new (rawDriver())(file);
    try {
      raw
        .prepare(
          `INSERT INTO app_state (key, value, is_binary, etag, expiration_time)
           VALUES (?, '"x"', 0, ?, DATETIME(CURRENT_TIMESTAMP, '-5 seconds'))`,
        )
        .run('app||expired', randomUUID());
      await store.set(setRequest('app||live', '"y"', { ttlSeconds: 600 }), signal);
      const count = () =>
        (raw.prepare('SELECT count(*) AS n FROM app_state').get() as { n: number }).n;
      assert.equal(count(), 2);
      await waitFor('the expired row to be deleted', () => count() === 1);
      assert.ok(raw.prepare("SELECT value FROM app_meta WHERE key = 'last-cleanup'").get());
    } finally {
      raw.close();
      await store.close();
    }
  });
});

describe('state.sqlite metadata', () => {
  it("applies Dapr's defaults and aliases", () => {
    assert.deepEqual(parse({ connectionString: 'data.db' }), {
      connectionString: 'data.db',
      timeout: 20_000,
      busyTimeout: 2000,
      disableWAL: false,
      tableName: 'state',
      metadataTableName: 'metadata',
      cleanupInterval: 0,
    });
    const aliased = parse({ URL: 'x.db', timeoutInSeconds: '30', cleanupIntervalInSeconds: '60' });
    assert.equal(aliased.connectionString, 'x.db');
    assert.equal(aliased.timeout, 30_000);
    assert.equal(aliased.cleanupInterval, 60_000);
    assert.equal(
      parse({ connectionString: 'x', busyTimeout: '0', disableWAL: 'true' }).disableWAL,
      true,
    );
  });

  it('names the field of each malformed value', () => {
    const cases: [Record<string, string>, string][] = [
      [{}, 'connectionString'],
      [{ connectionString: 'x', timeout: '500ms' }, 'timeout'],
      [{ connectionString: 'x', busyTimeout: 'soon' }, 'busyTimeout'],
      [{ connectionString: 'x', disableWAL: 'maybe' }, 'disableWAL'],
      [{ connectionString: 'x', tableName: 'state; DROP' }, 'tableName'],
      [{ connectionString: 'x', metadataTableName: 'meta-data' }, 'metadataTableName'],
      [{ connectionString: 'x', cleanupInterval: 'hourly' }, 'cleanupInterval'],
    ];
    for (const [metadata, field] of cases) {
      assert.throws(
        () => parse(metadata),
        (error: unknown) => isComponentMetadataError(error) && error.field === field,
        field,
      );
    }
  });

  it('resolves connection strings as Dapr does', () => {
    const resolve = (text: string, disableWAL = false) =>
      resolveConnectionString(text, disableWAL, silentLogger);
    const plain = resolve('/tmp/a.db');
    assert.equal(plain.filename, '/tmp/a.db');
    assert.equal(plain.journalMode, 'WAL');
    assert.equal(plain.txlock, 'immediate');
    assert.equal(plain.readonly, false);
    for (const memory of [':memory:', 'file::memory:', 'file:x?mode=memory&cache=shared']) {
      assert.equal(resolve(memory).filename, ':memory:', memory);
      assert.equal(resolve(memory).journalMode, 'MEMORY', memory);
    }
    const uri = resolve(
      'file:data%20dir/a.db?mode=ro&mode=rw&_pragma=synchronous(NORMAL)&_txlock=deferred',
    );
    assert.equal(uri.filename, 'data dir/a.db');
    assert.equal(uri.readonly, true);
    assert.deepEqual(uri.pragmas, ['synchronous(NORMAL)']);
    assert.equal(uri.txlock, 'deferred');
    assert.equal(uri.journalMode, 'DELETE');
    assert.equal(resolve('file:///var/x.db?mode=rw').filename, '/var/x.db');
    assert.equal(resolve('file:///var/x.db?mode=rw').fileMustExist, true);
    assert.equal(resolve('file://localhost/var/x.db').filename, '/var/x.db');
    assert.equal(resolve('a.db?immutable=1').readonly, true);
    assert.equal(resolve('a.db', true).journalMode, 'DELETE');
    assert.throws(() => resolve('file://remote/x.db'), /authority/);
    assert.throws(() => resolve('a.db?mode=rwx'), /access mode/);
    assert.throws(() => resolve('a.db?_txlock=sometimes'), /_txlock/);
    for (const pragma of ['busy_timeout(10)', 'journal_mode(WAL)', 'foreign_keys(1)']) {
      assert.throws(() => resolve(`a.db?_pragma=${pragma}`), /forbidden option/);
    }
    assert.throws(() => resolve('a.db?_pragma=x;DROP TABLE state'), /invalid option/);
  });

  it('opens in-memory databases and file URIs with pragmas', async () => {
    const memory = await openStore({ connectionString: ':memory:' });
    await memory.set(setRequest('app||m', '"mem"'), signal);
    assert.equal(text((await memory.get(getRequest('app||m'), signal))?.data), '"mem"');
    await memory.close();

    const file = join(dir, 'uri.db');
    const store = await openStore({
      connectionString: `file:${file}?_pragma=synchronous(NORMAL)&_txlock=immediate`,
      disableWAL: 'true',
    });
    await store.set(setRequest('app||u', '1'), signal);
    await store.close();
    const raw = new (rawDriver())(file, { readonly: true });
    assert.equal(raw.pragma('journal_mode', { simple: true }), 'delete');
    raw.close();

    const readOnly = await openStore({ connectionString: `file:${file}?mode=ro` });
    assert.equal(text((await readOnly.get(getRequest('app||u'), signal))?.data), '1');
    await assert.rejects(readOnly.set(setRequest('app||u', '2'), signal), /readonly/);
    await readOnly.close();
    await assert.rejects(
      openStore({ connectionString: `file:${file}?mode=ro`, tableName: 'other' }),
      /does not exist/,
    );

    await assert.rejects(
      createComponent(
        sqliteStateStore,
        { connectionString: `${file}?_pragma=busy_timeout(5)` },
        context,
      ),
      /busy_timeout/,
    );
  });
});
