import type BetterSqlite3 from 'better-sqlite3';
import type { Logger } from '../../kernel/logger.js';
import { openSqliteDatabase, retryWhileBusy } from '../common/sqlite-database.js';
import type { SqliteTarget } from './sqlite-dsn.js';
import {
  createMetadataTableSql,
  createStateTableSql,
  MIGRATION_KEY,
  MIGRATION_LEVEL,
} from './sqlite-sql.js';

/** Settings applied to a freshly opened connection. */
export interface OpenOptions {
  readonly target: SqliteTarget;
  readonly busyTimeoutMs: number;
  /** Dapr's `timeout`: how long start-up waits for another process holding the database. */
  readonly timeoutMs: number;
  readonly tableName: string;
  readonly metadataTableName: string;
  readonly logger: Logger;
  readonly signal: AbortSignal;
}

/** Opens the database, applies the pragmas and brings the tables to Dapr's migration level. */
export async function openDatabase(
  Database: typeof BetterSqlite3,
  options: OpenOptions,
): Promise<BetterSqlite3.Database> {
  const { target, logger } = options;
  return openSqliteDatabase(Database, {
    file: { ...target, readOnly: target.readonly },
    busyTimeoutMs: options.busyTimeoutMs,
    // A read-only connection can neither switch the journal nor migrate; the file must be ready.
    journalMode: target.readonly ? undefined : target.journalMode,
    timeoutMs: options.timeoutMs,
    signal: options.signal,
    onJournalKept: (requested, mode) => {
      if (!target.inMemory)
        logger.debug('sqlite kept a different journal mode', { requested, mode });
    },
    setUp: target.readonly
      ? (db) => requireTable(db, options.tableName)
      : (db) => retryWhileBusy(() => migrate(db, options), options.timeoutMs, options.signal),
  });
}

function requireTable(db: BetterSqlite3.Database, table: string): void {
  const found = db
    .prepare<[string], { name: string }>(
      "SELECT name FROM sqlite_master WHERE type = 'table' AND name = ?",
    )
    .get(table);
  if (found === undefined) {
    throw new Error(`state table "${table}" does not exist in the read-only database`);
  }
}

/**
 * Dapr's migrations, in one exclusive transaction so concurrent sidecars do not race: the
 * metadata table holds the level under `migrations`; level 1 is the state table.
 */
function migrate(db: BetterSqlite3.Database, options: OpenOptions): void {
  const { tableName, metadataTableName, logger } = options;
  db.transaction(() => {
    db.exec(createMetadataTableSql(metadataTableName));
    const row = db
      .prepare<[string], { value: unknown }>(`SELECT value FROM ${metadataTableName} WHERE key = ?`)
      .get(MIGRATION_KEY);
    const level = row === undefined ? 0 : Number(row.value);
    if (!Number.isSafeInteger(level) || level < 0) {
      throw new Error(`invalid migration level found in metadata table: ${String(row?.value)}`);
    }
    // Always ensured, not only below level 1: Dapr skips it when another table name already
    // raised the shared level, which leaves a second state table uncreated.
    db.exec(createStateTableSql(tableName));
    if (level < MIGRATION_LEVEL) {
      logger.info('created sqlite state table', { table: tableName });
      db.prepare(`REPLACE INTO ${metadataTableName} (key, value) VALUES (?, ?)`).run(
        MIGRATION_KEY,
        String(MIGRATION_LEVEL),
      );
    }
  }).exclusive();
}
