import type BetterSqlite3 from 'better-sqlite3';
import type { Logger } from '../../kernel/logger.js';
import { sqliteJournalMode } from '../common/sqlite-connection-string.js';
import { openSqliteDatabase, retryWhileBusy } from '../common/sqlite-database.js';
import {
  metadataTableSql,
  type PubSubTables,
  SCHEMA_KEY,
  SCHEMA_LEVEL,
  schemaSql,
} from './sqlite-schema.js';
import type { SqlitePubSubTarget } from './sqlite-target.js';

/**
 * The longest SQLite's own busy handler may block the event loop at once in pub/sub, whatever
 * `busyTimeout` says; longer lock waits are retried asynchronously within the caller's budget.
 */
const BUSY_SLICE_MS = 10;

/** What opening the database needs. */
export interface OpenPubSubOptions {
  readonly target: SqlitePubSubTarget;
  readonly tables: PubSubTables;
  readonly disableWAL: boolean;
  /** How long start-up waits for another process holding the file. */
  readonly timeoutMs: number;
  readonly logger: Logger;
  readonly signal: AbortSignal;
}

/** Opens the file, applies the pragmas, switches to WAL and brings the schema to its level. */
export async function openPubSubDatabase(
  Database: typeof BetterSqlite3,
  options: OpenPubSubOptions,
): Promise<BetterSqlite3.Database> {
  const { target, logger } = options;
  return openSqliteDatabase(Database, {
    file: target,
    busyTimeoutMs: BUSY_SLICE_MS,
    // WAL lets readers (every idle subscriber's poll) run while a publisher writes.
    journalMode: sqliteJournalMode(target, options.disableWAL),
    timeoutMs: options.timeoutMs,
    signal: options.signal,
    onJournalKept: (requested, mode) => {
      logger.warn('sqlite kept a different journal mode', { requested, mode });
    },
    setUp: (db) => retryWhileBusy(() => migrate(db, options), options.timeoutMs, options.signal),
  });
}

/**
 * Creates or upgrades the tables in one exclusive transaction, so processes starting together
 * do not race; a file written by a newer Tapr (a higher level) is refused rather than misread.
 */
function migrate(db: BetterSqlite3.Database, options: OpenPubSubOptions): void {
  const { tables, logger } = options;
  db.transaction(() => {
    db.exec(metadataTableSql(tables));
    const row = db
      .prepare<[string], { value: unknown }>(`SELECT value FROM ${tables.metadata} WHERE key = ?`)
      .get(SCHEMA_KEY);
    const level = row === undefined ? 0 : Number(row.value);
    if (!Number.isSafeInteger(level) || level < 0) {
      throw new Error(`invalid schema level in ${tables.metadata}: ${String(row?.value)}`);
    }
    if (level > SCHEMA_LEVEL) {
      throw new Error(
        `the pub/sub tables are at schema level ${level}, newer than this Tapr knows (${SCHEMA_LEVEL})`,
      );
    }
    if (level === SCHEMA_LEVEL) return;
    db.exec(schemaSql(tables));
    db.prepare(`REPLACE INTO ${tables.metadata} (key, value) VALUES (?, ?)`).run(
      SCHEMA_KEY,
      String(SCHEMA_LEVEL),
    );
    logger.info('created sqlite pub/sub tables', { prefix: tables.messages });
  }).exclusive();
}
