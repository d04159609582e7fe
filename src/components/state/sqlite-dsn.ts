import type { Logger } from '../../kernel/logger.js';
import {
  parseSqliteConnectionString,
  type SqliteJournalMode,
  sqliteJournalMode,
} from '../common/sqlite-connection-string.js';

/** How a transaction takes its lock: Dapr's `_txlock` connection-string option. */
export type SqliteTxLock = 'deferred' | 'immediate' | 'exclusive';

/** What a connection string resolves to, following Dapr's `GetConnectionString`. */
export interface SqliteTarget {
  /** The path handed to better-sqlite3, or `:memory:`. */
  readonly filename: string;
  readonly readonly: boolean;
  /** SQLite's `mode=rw`: open an existing file only. */
  readonly fileMustExist: boolean;
  /** `_pragma` values from the connection string, run in order after opening. */
  readonly pragmas: readonly string[];
  readonly txlock: SqliteTxLock;
  readonly journalMode: SqliteJournalMode;
  readonly inMemory: boolean;
}

const TX_LOCKS: readonly SqliteTxLock[] = ['deferred', 'immediate', 'exclusive'];
/** SQLite URI options better-sqlite3 cannot pass on (it opens plain file names). */
const UNSUPPORTED = ['vfs', 'nolock', 'psow', 'modeof'];

/**
 * Resolves a connection string as Dapr does (`parseSqliteConnectionString`), adding what only
 * the state store reads: `_txlock` (default `immediate`), the journal (WAL unless disabled,
 * read-only or in memory) and a warning for URI options the driver cannot apply.
 */
export function resolveConnectionString(
  connectionString: string,
  disableWAL: boolean,
  logger: Logger,
): SqliteTarget {
  const parsed = parseSqliteConnectionString(connectionString);
  const txlockText = parsed.options.get('_txlock')?.[0]?.toLowerCase() ?? 'immediate';
  const txlock = TX_LOCKS.find((lock) => lock === txlockText);
  if (txlock === undefined) {
    throw new Error(`unknown _txlock "${txlockText}" in the connection string`);
  }
  if (txlock !== 'immediate') {
    logger.warn(
      "database connection uses a _txlock different from the recommended value 'immediate'",
    );
  }
  const ignored = UNSUPPORTED.filter((name) => parsed.options.has(name));
  if (ignored.length > 0) {
    logger.warn('ignoring SQLite URI options the driver cannot apply', { options: ignored });
  }
  return {
    filename: parsed.filename,
    readonly: parsed.readOnly && !parsed.inMemory,
    fileMustExist: parsed.fileMustExist,
    pragmas: parsed.pragmas,
    txlock,
    journalMode: sqliteJournalMode(parsed, disableWAL),
    inMemory: parsed.inMemory,
  };
}
