import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, beforeEach, describe, it } from 'node:test';
import type { ResultSetHeader, RowDataPacket } from 'mysql2/promise';
import type { TransactionalStateStore } from '../../../../src/components/contracts/state.js';
import {
  bytesSet,
  getReq,
  jsonSet,
  MYSQL_DSN,
  MySqlFixture,
  signal,
  text,
  waitFor,
} from './mysql-fixture.js';

// Reads and writes rows with raw SQL exactly as Dapr's state/mysql component does, to prove the
// two share one table.

const fixture = new MySqlFixture();
let store: TransactionalStateStore;

before(async () => {
  if (await fixture.start()) store = await fixture.store();
});

beforeEach(() => fixture.check());

after(async () => {
  await fixture.stop();
});

/** Dapr's last-write save: REPLACE with its JSON encoding, a UUID ETag and an optional TTL. */
async function daprSet(key: string, encoded: string, isBinary: boolean, ttlSeconds = 0) {
  const expiry = ttlSeconds > 0 ? `CURRENT_TIMESTAMP + INTERVAL ${ttlSeconds} SECOND` : 'NULL';
  const eTag = randomUUID();
  await fixture.raw.query(
    `REPLACE INTO ${fixture.table()} (id, value, eTag, isbinary, expiredate) VALUES (?, ?, ?, ?, ${expiry})`,
    [key, encoded, eTag, isBinary],
  );
  return eTag;
}

/** Dapr's read: the row if live, with the columns its Get scans. */
async function daprGet(key: string, table = fixture.table()) {
  const [rows] = await fixture.raw.query<RowDataPacket[]>(
    `SELECT id, CAST(value AS CHAR) AS value, eTag, isbinary, IFNULL(expiredate, "") AS expire
     FROM ${table} WHERE id = ? AND (expiredate IS NULL OR expiredate > CURRENT_TIMESTAMP)`,
    [key],
  );
  return rows[0];
}

