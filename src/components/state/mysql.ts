import type { PoolConnection, PoolOptions, RowDataPacket, SslOptions } from 'mysql2/promise';
import type { Logger } from '../../kernel/logger.js';
import { errorText } from '../../kernel/tapr-error.js';
import { defineComponent } from '../contracts/component.js';
import { StateFeature } from '../contracts/state.js';
import { type MySqlStateOptions, mysqlStateMetadata } from './mysql.metadata.js';
import type { MySqlConnectionSettings } from './mysql-dsn.js';
import { type MySqlSession, type SessionOptions, withSession } from './mysql-session.js';
import {
  addExpireDateSql,
  addRowIdSql,
  COLUMN_EXISTS_SQL,
  createMetadataTableSql,
  createStateTableSql,
  quoteIdentifier,
  SCHEMA_EXISTS_SQL,
} from './mysql-sql.js';
import { MySqlStateStore, type MySqlStoreSettings } from './mysql-store.js';

/** MySQL's "duplicate key name" error, which Dapr ignores when re-adding `row_id`'s index. */
const ER_DUP_KEYNAME = 1061;

/**
 * `state.mysql`: Dapr's MySQL/MariaDB state store, on the same schema, tables and encoding, so
 * Dapr and Tapr sidecars can share one database. Values live in a JSON column (raw bytes as a
 * base64 JSON string with `isbinary` set), ETags are random UUIDs, TTL is an `expiredate`
 * timestamp, and a background job deletes expired rows.
 */
export const mysqlStateStore = defineComponent({
  kind: 'state',
  type: 'state.mysql',
  version: 'v1',
  // Dapr also declares KEYS_LIKE, which Tapr's state contract does not offer yet.
  features: [StateFeature.ETAG, StateFeature.TRANSACTIONAL, StateFeature.TTL],
  metadataSchema: mysqlStateMetadata,
  async create(options, context) {
    const mysql = await import('mysql2/promise');
    const base = await connectionOptions(options);
    const timeoutMs = options.timeoutInSeconds * 1000;
    const bootstrapOptions: SessionOptions = {
      timeoutMs,
      prepare: sessionPreparer(options.connectionString),
    };

    // Like Dapr, connect without the schema first, create it when missing, then reconnect in it.
    const bootstrap = mysql.createPool({ ...base, connectionLimit: 1 });
    try {
      await withSession(bootstrap, bootstrapOptions, context.signal, async (session) => {
        const found = await count(session, SCHEMA_EXISTS_SQL, [options.schemaName]);
        if (found === 0) {
          context.logger.info('creating MySQL schema', { schema: options.schemaName });
          await session.run({
            sql: `CREATE DATABASE IF NOT EXISTS ${quoteIdentifier(options.schemaName)}`,
            values: [],
          });
        }
      });
    } finally {
      await bootstrap.end().catch(() => {});
    }

    const pool = mysql.createPool({
      ...base,
      database: options.schemaName,
      connectionLimit: options.maxConns,
      maxIdle: options.maxConns,
      enableKeepAlive: true,
    });
    const sessionOptions: SessionOptions = {
      timeoutMs,
      prepare: sessionPreparer(options.connectionString),
    };
    try {
      await withSession(pool, sessionOptions, context.signal, (session) =>
        ensureTables(session, options, context.logger),
      );
    } catch (error) {
      await pool.end().catch(() => {});
      throw error;
    }
    const settings: MySqlStoreSettings = {
      tableName: options.tableName,
      metadataTableName: options.metadataTableName,
      cleanupIntervalMs: options.cleanupInterval,
    };
    return new MySqlStateStore(pool, sessionOptions, settings, context.logger);
  },
});

/** The driver options from the parsed connection string, TLS settings and Go's row counting. */
async function connectionOptions(options: MySqlStateOptions): Promise<PoolOptions> {
  const dsn = options.connectionString;
  const base: PoolOptions = {
    user: dsn.user,
    password: dsn.password,
    // go-sql-driver reports changed rows, not matched ones: Dapr's ETag, first-write and
    // clean-up queries read "0 affected rows" as "nothing happened".
    flags: ['-FOUND_ROWS'],
    compress: dsn.compress,
    ...(dsn.socketPath === undefined
      ? { host: dsn.host, port: dsn.port }
      : { socketPath: dsn.socketPath }),
    ...(dsn.connectTimeoutMs === undefined ? {} : { connectTimeout: dsn.connectTimeoutMs }),
    ...(dsn.charset === undefined ? {} : { charset: dsn.charset }),
  };
  if (dsn.database !== '') base.database = dsn.database;
  const ssl = await tlsOptions(dsn, options);
  if (ssl !== undefined) base.ssl = ssl;
  return base;
}

