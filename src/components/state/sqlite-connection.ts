import type BetterSqlite3 from 'better-sqlite3';
import { delay } from '../../kernel/abort.js';
import type { Logger } from '../../kernel/logger.js';
import type { SqliteTarget } from './sqlite-dsn.js';
import {
  createMetadataTableSql,
  createStateTableSql,
  MIGRATION_KEY,
  MIGRATION_LEVEL,
} from './sqlite-sql.js';

/**
 * The longest SQLite's own busy handler may block the event loop at once. Lock waits beyond it
 * are retried asynchronously until `busyTimeout` runs out, so a writer in another process
 * never freezes this one for the whole timeout.
 */
export const BUSY_SLICE_MS = 25;

/** True for SQLite's "database is locked" family (`SQLITE_BUSY`, `SQLITE_BUSY_SNAPSHOT`, ...). */
export function isBusyError(error: unknown): boolean {
  if (typeof error !== 'object' || error === null || !('code' in error)) return false;
  const code = (error as { code: unknown }).code;
  return (
    typeof code === 'string' &&
    (code.startsWith('SQLITE_BUSY') || code === 'SQLITE_LOCKED_SHAREDCACHE')
  );
}

/**
 * Runs one synchronous unit of work, retrying while the database is locked by another
 * connection until `budgetMs` has passed. The work must have no effect when it throws a busy
 * error (one statement, or one transaction that rolls back), so a retry is safe.
 */
export async function retryWhileBusy<T>(
  work: () => T,
  budgetMs: number,
  signal?: AbortSignal,
): Promise<T> {
  const deadline = Date.now() + Math.max(0, budgetMs);
  for (let attempt = 0; ; attempt++) {
    signal?.throwIfAborted();
    try {
      return work();
    } catch (error) {
      if (!isBusyError(error) || Date.now() >= deadline) throw error;
    }
    const backoff = Math.min(2 ** attempt, 20) * (0.5 + Math.random());
    await delay(Math.max(1, Math.min(backoff, deadline - Date.now())), signal);
  }
}

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
  const db = new Database(target.filename, {
    readonly: target.readonly,
    fileMustExist: target.fileMustExist,
  });
  try {
    for (const pragma of target.pragmas) db.pragma(pragma);
    // Dapr leaves SQLite's default (no waiting) when busyTimeout is 0 or less.
    db.pragma(`busy_timeout = ${Math.max(0, Math.min(options.busyTimeoutMs, BUSY_SLICE_MS))}`);
    // A read-only connection can neither switch the journal nor migrate; the file must be ready.
    if (target.readonly) {
      requireTable(db, options.tableName);
      return db;
    }
    // Switching to WAL needs a moment with no other writer, so it waits like any write.
    const mode = await retryWhileBusy(
      () => db.pragma(`journal_mode = ${target.journalMode}`, { simple: true }),
      options.timeoutMs,
      options.signal,
    );
    if (String(mode).toUpperCase() !== target.journalMode && !target.inMemory) {
      logger.debug('sqlite kept a different journal mode', { requested: target.journalMode, mode });
    }
    await retryWhileBusy(() => migrate(db, options), options.timeoutMs, options.signal);
    return db;
  } catch (error) {
    db.close();
    throw error;
  }
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
