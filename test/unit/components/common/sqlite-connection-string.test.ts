import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  parseSqliteConnectionString,
  sqliteJournalMode,
} from '../../../../src/components/common/sqlite-connection-string.js';
import { resolveHostsTarget } from '../../../../src/components/nameresolution/sqlite-hosts.js';
import { resolvePubSubTarget } from '../../../../src/components/pubsub/sqlite-target.js';

describe('components/common: SQLite connection strings', () => {
  it('decodes paths and file: URIs as SQLite reads them', () => {
    const plain = parseSqliteConnectionString('/tmp/a.db');
    assert.equal(plain.filename, '/tmp/a.db');
    assert.equal(plain.inMemory, false);
    assert.equal(plain.readOnly, false);
    assert.equal(plain.mode, undefined);
    const uri = parseSqliteConnectionString(
      'FILE://localhost/data%20dir/a+b.db?mode=rw&mode=ro&_pragma=synchronous(FULL)&x=1#frag',
    );
    assert.equal(uri.filename, '/data dir/a+b.db');
    assert.equal(uri.mode, 'rw');
    assert.equal(uri.fileMustExist, true);
    assert.deepEqual(uri.pragmas, ['synchronous(FULL)']);
    assert.deepEqual(uri.options.get('mode'), ['rw', 'ro']);
    assert.equal(parseSqliteConnectionString('a.db#x?mode=ro').path, 'a.db');
    assert.equal(parseSqliteConnectionString('a.db?immutable=1').readOnly, true);
    for (const memory of [':memory:', 'file::memory:', 'file:x.db?mode=memory']) {
      const parsed = parseSqliteConnectionString(memory);
      assert.equal(parsed.filename, ':memory:', memory);
      assert.equal(parsed.inMemory, true, memory);
    }
    // A query counts only after a non-empty path, as in Dapr.
    const bare = parseSqliteConnectionString('file:?mode=memory');
    assert.equal(bare.path, '');
    assert.equal(bare.inMemory, false);
  });

  it('refuses unknown modes, remote authorities and pragmas the metadata owns', () => {
    assert.throws(() => parseSqliteConnectionString('a.db?mode=rwx'), /no such access mode: rwx/);
    assert.throws(() => parseSqliteConnectionString('file://host/a.db'), /invalid uri authority/);
    assert.throws(
      () => parseSqliteConnectionString('a.db?_pragma=busy_timeout(5)'),
      /forbidden option '_pragma=busy_timeout' in the connection string; use the busyTimeout/,
    );
    assert.throws(
      () => parseSqliteConnectionString('a.db?_pragma=JOURNAL_MODE(wal)'),
      /forbidden option '_pragma=journal_mode'/,
    );
    assert.throws(
      () => parseSqliteConnectionString('a.db?_pragma=x;DROP TABLE t'),
      /invalid option '_pragma=x;DROP TABLE t'/,
    );
  });

  it('picks the journal Dapr uses', () => {
    const target = (inMemory: boolean, readOnly: boolean) => ({ inMemory, readOnly });
    assert.equal(sqliteJournalMode(target(false, false), false), 'WAL');
    assert.equal(sqliteJournalMode(target(false, false), true), 'DELETE');
    assert.equal(sqliteJournalMode(target(false, true), false), 'DELETE');
    assert.equal(sqliteJournalMode(target(true, false), true), 'MEMORY');
  });

  it('lets writers refuse read-only databases and strings naming no file', () => {
    for (const resolve of [resolvePubSubTarget, resolveHostsTarget]) {
      assert.throws(() => resolve('file:/tmp/x.db?mode=ro'), /read-only/);
      assert.throws(() => resolve('/tmp/x.db?immutable=1'), /immutable|read-only/);
      assert.throws(() => resolve('file:?mode=rw'), /names no database file/);
      assert.throws(() => resolve('/tmp/x.db?mode=sometimes'), /no such access mode/);
      assert.equal(resolve('file:/tmp/x.db?mode=rwc').filename, '/tmp/x.db');
    }
  });
});