/**
 * TLS as go-sql-driver reads the DSN's `tls` parameter. Dapr registers the PEM from `pemPath` as
 * the config named `custom`; Tapr also applies a given PEM when the DSN names no `tls` mode.
 */
async function tlsOptions(
  dsn: MySqlConnectionSettings,
  options: MySqlStateOptions,
): Promise<SslOptions | undefined> {
  const pem = await readPem(options);
  const verified = (ca: string | undefined): SslOptions => ({
    rejectUnauthorized: true,
    verifyIdentity: true,
    minVersion: 'TLSv1.2',
    ...(ca === undefined ? {} : { ca }),
  });
  switch (dsn.tls.kind) {
    case 'false':
      return undefined;
    case 'true':
      return verified(undefined);
    // The driver cannot fall back to plain text as Go's `preferred` does; it always uses TLS.
    case 'skip-verify':
    case 'preferred':
      return { rejectUnauthorized: false };
    case 'unset':
      return pem === undefined ? undefined : verified(pem);
    case 'named':
      if (dsn.tls.name !== 'custom' || pem === undefined) {
        throw new Error(
          `invalid value / unknown TLS config name in connectionString: ${dsn.tls.name}` +
            (dsn.tls.name === 'custom' ? ' (set pemPath or pemContents)' : ''),
        );
      }
      return verified(pem);
  }
}

async function readPem(options: MySqlStateOptions): Promise<string | undefined> {
  if (options.pemContents !== '') return options.pemContents;
  if (options.pemPath === '') return undefined;
  const { readFile } = await import('node:fs/promises');
  try {
    return await readFile(options.pemPath, 'utf8');
  } catch (error) {
    throw new Error(`failed to read pemPath ${options.pemPath}: ${errorText(error)}`, {
      cause: error,
    });
  }
}

/**
 * go-sql-driver sends unknown DSN parameters as `SET name=value` on each new connection; this
 * does the same on a connection's first lease.
 */
function sessionPreparer(dsn: MySqlConnectionSettings): SessionOptions['prepare'] {
  if (dsn.sessionVariables.length === 0) return async () => {};
  const sql = `SET ${dsn.sessionVariables.map(([name, value]) => `${name}=${value}`).join(', ')}`;
  const prepared = new WeakSet<object>();
  return async (session: MySqlSession, connection: PoolConnection) => {
    if (prepared.has(connection.connection)) return;
    await session.run({ sql, values: [] });
    prepared.add(connection.connection);
  };
}

/** Dapr's table set-up: the state table (upgraded from older layouts) and the metadata table. */
async function ensureTables(
  session: MySqlSession,
  options: MySqlStateOptions,
  logger: Logger,
): Promise<void> {
  const { schemaName, tableName } = options;
  await session.run({ sql: createStateTableSql(tableName), values: [] });
  const columnExists = async (column: string): Promise<boolean> =>
    (await count(session, COLUMN_EXISTS_SQL, [schemaName, tableName, column])) === 1;
  if (!(await columnExists('expiredate'))) {
    logger.info('adding expiredate column to MySQL state table', { table: tableName });
    for (const sql of addExpireDateSql(tableName)) await session.run({ sql, values: [] });
  }
  if (!(await columnExists('row_id'))) {
    logger.info('adding row_id column to MySQL state table', { table: tableName });
    try {
      await session.run({ sql: addRowIdSql(tableName), values: [] });
    } catch (error) {
      if ((error as { errno?: unknown }).errno !== ER_DUP_KEYNAME) throw error;
    }
  }
  await session.run({ sql: createMetadataTableSql(options.metadataTableName), values: [] });
}

async function count(
  session: MySqlSession,
  sql: string,
  values: readonly unknown[],
): Promise<number> {
  const rows = await session.run<RowDataPacket[]>({ sql, values });
  return Number(rows[0]?.found ?? 0);
}
