import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import {
  isBusyError,
  type OpenSqliteOptions,
  openSqliteDatabase,
  retryWhileBusy,
} from '../../../../src/components/common/sqlite-database.js';

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tapr-common-sqlite-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

function busy(): Error {
  return Object.assign(new Error('database is locked'), { code: 'SQLITE_BUSY' });
}

function options(filename: string, extra: Partial<OpenSqliteOptions> = {}): OpenSqliteOptions {
  return {
    file: { filename, fileMustExist: false, pragmas: ['synchronous(NORMAL)'] },
    busyTimeoutMs: 2000,
    journalMode: 'WAL',
    timeoutMs: 1000,
    signal: AbortSignal.timeout(30_000),
    setUp: () => {},
    ...extra,
  };
}

describe('components/common: SQLite database', () => {
  it('tells busy errors from others', () => {
    assert.equal(isBusyError(busy()), true);
    assert.equal(isBusyError({ code: 'SQLITE_BUSY_SNAPSHOT' }), true);
    assert.equal(isBusyError({ code: 'SQLITE_LOCKED_SHAREDCACHE' }), true);
    assert.equal(isBusyError({ code: 'SQLITE_CONSTRAINT' }), false);
    assert.equal(isBusyError(new Error('SQLITE_BUSY')), false);
    assert.equal(isBusyError(null), false);
  });

  it('retries busy work within its budget and nothing else', async () => {
    let calls = 0;
    const value = await retryWhileBusy(() => {
      calls++;
      if (calls < 3) throw busy();
      return 'done';
    }, 5000);
    assert.equal(value, 'done');
    assert.equal(calls, 3);
    let failing = 0;
    await assert.rejects(
      retryWhileBusy(() => {
        failing++;
        throw new Error('broken');
      }, 5000),
      /broken/,
    );
    assert.equal(failing, 1);
    await assert.rejects(
      retryWhileBusy(() => {
        throw busy();
      }, 0),
      /database is locked/,
    );
    await assert.rejects(
      retryWhileBusy(() => 1, 5000, AbortSignal.abort(new Error('stopped'))),
      /stopped/,
    );
  });

  it('opens a file with its pragmas, a short busy wait and the journal asked for', async () => {
    const file = join(dir, 'open.db');
    const kept: string[] = [];
    const db = await openSqliteDatabase(
      Database,
      options(file, {
        onJournalKept: (_requested, mode) => kept.push(mode),
        setUp: (opened) => {
          opened.exec('CREATE TABLE t (x)');
        },
      }),
    );
    try {
      assert.equal(db.pragma('journal_mode', { simple: true }), 'wal');
      assert.equal(db.pragma('synchronous', { simple: true }), 1);
      assert.equal(db.pragma('busy_timeout', { simple: true }), 25);
      assert.deepEqual(kept, []);
      assert.equal(db.prepare('SELECT count(*) FROM t').pluck().get(), 0);
    } finally {
      db.close();
    }
  });

  it('closes the database when its set-up fails, and refuses a missing file when told', async () => {
    let seen: Database.Database | undefined;
    await assert.rejects(
      openSqliteDatabase(
        Database,
        options(join(dir, 'setup.db'), {
          setUp: (db) => {
            seen = db;
            throw new Error('schema too new');
          },
        }),
      ),
      /schema too new/,
    );
    assert.equal(seen?.open, false);
    await assert.rejects(
      openSqliteDatabase(Database, {
        ...options(join(dir, 'missing.db')),
        file: { filename: join(dir, 'missing.db'), fileMustExist: true, pragmas: [] },
      }),
      /unable to open database file|does not exist/,
    );
  });

  it('keeps a read-only file as it is and leaves the check to the set-up', async () => {
    const file = join(dir, 'ro.db');
    const writer = new Database(file);
    writer.exec('CREATE TABLE t (x)');
    writer.close();
    let tables = 0;
    const db = await openSqliteDatabase(Database, {
      ...options(file, {
        busyTimeoutMs: 0,
        journalMode: undefined,
        setUp: (opened) => {
          tables = opened
            .prepare('SELECT count(*) AS n FROM sqlite_master')
            .pluck()
            .get() as number;
        },
      }),
      file: { filename: file, readOnly: true, fileMustExist: true, pragmas: [] },
    });
    try {
      assert.equal(db.readonly, true);
      assert.equal(tables, 1);
      assert.equal(db.pragma('journal_mode', { simple: true }), 'delete');
      assert.equal(db.pragma('busy_timeout', { simple: true }), 0);
    } finally {
      db.close();
    }
  });
});
