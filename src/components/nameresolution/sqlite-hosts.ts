import type BetterSqlite3 from 'better-sqlite3';
import { delay } from '../../kernel/abort.js';

/** The metadata-table key holding the migration level; Dapr's resolver uses this one. */
export const MIGRATION_KEY = 'nr-migrations';
/** The metadata-table key holding the last cleanup time; shared with Dapr's resolver. */
export const CLEANUP_KEY = 'nr-last-cleanup';
/** Dapr's resolver has one migration: the hosts table. */
const MIGRATION_LEVEL = 1;

/**
 * The longest SQLite's own busy handler may block the event loop at once. Longer lock waits
 * are retried asynchronously within the query's timeout, so another process holding the lock
 * never freezes this one.
 */
const BUSY_SLICE_MS = 25;

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

/**
 * Where the database lives, from a connection string read as Dapr reads it: a plain path or a
 * `file:` URI (better-sqlite3 takes file names, so the URI is decoded here), `:memory:`.
 */
export interface HostsTarget {
  readonly filename: string;
  readonly inMemory: boolean;
  /** SQLite's `mode=rw`: open an existing file only. */
  readonly fileMustExist: boolean;
  /** `_pragma` values from the connection string, run in order after opening. */
  readonly pragmas: readonly string[];
}

/** Pragmas Dapr refuses in the connection string because metadata fields own them. */
const FORBIDDEN_PRAGMAS = ['busy_timeout', 'journal_mode', 'foreign_keys'];
/** `name`, `name(value)` or `name=value`, with no statement separator. */
const PRAGMA = /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?\s*(\([^;()]*\)|=[^;()]+)?$/;

/** Resolves a connection string; throws on options a registering resolver cannot honour. */
export function resolveHostsTarget(connectionString: string): HostsTarget {
  const uri = /^file:/i.test(connectionString) ? connectionString.slice(5) : connectionString;
  const queryAt = uri.indexOf('?');
  let path = queryAt > 0 ? uri.slice(0, queryAt) : uri;
  const query = new URLSearchParams(queryAt > 0 ? uri.slice(queryAt + 1) : '');
  if (path.startsWith('//')) {
    const slash = path.indexOf('/', 2);
    const authority = path.slice(2, slash < 0 ? undefined : slash);
    if (authority !== '' && authority.toLowerCase() !== 'localhost') {
      throw new Error(`invalid uri authority: ${authority}`);
    }
    path = slash < 0 ? '' : path.slice(slash);
  }
  // Only `%HH` escapes are decoded, as SQLite reads a URI path (a `+` stays a plus).
  path = path.replace(/(%[0-9A-Fa-f]{2})+/g, (run) => {
    try {
      return decodeURIComponent(run);
    } catch {
      return run;
    }
  });
  const mode = query.get('mode');
  // Every sidecar writes its own row and renews it, so a read-only file cannot work.
  if (mode === 'ro' || query.get('immutable') === '1') {
    throw new Error(
      'the name resolution database cannot be read-only: each sidecar registers in it',
    );
  }
  const pragmas = query.getAll('_pragma').map((pragma) => pragma.trim());
  for (const pragma of pragmas) {
    const forbidden = FORBIDDEN_PRAGMAS.find((name) => pragma.toLowerCase().startsWith(name));
    if (forbidden !== undefined) {
      throw new Error(`found forbidden option '_pragma=${forbidden}' in the connection string`);
    }
    if (!PRAGMA.test(pragma)) {
      throw new Error(`invalid option '_pragma=${pragma}' in the connection string`);
    }
  }
  const inMemory = path === ':memory:' || mode === 'memory';
  return {
    filename: inMemory ? ':memory:' : path,
    inMemory,
    fileMustExist: mode === 'rw',
    pragmas,
  };
}

/** True for SQLite's "database is locked" family (`SQLITE_BUSY`, `SQLITE_BUSY_SNAPSHOT`, ...). */
function isBusyError(error: unknown): boolean {
  if (typeof error !== 'object' || error === null || !('code' in error)) return false;
  const { code } = error;
  return (
    typeof code === 'string' &&
    (code.startsWith('SQLITE_BUSY') || code === 'SQLITE_LOCKED_SHAREDCACHE')
  );
}

/**
 * Runs one synchronous statement, retrying while another connection holds the lock until
 * `budgetMs` has passed. The work must have no effect when it throws a busy error.
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
  const db = new Database(target.filename, { fileMustExist: target.fileMustExist });
  try {
    for (const pragma of target.pragmas) db.pragma(pragma);
    db.pragma(`busy_timeout = ${Math.max(0, Math.min(options.busyTimeoutMs, BUSY_SLICE_MS))}`);
    const journal = target.inMemory ? 'MEMORY' : options.disableWAL ? 'DELETE' : 'WAL';
    // Switching the journal needs a moment with no other writer, so it waits like a write;
    // start-up may wait longer than one query (Dapr gives its migrations a minute).
    const budget = Math.max(options.timeoutMs, 10_000);
    await retryWhileBusy(() => db.pragma(`journal_mode = ${journal}`), budget, options.signal);
    await retryWhileBusy(() => migrate(db, options), budget, options.signal);
    return db;
  } catch (error) {
    db.close();
    throw error;
  }
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