describe('state.mysql storage compatibility with Dapr', () => {
  it('reads JSON, binary and expiring rows written by Dapr', async () => {
    const jsonTag = await daprSet('app||d-json', '{"a":1,"b":"x"}', false);
    await daprSet(
      'app||d-bin',
      JSON.stringify(Buffer.from([0, 1, 2, 255]).toString('base64')),
      true,
    );
    await daprSet('app||d-ttl', '"soon"', false, 100);

    const json = await store.get(getReq('app||d-json'), signal);
    assert.equal(text(json?.data), '{"a":1,"b":"x"}');
    assert.equal(json?.etag, jsonTag);
    const bin = await store.get(getReq('app||d-bin'), signal);
    assert.deepEqual([...(bin?.data ?? [])], [0, 1, 2, 255]);
    const ttl = await store.get(getReq('app||d-ttl'), signal);
    const expires = Date.parse(ttl?.metadata?.ttlExpireTime ?? '');
    assert.ok(Math.abs(expires - (Date.now() + 100_000)) < 5000);

    await fixture.raw.query(
      `REPLACE INTO ${fixture.table()} (id, value, eTag, isbinary, expiredate)
       VALUES ('app||d-gone', '1', ?, FALSE, CURRENT_TIMESTAMP - INTERVAL 5 SECOND)`,
      [randomUUID()],
    );
    assert.equal(await store.get(getReq('app||d-gone'), signal), undefined);

    // Dapr's ETag is accepted for an optimistic update.
    await store.set(jsonSet('app||d-json', '2', { etag: jsonTag }), signal);
    assert.equal(text((await store.get(getReq('app||d-json'), signal))?.data), '2');
  });

  it('writes rows that Dapr reads and updates', async () => {
    await store.set(jsonSet('app||t-json', '{"z": 1, "a": [true]}'), signal);
    await store.set(bytesSet('app||t-bin', Buffer.from('hi\u0000there')), signal);
    await store.set(jsonSet('app||t-ttl', '1', { ttlSeconds: 100 }), signal);

    const json = await daprGet('app||t-json');
    assert.equal(json?.value, '{"z": 1, "a": [true]}');
    assert.equal(json?.isbinary, 0);
    assert.equal(json?.expire, '');
    assert.equal(String(json?.eTag).length, 36);

    // Dapr decodes a binary row as a JSON string of standard base64.
    const bin = await daprGet('app||t-bin');
    assert.equal(bin?.isbinary, 1);
    const decoded = Buffer.from(JSON.parse(String(bin?.value)) as string, 'base64');
    assert.equal(decoded.toString(), 'hi\u0000there');

    const ttl = await daprGet('app||t-ttl');
    assert.match(String(ttl?.expire), /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/);

    // Dapr's ETag update matches the ETag Tapr wrote.
    const etag = (await store.get(getReq('app||t-json'), signal))?.etag;
    const [result] = await fixture.raw.query<ResultSetHeader>(
      `UPDATE ${fixture.table()} SET value = ?, eTag = ?, isbinary = ?, expiredate = NULL
       WHERE id = ? AND eTag = ? AND (expiredate IS NULL OR expiredate > CURRENT_TIMESTAMP)`,
      ['"from dapr"', randomUUID(), false, 'app||t-json', etag],
    );
    assert.equal(result.affectedRows, 1);
    assert.equal(text((await store.get(getReq('app||t-json'), signal))?.data), '"from dapr"');
  });

  it('upgrades a table created before Dapr 1.11 (no expiredate, no row_id)', async () => {
    await fixture.raw.query(`CREATE TABLE ${fixture.table('old_state')} (
      id VARCHAR(255) NOT NULL PRIMARY KEY,
      value JSON NOT NULL,
      isbinary BOOLEAN NOT NULL,
      insertDate TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
      updateDate TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP,
      eTag VARCHAR(36) NOT NULL)`);
    await fixture.raw.query(
      `INSERT INTO ${fixture.table('old_state')} (id, value, isbinary, eTag) VALUES ('app||old', '"old"', FALSE, ?)`,
      [randomUUID()],
    );
    const upgraded = await fixture.store({ tableName: 'old_state' });
    const [columns] = await fixture.raw.query<RowDataPacket[]>(
      `SELECT column_name AS name FROM information_schema.columns
       WHERE table_schema = ? AND table_name = 'old_state' ORDER BY ordinal_position`,
      [fixture.schema],
    );
    assert.deepEqual(
      columns.map((column) => column.name),
      ['id', 'value', 'isbinary', 'insertDate', 'updateDate', 'eTag', 'expiredate', 'row_id'],
    );
    const [indexes] = await fixture.raw.query<RowDataPacket[]>(
      `SHOW INDEX FROM ${fixture.table('old_state')}`,
    );
    const names = new Set(indexes.map((index) => index.Key_name));
    assert.ok(names.has('expiredate_idx') && names.has('row_id_uidx'));
    assert.equal(text((await upgraded.get(getReq('app||old'), signal))?.data), '"old"');
    await upgraded.set(jsonSet('app||old', '"new"', { ttlSeconds: 50 }), signal);
    assert.ok((await upgraded.get(getReq('app||old'), signal))?.metadata?.ttlExpireTime);
  });

  it('creates the schema and Dapr tables when missing', async () => {
    const schema = `${fixture.schema}_new`;
    try {
      const created = await fixture.store({ schemaName: schema, tableName: 'custom_state' });
      const [tables] = await fixture.raw.query<RowDataPacket[]>(
        'SELECT table_name AS name FROM information_schema.tables WHERE table_schema = ? ORDER BY 1',
        [schema],
      );
      assert.deepEqual(
        tables.map((table) => table.name),
        ['custom_state', 'dapr_metadata'],
      );
      await created.set(jsonSet('app||k', '1'), signal);
      assert.ok(await daprGet('app||k', `\`${schema}\`.\`custom_state\``));
    } finally {
      await fixture.raw.query(`DROP DATABASE IF EXISTS \`${schema}\``);
    }
  });

  it('deletes expired rows once per interval, recording last-cleanup as Dapr does', async () => {
    const gcStore = await fixture.store({ tableName: 'gc_state', cleanupInterval: '1h' });
    await gcStore.set(jsonSet('app||gc-old', '1', { ttlSeconds: 1 }), signal);
    await gcStore.set(jsonSet('app||gc-live', '1', { ttlSeconds: 100 }), signal);
    await waitFor('expiry', async () => !(await gcStore.get(getReq('app||gc-old'), signal)));
    assert.equal(await fixture.cleanup(gcStore), 1);
    const [rows] = await fixture.raw.query<RowDataPacket[]>(
      `SELECT id FROM ${fixture.table('gc_state')}`,
    );
    assert.deepEqual(
      rows.map((row) => row.id),
      ['app||gc-live'],
    );
    const [meta] = await fixture.raw.query<RowDataPacket[]>(
      `SELECT value FROM ${fixture.table('dapr_metadata')} WHERE id = 'last-cleanup'`,
    );
    assert.match(String(meta[0]?.value), /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/);
    // Claimed a moment ago (by this or another sidecar): the next run within the hour skips.
    await gcStore.set(jsonSet('app||gc-old2', '1', { ttlSeconds: 1 }), signal);
    await waitFor('expiry', async () => !(await gcStore.get(getReq('app||gc-old2'), signal)));
    assert.equal(await fixture.cleanup(gcStore), 0);
  });

  it('runs the clean-up in the background at cleanupInterval', async () => {
    await fixture.raw.query(`DELETE FROM ${fixture.table('dapr_metadata')}`);
    const gcStore = await fixture.store({ tableName: 'bg_state', cleanupInterval: '1s' });
    await gcStore.set(jsonSet('app||bg', '1', { ttlSeconds: 1 }), signal);
    await waitFor(
      'the background clean-up to delete the expired row',
      async () => {
        const [rows] = await fixture.raw.query<RowDataPacket[]>(
          `SELECT id FROM ${fixture.table('bg_state')}`,
        );
        return rows.length === 0;
      },
      8000,
    );
  });

  it('accepts a mysql:// URL and sends unknown DSN parameters as session variables', async () => {
    const url = await fixture.store({
      connectionString: 'mysql://root:@127.0.0.1:3306/?parseTime=true&time_zone=%27%2B05%3A00%27',
      tableName: 'url_state',
    });
    await url.set(jsonSet('app||url', '1', { ttlSeconds: 100 }), signal);
    // The expiry is reported in UTC whatever the session time zone.
    const expires = Date.parse(
      (await url.get(getReq('app||url'), signal))?.metadata?.ttlExpireTime ?? '',
    );
    assert.ok(Math.abs(expires - (Date.now() + 100_000)) < 5000);
    await assert.rejects(
      fixture.store({ connectionString: `${MYSQL_DSN}&tapr_no_such_variable=1` }),
      /tapr_no_such_variable/,
    );
  });
});
