import type { Pool } from 'pg';
import type { MetadataRecord } from '../contracts/component.js';
import { defineComponent } from '../contracts/component.js';
import {
  type QueryableStateStore,
  type StateDeleteRequest,
  StateETagError,
  StateFeature,
  type StateQuery,
  type StateQueryItem,
  type StateQueryResponse,
  type StateSetRequest,
} from '../contracts/state.js';
import { postgresqlV1Metadata } from './postgresql.metadata.js';
import { createPool } from './postgresql-connection.js';
import {
  addRowIdColumn,
  type CleanupHandle,
  type MigrationStep,
  openPool,
} from './postgresql-migrations.js';
import { type SqlStatement, translateQuery } from './postgresql-query.js';
import {
  type DecodedRow,
  type PostgresDialect,
  PostgresStateStore,
  ttlOf,
} from './postgresql-store.js';

/**
 * `state.postgresql` v1: Dapr's original PostgreSQL layout. Values live in a `jsonb` column
 * (`isbinary` marks bytes stored as a base64 JSON string), the ETag is the row's `xmin`
 * transaction id, expiry is `expiredate`, and the schema is versioned in `dapr_metadata`.
 */
export const postgresqlV1StateStore = defineComponent({
  kind: 'state',
  type: 'state.postgresql',
  version: 'v1',
  // Dapr's v1 also lists KEYS_LIKE, which Tapr's state contract has no operation for yet.
  features: [
    StateFeature.ETAG,
    StateFeature.TRANSACTIONAL,
    StateFeature.TTL,
    StateFeature.QUERY_API,
  ],
  metadataSchema: postgresqlV1Metadata,
  async create(options, context) {
    const pool = await createPool(options);
    const table = options.tableName;
    const cleanup = await openPool(
      pool,
      {
        plan: {
          metadataTableName: options.metadataTableName,
          levelKey: 'migrations',
          steps: v1Migrations(table),
        },
        timeoutMs: options.timeout,
        cleanupIntervalMs: options.cleanupInterval,
        lastCleanupKey: 'last-cleanup',
        deleteExpiredQuery: `DELETE FROM ${table} WHERE expiredate IS NOT NULL AND expiredate < now()`,
      },
      context.logger,
      context.signal,
    );
    return new PostgresqlV1Store(pool, v1Dialect(table), options.timeout, cleanup, table);
  },
});

/** Dapr's three v1 migrations, in order; `migrations` in the metadata table counts them. */
function v1Migrations(table: string): MigrationStep[] {
  return [
    async (client) => {
      await client.query(
        `CREATE TABLE IF NOT EXISTS ${table} (
           key text NOT NULL PRIMARY KEY,
           value jsonb NOT NULL,
           isbinary boolean NOT NULL,
           insertdate TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT NOW(),
           updatedate TIMESTAMP WITH TIME ZONE NULL)`,
      );
    },
    async (client) => {
      // IF NOT EXISTS: a table created by hand (or by a newer tool) may have the column already.
      await client.query(
        `ALTER TABLE ${table} ADD COLUMN IF NOT EXISTS expiredate TIMESTAMP WITH TIME ZONE`,
      );
    },
    (client) => addRowIdColumn(client, table, 'insertdate'),
  ];
}

/** The jsonb text and `isbinary` flag Dapr stores for a value. */
function encodeValue(request: StateSetRequest): { json: string; binary: boolean } {
  const bytes = Buffer.from(
    request.value.buffer,
    request.value.byteOffset,
    request.value.byteLength,
  );
  // Dapr keeps JSON as JSON; raw bytes become a base64 JSON string flagged `isbinary`.
  if (request.isJson) return { json: bytes.toString('utf8'), binary: false };
  return { json: `"${bytes.toString('base64')}"`, binary: true };
}

/** Dapr's v1 ETag is `xmin`, a 32-bit transaction id in decimal. */
function checkXminETag(etag: string): void {
  if (!/^\d{1,10}$/.test(etag) || Number(etag) > 0xffff_ffff) {
    throw new StateETagError(
      'invalid',
      `invalid etag value: ${etag} is not a 32-bit unsigned integer`,
    );
  }
}

const EXPIRY = `CURRENT_TIMESTAMP + $4::bigint * interval '1 second'`;

