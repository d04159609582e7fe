import { z } from 'zod';
import { metadataField, metadataSchema, type OptionsOf } from '../contracts/metadata.js';
import { type MySqlConnectionSettings, parseMySqlConnectionString } from './mysql-dsn.js';

/**
 * Dapr's identifier rule for schema and table names: ASCII letters, digits and `_` only, which
 * keeps them safe to splice into SQL.
 */
const IDENTIFIER = /^[A-Za-z0-9_]+$/;

function identifier(defaultName: string, what: string) {
  return metadataField.string({ default: defaultName }).refine((value) => IDENTIFIER.test(value), {
    message: `${what} is not valid: use only letters, digits and underscores`,
  });
}

function connectionString() {
  return metadataField
    .string({ required: true })
    .transform((value, ctx): MySqlConnectionSettings => {
      try {
        return parseMySqlConnectionString(value);
      } catch (error) {
        ctx.issues.push({
          code: 'custom',
          message: error instanceof Error ? error.message : String(error),
          input: value,
        });
        return z.NEVER;
      }
    });
}

/** Metadata of `state.mysql`, with Dapr's field names and defaults. */
export const mysqlStateMetadata = metadataSchema({
  /**
   * go-sql-driver DSN (`user:pass@tcp(host:3306)/?allowNativePasswords=true`) or a `mysql://` URL;
   * the database comes from `schemaName`, not from the DSN.
   */
  connectionString: connectionString(),
  /** The database holding the tables; created when missing. */
  schemaName: identifier('dapr_state_store', 'schema name'),
  /** The state table; created when missing. */
  tableName: identifier('state', 'table name'),
  /** The table holding the last TTL clean-up time. */
  metadataTableName: identifier('dapr_metadata', 'metadata table name'),
  /** Timeout of each database operation; Dapr reads zero or less as the default 20 seconds. */
  timeoutInSeconds: metadataField
    .int({ default: 20 })
    .transform((value) => (value > 0 ? value : 20)),
  /** How often expired rows are deleted, in milliseconds; zero or less disables the clean-up. */
  cleanupInterval: metadataField.duration({ default: 3_600_000, bareUnit: 's' }),
  /** A PEM file of CA certificates for TLS (Dapr registers it as the DSN's `tls=custom`). */
  pemPath: metadataField.string(),
  /** The same CA certificates given inline (named in Dapr's docs; Tapr accepts it). */
  pemContents: metadataField.string(),
  /** Tapr only: the most pooled connections (Go's database/sql has no limit by default). */
  maxConns: metadataField.int({ default: 10, min: 1 }),
});

/** Options of `state.mysql` after parsing. */
export type MySqlStateOptions = OptionsOf<typeof mysqlStateMetadata>;
