import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createComponent } from '../../../../src/components/contracts/component.js';
import { isNameNotFoundError } from '../../../../src/components/contracts/nameresolution.js';
import { sqliteStateStore } from '../../../../src/components/state/sqlite.js';
import {
  context,
  eventually,
  FAST,
  instance,
  openResolver,
  ports,
  rawDriver,
  tempHome,
} from './sqlite-fixture.js';

let home: Awaited<ReturnType<typeof tempHome>>;
before(async () => {
  home = await tempHome();
});
after(async () => {
  await home.cleanup();
});

/** Dapr's migration 1 and its metadata table, as components-contrib creates them. */
const DAPR_SCHEMA = `
  CREATE TABLE IF NOT EXISTS metadata (key text NOT NULL PRIMARY KEY, value text NOT NULL);
  CREATE TABLE hosts (
    registration_id TEXT NOT NULL PRIMARY KEY,
    address TEXT NOT NULL,
    app_id TEXT NOT NULL,
    namespace TEXT NOT NULL,
    last_update INTEGER NOT NULL
  );
  CREATE UNIQUE INDEX hosts_address_idx ON hosts (address);
  CREATE INDEX hosts_last_update_idx ON hosts (last_update);
  REPLACE INTO metadata (key, value) VALUES ('nr-migrations', '1');
`;

/** Dapr's registration statement, with `age` seconds subtracted to make stale rows. */
const DAPR_REGISTER = `REPLACE INTO hosts (registration_id, address, app_id, namespace, last_update)
  VALUES (?, ?, ?, ?, unixepoch(CURRENT_TIMESTAMP) - ?)`;

/** Dapr's ResolveID query with its default 5s update interval. */
const DAPR_RESOLVE = `SELECT address FROM hosts WHERE ROWID = (
  SELECT ROWID FROM hosts
  WHERE app_id = ? AND unixepoch(CURRENT_TIMESTAMP) - last_update < 5
  ORDER BY RANDOM() LIMIT 1)`;

interface HostRow {
  registration_id: string;
  address: string;
  app_id: string;
  namespace: string;
  last_update: number;
}

