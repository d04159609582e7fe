import type BetterSqlite3 from 'better-sqlite3';

/** A row of the state table as `SELECT key, value, is_binary, etag, expiration_time` returns it. */
export interface SqliteStateRow {
  readonly key: string;
  /** JSON text, or base64 text when `is_binary`; a BLOB only if another writer stored one. */
  readonly value: string | Buffer;
  readonly is_binary: number | bigint | string | null;
  readonly etag: string;
  readonly expiration_time: string | number | null;
}

/** Keys bound per `IN (...)` query; well under SQLite's 32766 host-parameter limit. */
export const BULK_GET_CHUNK = 500;

/** Rows removed per cleanup statement, so one pass never blocks the event loop for long. */
export const CLEANUP_BATCH = 1000;

/** Only rows whose expiry has not passed are visible, as in Dapr (text compare, UTC seconds). */
const LIVE = '(expiration_time IS NULL OR expiration_time > CURRENT_TIMESTAMP)';

/**
 * Expiry is `DATETIME(CURRENT_TIMESTAMP, '+N seconds')`, as Dapr writes it; the modifier is
 * bound, and a NULL modifier makes DATETIME return NULL (no expiry).
 */
const EXPIRY = 'DATETIME(CURRENT_TIMESTAMP, ?)';

type Stmt<P extends unknown[], R = unknown> = BetterSqlite3.Statement<P, R>;

/** Bound as (value, is_binary, etag, expiry modifier) in each write statement. */
type WriteParams = [
  key: string,
  value: string,
  isBinary: number,
  etag: string,
  expiry: string | null,
];

/** The prepared statements of one store; table names are validated identifiers. */
export interface SqliteStatements {
  readonly get: Stmt<[string], SqliteStateRow>;
  /** Last-write save, resetting the expiry as Dapr does on every write. */
  readonly upsert: Stmt<WriteParams>;
  /** First-write save without an ETag: inserts only when no live row has the key. */
  readonly insertIfAbsent: Stmt<[...WriteParams, string]>;
  readonly updateIfETag: Stmt<[string, string, number, string | null, string, string]>;
  readonly delete: Stmt<[string]>;
  readonly deleteIfETag: Stmt<[string, string]>;
  /** Dapr's shared "last-cleanup" claim, so one process of many runs each cleanup. */
  readonly claimCleanup: Stmt<[number]>;
  readonly deleteExpired: Stmt<[number]>;
  /** An `IN (...)` lookup for `count` keys; full-size chunks reuse one cached statement. */
  bulkGet(count: number): Stmt<string[], SqliteStateRow>;
}

/** Prepares every statement the store runs against `table` and `metadataTable`. */
export function prepareStatements(
  db: BetterSqlite3.Database,
  table: string,
  metadataTable: string,
): SqliteStatements {
  const select = `SELECT key, value, is_binary, etag, expiration_time FROM ${table}`;
  const bulkGetSql = (count: number): string =>
    `${select} WHERE key IN (${new Array(count).fill('?').join(',')}) AND ${LIVE}`;
  const fullChunk = db.prepare<string[], SqliteStateRow>(bulkGetSql(BULK_GET_CHUNK));
  return {
    get: db.prepare<[string], SqliteStateRow>(`${select} WHERE key = ? AND ${LIVE}`),
    upsert: db.prepare<WriteParams>(
      `INSERT OR REPLACE INTO ${table} (key, value, is_binary, etag, update_time, expiration_time)
       VALUES (?, ?, ?, ?, CURRENT_TIMESTAMP, ${EXPIRY})`,
    ),
    // One statement, so the existence check and the insert are atomic; an expired row that
    // the cleanup has not removed yet counts as absent and is replaced, as in Dapr.
    insertIfAbsent: db.prepare<[...WriteParams, string]>(
      `INSERT OR REPLACE INTO ${table} (key, value, is_binary, etag, expiration_time, update_time)
       SELECT ?, ?, ?, ?, ${EXPIRY}, CURRENT_TIMESTAMP
       WHERE NOT EXISTS (SELECT 1 FROM ${table} WHERE key = ? AND ${LIVE})`,
    ),
    updateIfETag: db.prepare<[string, string, number, string | null, string, string]>(
      `UPDATE ${table} SET value = ?, etag = ?, is_binary = ?, update_time = CURRENT_TIMESTAMP,
         expiration_time = ${EXPIRY}
       WHERE key = ? AND etag = ? AND ${LIVE}`,
    ),
    delete: db.prepare<[string]>(`DELETE FROM ${table} WHERE key = ?`),
    // Dapr does not check expiry on delete: an expired row with a matching ETag is deleted.
    deleteIfETag: db.prepare<[string, string]>(`DELETE FROM ${table} WHERE key = ? AND etag = ?`),
    claimCleanup: db.prepare<[number]>(
      `INSERT INTO ${metadataTable} (key, value) VALUES ('last-cleanup', CURRENT_TIMESTAMP)
       ON CONFLICT (key) DO UPDATE SET value = CURRENT_TIMESTAMP
       WHERE (unixepoch(CURRENT_TIMESTAMP) - unixepoch(value)) * 1000 > ?`,
    ),
    deleteExpired: db.prepare<[number]>(
      `DELETE FROM ${table} WHERE rowid IN (
         SELECT rowid FROM ${table}
         WHERE expiration_time IS NOT NULL AND expiration_time < CURRENT_TIMESTAMP LIMIT ?)`,
    ),
    bulkGet: (count) =>
      count === BULK_GET_CHUNK
        ? fullChunk
        : db.prepare<string[], SqliteStateRow>(bulkGetSql(count)),
  };
}

