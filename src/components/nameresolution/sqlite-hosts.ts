import type BetterSqlite3 from 'better-sqlite3';
import {
  parseSqliteConnectionString,
  type SqliteConnectionString,
  sqliteJournalMode,
} from '../common/sqlite-connection-string.js';
import { openSqliteDatabase, retryWhileBusy } from '../common/sqlite-database.js';

// `sqlite.ts` takes the busy retry from here, with the rest of its SQLite helpers.
export { retryWhileBusy };

/** The metadata-table key holding the migration level; Dapr's resolver uses this one. */
export const MIGRATION_KEY = 'nr-migrations';
/** The metadata-table key holding the last cleanup time; shared with Dapr's resolver. */
export const CLEANUP_KEY = 'nr-last-cleanup';
/** Dapr's resolver has one migration: the hosts table. */
const MIGRATION_LEVEL = 1;

/** A row of the hosts table as the resolver reads it. */
export interface HostRow {
  readonly address: string;
}

type Stmt<P extends unknown[], R = unknown> = BetterSqlite3.Statement<P, R>;

/** The prepared statements of one resolver; table names are validated identifiers. */
export interface HostStatements {
  /** Dapr's `REPLACE`: the unique address index lets a new registration take over a stale one. */
  readonly register: Stmt<[id: string, address: string, appId: string, namespace: string]>;
  readonly renew: Stmt<[id: string, address: string]>;
  readonly unregister: Stmt<[id: string, address: string]>;
  /** Live hosts of an app id in a namespace or in none, ordered so turns are stable. */
  readonly live: Stmt<[appId: string, namespace: string, intervalS: number], HostRow>;
  /** Claims this cleanup round unless the last one is more recent than the bound seconds. */
  readonly claimCleanup: Stmt<[seconds: number]>;
  readonly deleteDead: Stmt<[seconds: number]>;
}

/** Where the hosts database lives, decoded from its connection string. */
export type HostsTarget = SqliteConnectionString;

/**
 * Resolves a connection string as Dapr's SQLite components read it
 * (`parseSqliteConnectionString`); a read-only database, or one naming no file, is refused,
 * since every sidecar writes its own row and renews it.
 */
export function resolveHostsTarget(connectionString: string): HostsTarget {
  const target = parseSqliteConnectionString(connectionString);
  if (target.readOnly) {
    throw new Error(
      'the name resolution database cannot be read-only: each sidecar registers in it',
    );
  }
  if (target.path === '') throw new Error('the connection string names no database file');
  return target;
}

/** What opening the hosts database needs. */
export interface OpenHostsOptions {
  readonly target: HostsTarget;
  readonly disableWAL: boolean;
  readonly busyTimeoutMs: number;
  readonly timeoutMs: number;
  readonly tableName: string;
  readonly metadataTableName: string;
  readonly signal: AbortSignal;
}

/** Opens the database, applies the pragmas and brings the tables to Dapr's migration level. */
export async function openHostsDatabase(
  Database: typeof BetterSqlite3,
  options: OpenHostsOptions,
): Promise<BetterSqlite3.Database> {
  const { target } = options;
  // Start-up may wait longer than one query (Dapr gives its migrations a minute).
  const budget = Math.max(options.timeoutMs, 10_000);
  return openSqliteDatabase(Database, {
    file: target,
    busyTimeoutMs: options.busyTimeoutMs,
    journalMode: sqliteJournalMode(target, options.disableWAL),
    timeoutMs: budget,
    signal: options.signal,
    setUp: (db) => retryWhileBusy(() => migrate(db, options), budget, options.signal),
  });
}

/**
 * Dapr's migration in one exclusive transaction, so sidecars starting together do not race:
 * the metadata table holds the level under `nr-migrations`; level 1 is the hosts table.
 */
function migrate(db: BetterSqlite3.Database, options: OpenHostsOptions): void {
  const { tableName: hosts, metadataTableName: meta } = options;
  db.transaction(() => {
    db.exec(
      `CREATE TABLE IF NOT EXISTS ${meta} (key text NOT NULL PRIMARY KEY, value text NOT NULL)`,
    );
    const row = db
      .prepare<[string], { value: unknown }>(`SELECT value FROM ${meta} WHERE key = ?`)
      .get(MIGRATION_KEY);
    const level = row === undefined ? 0 : Number(row.value);
    if (!Number.isSafeInteger(level) || level < 0) {
      throw new Error(`invalid migration level found in metadata table: ${String(row?.value)}`);
    }
    // Ensured at every level: the level key is shared by every hosts table using this metadata
    // table, so a second table name would otherwise never be created (Dapr has that gap).
    db.exec(
      `CREATE TABLE IF NOT EXISTS ${hosts} (
        registration_id TEXT NOT NULL PRIMARY KEY,
        address TEXT NOT NULL,
        app_id TEXT NOT NULL,
        namespace TEXT NOT NULL,
        last_update INTEGER NOT NULL
      );
      CREATE UNIQUE INDEX IF NOT EXISTS ${hosts}_address_idx ON ${hosts} (address);
      CREATE INDEX IF NOT EXISTS ${hosts}_last_update_idx ON ${hosts} (last_update);`,
    );
    if (level < MIGRATION_LEVEL) {
      db.prepare(`REPLACE INTO ${meta} (key, value) VALUES (?, ?)`).run(
        MIGRATION_KEY,
        String(MIGRATION_LEVEL),
      );
    }
  }).exclusive();
}

/** Seconds since the row's last renewal, in SQLite's clock as Dapr computes it. */
const AGE = 'unixepoch(CURRENT_TIMESTAMP) - last_update';

/** Prepares every statement the resolver runs against `hosts` and `meta`. */
export function prepareHostStatements(
  db: BetterSqlite3.Database,
  hosts: string,
  meta: string,
): HostStatements {
  return {
    register: db.prepare(
      `REPLACE INTO ${hosts} (registration_id, address, app_id, namespace, last_update)
       VALUES (?, ?, ?, ?, unixepoch(CURRENT_TIMESTAMP))`,
    ),
    renew: db.prepare(
      `UPDATE ${hosts} SET last_update = unixepoch(CURRENT_TIMESTAMP)
       WHERE registration_id = ? AND address = ?`,
    ),
    unregister: db.prepare(`DELETE FROM ${hosts} WHERE registration_id = ? AND address = ?`),
    // Dapr's resolver records no namespace (''), so its rows are visible from every namespace.
    live: db.prepare(
      `SELECT address FROM ${hosts}
       WHERE app_id = ? AND (namespace = ? OR namespace = '') AND ${AGE} < ?
       ORDER BY address`,
    ),
    // The same row and value format as Dapr's collector, so Tapr and daprd share one round.
    claimCleanup: db.prepare(
      `INSERT INTO ${meta} (key, value) VALUES ('${CLEANUP_KEY}', CURRENT_TIMESTAMP)
       ON CONFLICT (key) DO UPDATE SET value = CURRENT_TIMESTAMP
       WHERE unixepoch(CURRENT_TIMESTAMP) - unixepoch(value) > ?`,
    ),
    deleteDead: db.prepare(`DELETE FROM ${hosts} WHERE ${AGE} >= ?`),
  };
}