function v1Dialect(table: string): PostgresDialect {
  return {
    selectByKeys: `SELECT key, value::text AS value, isbinary, xmin::text AS etag, expiredate
       FROM ${table}
      WHERE key = ANY($1::text[]) AND (expiredate IS NULL OR expiredate >= CURRENT_TIMESTAMP)`,
    decodeRow,
    checkETag: checkXminETag,
    setStatement(request): SqlStatement {
      const { json, binary } = encodeValue(request);
      const values: unknown[] = [request.key, json, binary, ttlOf(request)];
      if (request.etag) {
        return {
          text: `UPDATE ${table}
                    SET value = $2::jsonb, isbinary = $3, updatedate = CURRENT_TIMESTAMP, expiredate = ${EXPIRY}
                  WHERE key = $1 AND xmin = $5::xid
                    AND (expiredate IS NULL OR expiredate > CURRENT_TIMESTAMP)`,
          values: [...values, request.etag],
        };
      }
      // Dapr upserts for first-write too, since the row may be expired and not yet cleaned up.
      const onlyExpired =
        request.concurrency === 'first-write'
          ? ' WHERE t.expiredate IS NOT NULL AND t.expiredate < CURRENT_TIMESTAMP'
          : '';
      return {
        text: `INSERT INTO ${table} AS t (key, value, isbinary, expiredate)
               VALUES ($1, $2::jsonb, $3, ${EXPIRY})
               ON CONFLICT (key) DO UPDATE
                 SET value = excluded.value, isbinary = excluded.isbinary,
                     updatedate = CURRENT_TIMESTAMP, expiredate = ${EXPIRY}${onlyExpired}`,
        values,
      };
    },
    deleteStatement(request: StateDeleteRequest): SqlStatement {
      if (!request.etag)
        return { text: `DELETE FROM ${table} WHERE key = $1`, values: [request.key] };
      return {
        text: `DELETE FROM ${table} WHERE key = $1 AND xmin = $2::xid`,
        values: [request.key, request.etag],
      };
    },
    bulkUpsertStatement(requests): SqlStatement {
      const encoded = requests.map(encodeValue);
      return {
        text: `INSERT INTO ${table} AS t (key, value, isbinary, expiredate)
               SELECT u.k, u.v::jsonb, u.b, CURRENT_TIMESTAMP + u.s * interval '1 second'
                 FROM unnest($1::text[], $2::text[], $3::boolean[], $4::bigint[]) AS u(k, v, b, s)
               ON CONFLICT (key) DO UPDATE
                 SET value = excluded.value, isbinary = excluded.isbinary,
                     updatedate = CURRENT_TIMESTAMP, expiredate = excluded.expiredate`,
        values: [
          requests.map((request) => request.key),
          encoded.map((value) => value.json),
          encoded.map((value) => value.binary),
          requests.map(ttlOf),
        ],
      };
    },
    bulkDeleteStatement: `DELETE FROM ${table} WHERE key = ANY($1::text[])`,
  };
}

function decodeRow(row: Record<string, unknown>): DecodedRow {
  const key = String(row.key);
  const text = String(row.value);
  const expireDate = row.expiredate instanceof Date ? row.expiredate : null;
  const etag = String(row.etag);
  if (row.isbinary !== true) return { key, data: Buffer.from(text, 'utf8'), etag, expireDate };
  const encoded: unknown = JSON.parse(text);
  if (typeof encoded !== 'string') {
    throw new Error(`value of key ${key} is flagged binary but is not a base64 string`);
  }
  return { key, data: Buffer.from(encoded, 'base64'), etag, expireDate };
}

/** The v1 store, which also answers state queries over the jsonb values. */
class PostgresqlV1Store extends PostgresStateStore implements QueryableStateStore {
  readonly #table: string;

  constructor(
    pool: Pool,
    dialect: PostgresDialect,
    timeoutMs: number,
    cleanup: CleanupHandle | undefined,
    table: string,
  ) {
    super(pool, dialect, timeoutMs, cleanup);
    this.#table = table;
  }

  /**
   * Runs a state query. Results carry the stored JSON as Dapr returns it (a binary value
   * comes back as its base64 JSON string); the page token is the next row offset.
   */
  async query(
    query: StateQuery,
    _metadata: MetadataRecord,
    signal: AbortSignal,
  ): Promise<StateQueryResponse> {
    const { statement, limit, offset } = translateQuery(this.#table, query);
    const result = await this.run(signal, (client) =>
      client.query<{ key: string; value: string; etag: string }>(statement.text, statement.values),
    );
    const rows =
      limit !== undefined && result.rows.length > limit ? result.rows.slice(0, limit) : result.rows;
    const results = rows.map(
      (row): StateQueryItem => ({
        key: row.key,
        data: Buffer.from(row.value, 'utf8'),
        etag: row.etag,
      }),
    );
    if (limit === undefined || result.rows.length <= limit) return { results };
    return { results, token: String(offset + limit) };
  }
}