/** Dapr's migration key in the metadata table, and the level its state table schema is at. */
export const MIGRATION_KEY = 'migrations';
/** The number of migrations Dapr's `state.sqlite` has (the state table is migration 1). */
export const MIGRATION_LEVEL = 1;

/** Dapr's metadata table: migration level and last cleanup time. */
export function createMetadataTableSql(metadataTable: string): string {
  return `CREATE TABLE IF NOT EXISTS ${metadataTable} (
    key text NOT NULL PRIMARY KEY,
    value text NOT NULL
  )`;
}

/** Dapr's state table, column for column. */
export function createStateTableSql(table: string): string {
  return `CREATE TABLE IF NOT EXISTS ${table} (
    key TEXT NOT NULL PRIMARY KEY,
    value TEXT NOT NULL,
    is_binary BOOLEAN NOT NULL,
    etag TEXT NOT NULL,
    expiration_time TIMESTAMP DEFAULT NULL,
    update_time TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP
  )`;
}

/** A value as Dapr stores it: JSON text as is, anything else base64 with `is_binary` set. */
export interface EncodedValue {
  readonly text: string;
  /** 1 or 0: better-sqlite3 cannot bind booleans, and Dapr's Go driver stores them as integers. */
  readonly isBinary: number;
}

/** Encodes a value's bytes into Dapr's column pair. */
export function encodeValue(
  bytes: Uint8Array,
  isJson: boolean,
  decodeUtf8: (bytes: Uint8Array) => string,
): EncodedValue {
  if (isJson) {
    try {
      return { text: decodeUtf8(bytes), isBinary: 0 };
    } catch {
      // Not UTF-8, so a TEXT column would not keep the bytes: store them as binary instead.
    }
  }
  return {
    text: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64'),
    isBinary: 1,
  };
}

/** Decodes a row's value into the bytes that were saved. */
export function decodeValue(row: SqliteStateRow): Uint8Array {
  const binary = isTruthyColumn(row.is_binary);
  if (typeof row.value === 'string') {
    return binary ? new Uint8Array(Buffer.from(row.value, 'base64')) : encoder.encode(row.value);
  }
  return binary
    ? new Uint8Array(Buffer.from(row.value.toString('latin1'), 'base64'))
    : new Uint8Array(row.value);
}

const encoder = new TextEncoder();

function isTruthyColumn(value: SqliteStateRow['is_binary']): boolean {
  if (typeof value === 'string') return value === '1' || value.toLowerCase() === 'true';
  return value !== null && Number(value) !== 0;
}

/** The expiry modifier bound for `ttlSeconds`: Dapr sets an expiry only for a positive TTL. */
export function expiryModifier(ttlSeconds: number | undefined): string | null {
  return ttlSeconds !== undefined && ttlSeconds > 0 ? `+${Math.trunc(ttlSeconds)} seconds` : null;
}

const SQLITE_TIME = /^(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2}:\d{2})(\.\d+)?(Z|[+-]\d{2}:?\d{2})?$/;

/**
 * An `expiration_time` as RFC 3339 in UTC without fractions, the form Dapr's `ttlExpireTime`
 * takes; SQLite's `DATETIME` text is UTC. Undefined for NULL or an unreadable value.
 */
export function expiryToRfc3339(value: SqliteStateRow['expiration_time']): string | undefined {
  if (value === null) return undefined;
  let date: Date;
  if (typeof value === 'number') {
    date = new Date(value * 1000);
  } else {
    const match = SQLITE_TIME.exec(value.trim());
    if (!match) return undefined;
    date = new Date(`${match[1]}T${match[2]}${match[3] ?? ''}${match[4] ?? 'Z'}`);
  }
  if (Number.isNaN(date.getTime())) return undefined;
  return `${date.toISOString().slice(0, 19)}Z`;
}
