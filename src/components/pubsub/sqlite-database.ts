import type BetterSqlite3 from 'better-sqlite3';
import { delay } from '../../kernel/abort.js';
import type { Logger } from '../../kernel/logger.js';
import {
  metadataTableSql,
  type PubSubTables,
  SCHEMA_KEY,
  SCHEMA_LEVEL,
  schemaSql,
} from './sqlite-schema.js';
import type { SqlitePubSubTarget } from './sqlite-target.js';

/**
 * The longest SQLite's own busy handler may block the event loop at once. Longer lock waits
 * are retried asynchronously within the caller's budget, so a writer in another process never
 * freezes this one (its subscriptions, timers and HTTP server) for the whole busy timeout.
 */
const BUSY_SLICE_MS = 10;

/** True for SQLite's "database is locked" family (`SQLITE_BUSY`, `SQLITE_BUSY_SNAPSHOT`, ...). */
export function isBusyError(error: unknown): boolean {
  if (typeof error !== 'object' || error === null || !('code' in error)) return false;
  const { code } = error;
  return (
    typeof code === 'string' &&
    (code.startsWith('SQLITE_BUSY') || code === 'SQLITE_LOCKED_SHAREDCACHE')
  );
}

/**
 * Runs one synchronous unit of work, retrying while another connection holds the lock until
 * `budgetMs` has passed. The work must have no effect when it throws a busy error (a single
 * statement, or a transaction that rolled back), so retrying is safe.
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
    // Jittered so two processes that collided do not collide again in lockstep.
    const backoff = Math.min(2 ** attempt, 20) * (0.5 + Math.random());
    await delay(Math.max(1, Math.min(backoff, deadline - Date.now())), signal);
  }
}

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
  const db = new Database(target.filename, { fileMustExist: target.fileMustExist });
  try {
    for (const pragma of target.pragmas) db.pragma(pragma);
    db.pragma(`busy_timeout = ${BUSY_SLICE_MS}`);
    if (!target.inMemory) {
      // WAL lets readers (every idle subscriber's poll) run while a publisher writes.
      const journal = options.disableWAL ? 'DELETE' : 'WAL';
      const mode = await retryWhileBusy(
        () => db.pragma(`journal_mode = ${journal}`, { simple: true }),
        options.timeoutMs,
        options.signal,
      );
      if (String(mode).toUpperCase() !== journal) {
        logger.warn('sqlite kept a different journal mode', { requested: journal, mode });
      }
    }
    await retryWhileBusy(() => migrate(db, options), options.timeoutMs, options.signal);
    return db;
  } catch (error) {
    db.close();
    throw error;
  }
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