describe('nameresolution.sqlite storage layout', () => {
  it("creates Dapr's table, indexes and migration level", async () => {
    const file = join(home.dir, 'fresh.db');
    const resolver = await openResolver({ connectionString: file });
    await resolver.close();
    const raw = new (rawDriver())(file, { readonly: true });
    try {
      const columns = raw.prepare('PRAGMA table_info(hosts)').all() as {
        name: string;
        type: string;
        notnull: number;
        pk: number;
      }[];
      assert.deepEqual(
        columns.map((column) => [column.name, column.type, column.notnull, column.pk]),
        [
          ['registration_id', 'TEXT', 1, 1],
          ['address', 'TEXT', 1, 0],
          ['app_id', 'TEXT', 1, 0],
          ['namespace', 'TEXT', 1, 0],
          ['last_update', 'INTEGER', 1, 0],
        ],
      );
      const indexes = raw.prepare('PRAGMA index_list(hosts)').all() as {
        name: string;
        unique: number;
      }[];
      assert.deepEqual(
        indexes
          .filter((index) => !index.name.startsWith('sqlite_autoindex'))
          .map((index) => [index.name, index.unique])
          .sort(),
        [
          ['hosts_address_idx', 1],
          ['hosts_last_update_idx', 0],
        ],
      );
      assert.deepEqual(
        raw.prepare("SELECT value FROM metadata WHERE key = 'nr-migrations'").get(),
        {
          value: '1',
        },
      );
      assert.equal(raw.pragma('journal_mode', { simple: true }), 'wal');
    } finally {
      raw.close();
    }
  });

  it('resolves rows written by Dapr’s resolver, live ones only, in turns', async () => {
    const file = join(home.dir, 'from-dapr.db');
    const raw = new (rawDriver())(file);
    raw.exec(DAPR_SCHEMA);
    const register = raw.prepare(DAPR_REGISTER);
    register.run(randomUUID(), '127.0.0.1:52001', 'daprd-app', '', 0);
    register.run(randomUUID(), '[::1]:52002', 'daprd-app', '', 1);
    register.run(randomUUID(), '127.0.0.1:52003', 'daprd-app', '', 30);
    register.run(randomUUID(), '127.0.0.1:52004', 'stale-app', '', 5);
    raw.close();

    const resolver = await openResolver({ connectionString: file, cleanupInterval: '0' });
    try {
      const seen = [];
      for (let i = 0; i < 4; i++) seen.push(await resolver.resolve({ appId: 'daprd-app' }));
      assert.deepEqual(seen, [
        { host: '127.0.0.1', port: 52001 },
        { host: '::1', port: 52002 },
        { host: '127.0.0.1', port: 52001 },
        { host: '::1', port: 52002 },
      ]);
      // Dapr's liveness: renewed less than updateInterval (5s) ago, in whole seconds.
      await assert.rejects(resolver.resolve({ appId: 'stale-app' }), isNameNotFoundError);
      // Rows without a namespace (all of Dapr's) answer a namespaced lookup too.
      assert.equal((await resolver.resolve({ appId: 'daprd-app', namespace: 'ns' })).port, 52001);
    } finally {
      await resolver.close();
    }
  });

  it('writes rows Dapr’s resolver reads, renews and deletes', async () => {
    const file = join(home.dir, 'to-dapr.db');
    const resolver = await openResolver({ connectionString: file });
    await resolver.register(instance('tapr-app', 52101));
    const raw = new (rawDriver())(file);
    try {
      const row = raw.prepare('SELECT * FROM hosts').get() as HostRow;
      assert.match(
        row.registration_id,
        /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
      );
      assert.equal(row.address, '127.0.0.1:52101');
      assert.equal(row.app_id, 'tapr-app');
      assert.equal(row.namespace, '');
      assert.equal(typeof row.last_update, 'number');
      assert.ok(Math.abs(row.last_update - Date.now() / 1000) < 3);
      assert.deepEqual(raw.prepare(DAPR_RESOLVE).get('tapr-app'), { address: '127.0.0.1:52101' });
      const renew = raw.prepare(
        'UPDATE hosts SET last_update = unixepoch(CURRENT_TIMESTAMP) WHERE registration_id = ? AND address = ?',
      );
      assert.equal(renew.run(row.registration_id, row.address).changes, 1);
      await resolver.close();
      // Dapr deletes by registration id and address; Tapr's close did the same.
      assert.deepEqual(raw.prepare('SELECT count(*) AS n FROM hosts').get(), { n: 0 });
    } finally {
      raw.close();
      await resolver.close();
    }
  });

  it('writes an IPv6 host the way Go joins host and port', async () => {
    const file = join(home.dir, 'ipv6.db');
    const resolver = await openResolver({ connectionString: file });
    try {
      await resolver.register({ appId: 'v6', address: '::1', internalGrpcPort: 52201 });
      const raw = new (rawDriver())(file, { readonly: true });
      assert.deepEqual(raw.prepare('SELECT address FROM hosts').get(), { address: '[::1]:52201' });
      raw.close();
      assert.deepEqual(await resolver.resolve({ appId: 'v6' }), { host: '::1', port: 52201 });
    } finally {
      await resolver.close();
    }
  });

  it('writes its row again when something deletes it (Dapr’s cleanup deletes live rows)', async () => {
    const file = join(home.dir, 'lost.db');
    const [caller, target] = [
      await openResolver({ connectionString: file, ...FAST }),
      await openResolver({ connectionString: file, ...FAST }),
    ];
    const raw = new (rawDriver())(file);
    try {
      await target.register(instance('phoenix', 52301));
      // Dapr's collector query, which removes rows renewed within the interval.
      raw.prepare('DELETE FROM hosts WHERE unixepoch(CURRENT_TIMESTAMP) - last_update < 2').run();
      await assert.rejects(caller.resolve({ appId: 'phoenix' }), isNameNotFoundError);
      const back = await eventually(async () => {
        const found = await ports(caller, 'phoenix', 1).catch(() => []);
        return found[0] === 52301;
      }, 5000);
      assert.ok(back, 'the registration was not written again');
    } finally {
      raw.close();
      await Promise.all([caller.close(), target.close()]);
    }
  });

  it('cleans long-dead rows under the cleanup claim Dapr shares', async () => {
    const file = join(home.dir, 'cleanup.db');
    const raw = new (rawDriver())(file);
    raw.exec(DAPR_SCHEMA);
    const register = raw.prepare(DAPR_REGISTER);
    register.run(randomUUID(), '127.0.0.1:52401', 'old', '', 3600);
    register.run(randomUUID(), '127.0.0.1:52402', 'recent', '', 3);
    const resolver = await openResolver({ connectionString: file, ...FAST });
    try {
      const left = raw.prepare('SELECT app_id FROM hosts ORDER BY app_id').all();
      // Dead for 3 intervals (6s here) goes; a row dead for a moment stays.
      assert.deepEqual(left, [{ app_id: 'recent' }]);
      const claim = raw.prepare("SELECT value FROM metadata WHERE key = 'nr-last-cleanup'").get() as
        | { value: string }
        | undefined;
      assert.match(claim?.value ?? '', /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/);
    } finally {
      raw.close();
      await resolver.close();
    }
  });

  it('shares one file with state.sqlite (separate migration keys)', async () => {
    const file = join(home.dir, 'shared.db');
    const { instance: store } = await createComponent(
      sqliteStateStore,
      { connectionString: file },
      { ...context, name: 'statestore' },
    );
    const resolver = await openResolver({ connectionString: file });
    try {
      await resolver.register(instance('both', 52501));
      assert.equal((await resolver.resolve({ appId: 'both' })).port, 52501);
      const raw = new (rawDriver())(file, { readonly: true });
      const keys = raw.prepare('SELECT key, value FROM metadata ORDER BY key').all();
      raw.close();
      assert.deepEqual(
        keys.filter((row) => (row as { key: string }).key.includes('migrations')),
        [
          { key: 'migrations', value: '1' },
          { key: 'nr-migrations', value: '1' },
        ],
      );
    } finally {
      await Promise.all([store.close(), resolver.close()]);
    }
  });
});
