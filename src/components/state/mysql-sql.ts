import type { MetadataRecord } from '../contracts/component.js';
import type { StateGetResponse, StateSetRequest } from '../contracts/state.js';

/** One SQL statement with its `?` placeholder values. */
export interface SqlStatement {
  readonly sql: string;
  readonly values: readonly unknown[];
}

/**
 * How `set` decides success from the affected-row count: an ETag or first-write statement that
 * touches no row means another writer got there first.
 */
export type SetCheck = 'etag' | 'first-write' | 'none';

/** A `set` statement and the check its affected-row count needs. */
export interface SetStatement extends SqlStatement {
  readonly check: SetCheck;
}

/** Quotes an identifier already checked against Dapr's `[A-Za-z0-9_]` rule. */
export function quoteIdentifier(name: string): string {
  return `\`${name}\``;
}

/**
 * Dapr's state table: the value in a JSON column, binary values flagged by `isbinary`, a UUID
 * `eTag`, an optional `expiredate`, and the `row_id` that Dapr 1.17 adds for KeysLike paging.
 */
export function createStateTableSql(table: string): string {
  return `CREATE TABLE IF NOT EXISTS ${quoteIdentifier(table)} (
  id VARCHAR(255) NOT NULL PRIMARY KEY,
  value JSON NOT NULL,
  isbinary BOOLEAN NOT NULL,
  insertDate TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
  updateDate TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP,
  eTag VARCHAR(36) NOT NULL,
  expiredate TIMESTAMP NULL,
  row_id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
  INDEX expiredate_idx(expiredate),
  UNIQUE KEY row_id_uidx (row_id)
)`;
}

/** Dapr 1.11's migration for older tables: the `expiredate` column and its index. */
export function addExpireDateSql(table: string): readonly string[] {
  const name = quoteIdentifier(table);
  return [
    `ALTER TABLE ${name} ADD COLUMN IF NOT EXISTS expiredate TIMESTAMP NULL`,
    `CREATE INDEX IF NOT EXISTS expiredate_idx ON ${name} (expiredate)`,
  ];
}

/** Dapr 1.17's migration for older tables: the auto-increment `row_id` with a unique index. */
export function addRowIdSql(table: string): string {
  return `ALTER TABLE ${quoteIdentifier(table)}
  ADD COLUMN row_id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
  ADD UNIQUE KEY row_id_uidx (row_id)`;
}

/** Dapr's metadata table: one `last-cleanup` row coordinating TTL clean-up across sidecars. */
export function createMetadataTableSql(table: string): string {
  return `CREATE TABLE IF NOT EXISTS ${quoteIdentifier(table)} (
  id VARCHAR(255) NOT NULL PRIMARY KEY,
  value TEXT NOT NULL
)`;
}

/** Whether a schema exists (1 or 0 in column `found`). */
export const SCHEMA_EXISTS_SQL =
  'SELECT COUNT(*) AS found FROM information_schema.schemata WHERE SCHEMA_NAME = ?';
/** Whether a column exists in a table (count in column `found`). */
export const COLUMN_EXISTS_SQL = `SELECT COUNT(*) AS found FROM information_schema.columns
  WHERE table_schema = ? AND table_name = ? AND column_name = ?`;

const NOT_EXPIRED = '(expiredate IS NULL OR expiredate > CURRENT_TIMESTAMP)';
const COLUMNS = 'id, value, eTag, isbinary, UNIX_TIMESTAMP(expiredate) AS expireAt';

/** Reads one live (unexpired) row. */
export function selectOneSql(table: string): string {
  return `SELECT ${COLUMNS} FROM ${quoteIdentifier(table)} WHERE id = ? AND ${NOT_EXPIRED}`;
}

/** Reads the live rows among `count` keys. */
export function selectManySql(table: string, count: number): string {
  const marks = new Array<string>(count).fill('?').join(', ');
  return `SELECT ${COLUMNS} FROM ${quoteIdentifier(table)} WHERE id IN (${marks}) AND ${NOT_EXPIRED}`;
}

/** The stored text of a value and its `isbinary` flag, as Dapr writes them. */
export interface EncodedValue {
  readonly text: string;
  readonly isBinary: boolean;
}

/**
 * Encodes a value the way Dapr's store does: JSON values as their JSON text; raw bytes (gRPC)
 * as a JSON string holding their standard base64, with `isbinary` set.
 */
export function encodeValue(request: Pick<StateSetRequest, 'value' | 'isJson'>): EncodedValue {
  const bytes = Buffer.from(request.value.buffer, request.value.byteOffset, request.value.length);
  if (request.isJson) return { text: bytes.toString('utf8'), isBinary: false };
  // Base64 has no character JSON escapes, so quoting it is all Go's json.Marshal does too.
  return { text: `"${bytes.toString('base64')}"`, isBinary: true };
}

/** Dapr's expiry: `CURRENT_TIMESTAMP + INTERVAL n SECOND` for a positive TTL, else no expiry. */
export function expiryExpression(ttlSeconds: number | undefined): string {
  if (ttlSeconds === undefined || ttlSeconds <= 0) return 'NULL';
  if (!Number.isSafeInteger(ttlSeconds)) {
    throw new Error(`invalid TTL ${ttlSeconds}: must be a whole number of seconds`);
  }
  return `CURRENT_TIMESTAMP + INTERVAL ${ttlSeconds} SECOND`;
}

/** An ETag in a request, or undefined: Dapr treats an empty ETag as none. */
export function requestETag(etag: string | undefined): string | undefined {
  return etag === undefined || etag === '' ? undefined : etag;
}

/**
 * The statement for one `set`, following Dapr's three cases: with an ETag an UPDATE of the live
 * row holding it; first-write without one an insert that fails on a live row; otherwise REPLACE.
 */
