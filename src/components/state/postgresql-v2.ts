import { defineComponent } from '../contracts/component.js';
import { type StateDeleteRequest, StateETagError, StateFeature } from '../contracts/state.js';
import { postgresqlV2Metadata } from './postgresql.metadata.js';
import { createPool } from './postgresql-connection.js';
import { addRowIdColumn, type MigrationStep, openPool } from './postgresql-migrations.js';
import type { SqlStatement } from './postgresql-query.js';
import {
  type DecodedRow,
  type PostgresDialect,
  PostgresStateStore,
  ttlOf,
} from './postgresql-store.js';

/**
 * `state.postgresql` v2: Dapr's second PostgreSQL layout, table `<tablePrefix>state` with the
 * value's bytes in a `bytea` column and a random UUID as the ETag (`etag uuid`), expiry in
 * `expires_at`. Dapr's v2 has no query API, so neither has this one.
 */
export const postgresqlV2StateStore = defineComponent({
  kind: 'state',
  type: 'state.postgresql',
  version: 'v2',
  // Dapr's v2 also lists KEYS_LIKE, which Tapr's state contract has no operation for yet.
  features: [StateFeature.ETAG, StateFeature.TRANSACTIONAL, StateFeature.TTL],
  metadataSchema: postgresqlV2Metadata,
  async create(options, context) {
    const pool = await createPool(options);
    const table = `${options.tablePrefix}state`;
    const cleanup = await openPool(
      pool,
      {
        plan: {
          metadataTableName: options.metadataTableName,
          // Per prefix, so several v2 tables can share one metadata table.
          levelKey: `migrations-state-v2-${options.tablePrefix}`,
          steps: v2Migrations(table),
        },
        timeoutMs: options.timeout,
        cleanupIntervalMs: options.cleanupInterval,
        lastCleanupKey: `last-cleanup-state-v2-${options.tablePrefix}`,
        deleteExpiredQuery: `DELETE FROM ${table} WHERE expires_at IS NOT NULL AND expires_at < now()`,
      },
      context.logger,
      context.signal,
    );
    return new PostgresStateStore(pool, v2Dialect(table), options.timeout, cleanup);
  },
});

/** Dapr's two v2 migrations, counted under `migrations-state-v2-<prefix>`. */
function v2Migrations(table: string): MigrationStep[] {
  return [
    async (client) => {
      await client.query(
        `CREATE TABLE IF NOT EXISTS ${table} (
           key text NOT NULL PRIMARY KEY,
           value bytea NOT NULL,
           etag uuid NOT NULL DEFAULT gen_random_uuid(),
           created_at timestamp with time zone NOT NULL DEFAULT now(),
           updated_at timestamp with time zone,
           expires_at timestamp with time zone)`,
      );
      await client.query(`CREATE INDEX ON ${table} (expires_at)`);
    },
    (client) => addRowIdColumn(client, table, 'created_at'),
  ];
}

/**
 * The forms Go's `uuid.Parse` accepts (canonical, `{...}`, `urn:uuid:...`, 32 hex digits),
 * in canonical lower-case form, or undefined.
 */
function canonicalUuid(text: string): string | undefined {
  const bare = text.replace(/^urn:uuid:/i, '').replace(/^\{(.*)\}$/, '$1');
  const dashed = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(bare);
  const hex = dashed ? bare.replaceAll('-', '') : bare;
  if (!/^[0-9a-f]{32}$/i.test(hex) || (!dashed && bare !== text)) return undefined;
  const h = hex.toLowerCase();
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/** Dapr's v2 answers an unparsable ETag with a mismatch, not an invalid-ETag error. */
function etagParam(etag: string): string {
  const canonical = canonicalUuid(etag);
  if (canonical === undefined) throw new StateETagError('mismatch');
  return canonical;
}

const EXPIRY = `now() + $3::bigint * interval '1 second'`;

function v2Dialect(table: string): PostgresDialect {
  return {
    selectByKeys: `SELECT key, value, etag::text AS etag, expires_at
       FROM ${table}
      WHERE key = ANY($1::text[]) AND (expires_at IS NULL OR expires_at >= now())`,
    decodeRow,
    checkETag: etagParam,
    setStatement(request): SqlStatement {
      const values: unknown[] = [request.key, bytesOf(request.value), ttlOf(request)];
      if (request.etag) {
        return {
          text: `UPDATE ${table}
                    SET value = $2, updated_at = now(), etag = gen_random_uuid(), expires_at = ${EXPIRY}
                  WHERE key = $1 AND etag = $4::uuid
                    AND (expires_at IS NULL OR expires_at >= now())`,
          values: [...values, etagParam(request.etag)],
        };
      }
      const onlyExpired =
        request.concurrency === 'first-write'
          ? ' WHERE t.expires_at IS NOT NULL AND t.expires_at < now()'
          : '';
      return {
        text: `INSERT INTO ${table} AS t (key, value, etag, expires_at)
               VALUES ($1, $2, gen_random_uuid(), ${EXPIRY})
               ON CONFLICT (key) DO UPDATE
                 SET value = $2, updated_at = now(), etag = gen_random_uuid(),
                     expires_at = ${EXPIRY}${onlyExpired}`,
        values,
      };
    },
    deleteStatement(request: StateDeleteRequest): SqlStatement {
      if (!request.etag)
        return { text: `DELETE FROM ${table} WHERE key = $1`, values: [request.key] };
      return {
        text: `DELETE FROM ${table} WHERE key = $1 AND etag = $2::uuid`,
        values: [request.key, etagParam(request.etag)],
      };
    },
    bulkUpsertStatement(requests): SqlStatement {
      return {
        text: `INSERT INTO ${table} AS t (key, value, etag, expires_at)
               SELECT u.k, u.v, gen_random_uuid(), now() + u.s * interval '1 second'
                 FROM unnest($1::text[], $2::bytea[], $3::bigint[]) AS u(k, v, s)
               ON CONFLICT (key) DO UPDATE
                 SET value = excluded.value, updated_at = now(), etag = gen_random_uuid(),
                     expires_at = excluded.expires_at`,
        values: [
          requests.map((request) => request.key),
          requests.map((request) => bytesOf(request.value)),
          requests.map(ttlOf),
        ],
      };
    },
    bulkDeleteStatement: `DELETE FROM ${table} WHERE key = ANY($1::text[])`,
  };
}

/** node-postgres sends a Buffer as bytea; a plain Uint8Array it would not. */
function bytesOf(value: Uint8Array): Buffer {
  return Buffer.from(value.buffer, value.byteOffset, value.byteLength);
}

function decodeRow(row: Record<string, unknown>): DecodedRow {
  if (!Buffer.isBuffer(row.value)) throw new Error(`value of key ${String(row.key)} is not bytea`);
  return {
    key: String(row.key),
    data: row.value,
    etag: String(row.etag),
    expireDate: row.expires_at instanceof Date ? row.expires_at : null,
  };
}
