import type BetterSqlite3 from 'better-sqlite3';
import { delay } from '../../kernel/abort.js';
import type { SqliteConnectionString, SqliteJournalMode } from './sqlite-connection-string.js';

/**
 * The longest SQLite's own busy handler may block the event loop at once. Longer lock waits
 * are retried asynchronously within the caller's budget, so a writer in another process never
 * freezes this one (its timers, subscriptions and servers) for the whole busy timeout.
 */
export const BUSY_SLICE_MS = 25;

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

/** How to open one database file. */
export interface OpenSqliteOptions {
  /** The file from the decoded connection string; its pragmas run first, in order. */
  readonly file: Pick<SqliteConnectionString, 'filename' | 'fileMustExist' | 'pragmas'> & {
    readonly readOnly?: boolean;
  };
  /**
   * The component's `busyTimeout`: SQLite's own wait on a lock, cut to `BUSY_SLICE_MS`;
   * 0 or less leaves SQLite's default of not waiting, as Dapr does.
   */
  readonly busyTimeoutMs: number;
  /** The journal to switch to; undefined keeps the file's (a read-only file cannot switch). */
  readonly journalMode: SqliteJournalMode | undefined;
  /** How long the switch may wait for other processes holding the file. */
  readonly timeoutMs: number;
  readonly signal: AbortSignal;
  /** Told when SQLite keeps another journal mode than the one asked for. */
  readonly onJournalKept?: (requested: SqliteJournalMode, mode: string) => void;
  /** Brings the schema to its level (or checks it); a failure closes the database. */
  readonly setUp: (db: BetterSqlite3.Database) => void | Promise<void>;
}

/**
 * Opens the file, applies the pragmas and the busy slice, switches the journal (a moment that
 * needs no other writer, so it waits like a write) and runs the component's set-up.
 */
export async function openSqliteDatabase(
  Database: typeof BetterSqlite3,
  options: OpenSqliteOptions,
): Promise<BetterSqlite3.Database> {
  const { file } = options;
  const db = new Database(file.filename, {
    readonly: file.readOnly ?? false,
    fileMustExist: file.fileMustExist,
  });
  try {
    for (const pragma of file.pragmas) db.pragma(pragma);
    db.pragma(`busy_timeout = ${Math.max(0, Math.min(options.busyTimeoutMs, BUSY_SLICE_MS))}`);
    const { journalMode } = options;
    if (journalMode !== undefined) {
      const mode = await retryWhileBusy(
        () => db.pragma(`journal_mode = ${journalMode}`, { simple: true }),
        options.timeoutMs,
        options.signal,
      );
      if (String(mode).toUpperCase() !== journalMode) {
        options.onJournalKept?.(journalMode, String(mode));
      }
    }
    await options.setUp(db);
    return db;
  } catch (error) {
    db.close();
    throw error;
  }
}