export function setStatement(table: string, request: StateSetRequest, eTag: string): SetStatement {
  const name = quoteIdentifier(table);
  const { text, isBinary } = encodeValue(request);
  const expiry = expiryExpression(request.ttlSeconds);
  const expected = requestETag(request.etag);
  if (expected !== undefined) {
    return {
      sql: `UPDATE ${name} SET value = ?, eTag = ?, isbinary = ?, expiredate = ${expiry}
  WHERE id = ? AND eTag = ? AND ${NOT_EXPIRED}`,
      values: [text, eTag, isBinary, request.key, expected],
      check: 'etag',
    };
  }
  if (request.concurrency === 'first-write') {
    // Dapr inserts only when no live row exists, treating an expired row as deleted. One
    // INSERT .. ON DUPLICATE KEY UPDATE does that atomically: an expired row is overwritten, a
    // live one is left as is (0 affected rows, as the driver reports changed rows). expiredate
    // is assigned last because later assignments see the earlier ones' new values.
    const expired = 'expiredate IS NOT NULL AND expiredate <= CURRENT_TIMESTAMP';
    return {
      sql: `INSERT INTO ${name} (id, value, eTag, isbinary, expiredate) VALUES (?, ?, ?, ?, ${expiry})
  ON DUPLICATE KEY UPDATE
    value = IF(${expired}, ?, value),
    eTag = IF(${expired}, ?, eTag),
    isbinary = IF(${expired}, ?, isbinary),
    insertDate = IF(${expired}, CURRENT_TIMESTAMP, insertDate),
    expiredate = IF(${expired}, ${expiry}, expiredate)`,
      values: [request.key, text, eTag, isBinary, text, eTag, isBinary],
      check: 'first-write',
    };
  }
  return {
    sql: `REPLACE INTO ${name} (id, value, eTag, isbinary, expiredate) VALUES (?, ?, ?, ?, ${expiry})`,
    values: [request.key, text, eTag, isBinary],
    check: 'none',
  };
}

/** One multi-row REPLACE for last-write saves without ETags; `eTags` pairs with `requests`. */
export function replaceManyStatement(
  table: string,
  requests: readonly StateSetRequest[],
  eTags: readonly string[],
): SqlStatement {
  const rows: string[] = [];
  const values: unknown[] = [];
  requests.forEach((request, index) => {
    const { text, isBinary } = encodeValue(request);
    rows.push(`(?, ?, ?, ?, ${expiryExpression(request.ttlSeconds)})`);
    values.push(request.key, text, eTags[index], isBinary);
  });
  return {
    sql: `REPLACE INTO ${quoteIdentifier(table)} (id, value, eTag, isbinary, expiredate) VALUES ${rows.join(', ')}`,
    values,
  };
}

/** Dapr's delete: by key, and by ETag too when one is given (then exactly one row must go). */
export function deleteStatement(
  table: string,
  key: string,
  etag: string | undefined,
): SqlStatement {
  const name = quoteIdentifier(table);
  return etag === undefined
    ? { sql: `DELETE FROM ${name} WHERE id = ?`, values: [key] }
    : { sql: `DELETE FROM ${name} WHERE id = ? AND eTag = ?`, values: [key, etag] };
}

/** Deletes several keys without ETag checks. */
export function deleteManyStatement(table: string, keys: readonly string[]): SqlStatement {
  const marks = keys.map(() => '?').join(', ');
  return { sql: `DELETE FROM ${quoteIdentifier(table)} WHERE id IN (${marks})`, values: keys };
}

/**
 * Dapr's clean-up claim: records `last-cleanup` only when the previous one is older than the
 * interval (its one parameter, in ms), so one sidecar of many cleans per interval.
 */
export function claimCleanupSql(metadataTable: string): string {
  return `INSERT INTO ${quoteIdentifier(metadataTable)} (id, value) VALUES ('last-cleanup', CURRENT_TIMESTAMP)
  ON DUPLICATE KEY UPDATE
    value = IF(CURRENT_TIMESTAMP > DATE_ADD(value, INTERVAL ?*1000 MICROSECOND), CURRENT_TIMESTAMP, value)`;
}

/** Deletes the rows whose TTL has passed. */
export function deleteExpiredSql(table: string): string {
  return `DELETE FROM ${quoteIdentifier(table)} WHERE expiredate IS NOT NULL AND expiredate <= CURRENT_TIMESTAMP`;
}

/** A state row as selected by `selectOneSql`/`selectManySql` (value read as raw bytes). */
export interface StateRow {
  readonly id: string;
  readonly value: Buffer;
  readonly eTag: string;
  readonly isbinary: number;
  readonly expireAt: number | string | null;
}

/** Turns a row into a response: binary values decoded from their base64 JSON string. */
export function decodeRow(row: StateRow): StateGetResponse {
  let data: Uint8Array = row.value;
  if (Number(row.isbinary) !== 0) {
    const parsed: unknown = JSON.parse(row.value.toString('utf8'));
    if (typeof parsed !== 'string') {
      throw new Error(`binary value of key ${row.id} is not a base64 JSON string`);
    }
    data = Buffer.from(parsed, 'base64');
  }
  const metadata = expiryMetadata(row.expireAt);
  return metadata === undefined ? { data, etag: row.eTag } : { data, etag: row.eTag, metadata };
}

/** Dapr's `ttlExpireTime` response metadata: RFC 3339 in UTC, whole seconds. */
function expiryMetadata(expireAt: number | string | null): MetadataRecord | undefined {
  if (expireAt === null) return undefined;
  const seconds = Number(expireAt);
  if (!Number.isFinite(seconds)) return undefined;
  const text = new Date(Math.floor(seconds) * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
  return { ttlExpireTime: text };
}
