import type { z } from 'zod';
import { errorText } from '../../kernel/tapr-error.js';
import { metadataField, metadataSchema, type OptionsOf } from '../contracts/metadata.js';
import { parseConnectionString } from './postgresql-connection.js';

/** pgx's query execution modes; Dapr rejects any other `queryExecMode`. */
const QUERY_EXEC_MODES = [
  'cache_statement',
  'cache_describe',
  'describe_exec',
  'exec',
  'simple_protocol',
];

/**
 * A table name as Dapr's PostgreSQL stores splice it into SQL: `table` or `schema.table`, each
 * part a plain identifier or a double-quoted one. Anything else is refused so the name cannot
 * carry SQL.
 */
const TABLE_NAME =
  /^(?:[A-Za-z_][A-Za-z0-9_$]*|"(?:[^"\0]|"")+")(?:\.(?:[A-Za-z_][A-Za-z0-9_$]*|"(?:[^"\0]|"")+"))?$/;

function tableName(defaultName: string) {
  return metadataField.string({ default: defaultName }).refine((name) => TABLE_NAME.test(name), {
    message: 'must be a table name like "state" or "schema.state"',
  });
}

/** Dapr refuses an operation timeout under one second. */
const timeout = metadataField
  .duration({ default: 20_000, bareUnit: 's' })
  .refine((ms) => ms >= 1000, { message: 'must be at least 1s' });

/** An authentication mode Dapr offers that Tapr does not: refuse it rather than connect without it. */
function unsupportedBool(name: string) {
  return metadataField
    .bool(false)
    .refine((on) => !on, { message: `${name} authentication is not supported by Tapr` });
}

/**
 * The connection fields Dapr's PostgreSQL components share (`PostgresAuthMetadata`): a
 * connection string in URL or `key=value` form, plus fields that override its parts.
 */
export const postgresConnectionShape = {
  /** `postgres://user:pass@host:5432/db?sslmode=disable` or `host=... user=... dbname=...`. */
  connectionString: metadataField.string().superRefine((text, ctx) => {
    try {
      parseConnectionString(text);
    } catch (error) {
      ctx.addIssue({ code: 'custom', message: errorText(error) });
    }
  }),
  host: metadataField.string(),
  hostaddr: metadataField.string(),
  port: metadataField.string(),
  database: metadataField.string(),
  user: metadataField.string(),
  password: metadataField.string(),
  sslRootCert: metadataField.string(),
  /** Pool size; 0 or 1 keeps the default, the greater of 4 and the CPU count (pgx's default). */
  maxConns: metadataField.int({ default: 0 }),
  /** Idle connections are closed after this long; 0 keeps the driver's default. */
  connectionMaxIdleTime: metadataField.duration({ default: 0, bareUnit: 's' }),
  /** Accepted for Dapr compatibility: node-postgres never caches prepared statements. */
  queryExecMode: metadataField
    .string()
    .refine((mode) => mode === '' || QUERY_EXEC_MODES.includes(mode), {
      message: `must be one of ${QUERY_EXEC_MODES.join(', ')}`,
    }),
  useAzureAD: unsupportedBool('Azure AD'),
  useAWSIAM: unsupportedBool('AWS IAM'),
  /** Time limit of each database operation. */
  timeout,
  metadataTableName: tableName('dapr_metadata'),
  /** How often expired rows are deleted; 0 or negative disables the cleanup. */
  cleanupInterval: metadataField.duration({ default: 3_600_000, bareUnit: 's' }),
  /** Read by the runtime (actor state store); accepted here. */
  actorStateStore: metadataField.bool(false),
  /** Read by the runtime (key prefix strategy); accepted here. */
  keyPrefix: metadataField.string(),
} as const;

/** Dapr's aliases for the shared connection fields. */
export const postgresConnectionAliases = {
  connectionString: ['url'],
  timeout: ['timeoutInSeconds'],
  cleanupInterval: ['cleanupIntervalInSeconds'],
} as const;

/** The fields that can stand in for a connection string, as in Dapr's DSN builder. */
const CONNECTION_PARTS = ['host', 'hostaddr', 'port', 'database', 'user', 'password'] as const;

/** Dapr builds a DSN from the separate fields when the connection string is empty. */
export function requireConnection(
  options: Readonly<Record<(typeof CONNECTION_PARTS)[number] | 'connectionString', string>>,
  ctx: z.core.$RefinementCtx<unknown>,
): void {
  if (options.connectionString !== '') return;
  if (CONNECTION_PARTS.some((part) => options[part] !== '')) return;
  ctx.addIssue({ code: 'custom', message: 'is required', path: ['connectionString'] });
}

/** Metadata of `state.postgresql` v1, with Dapr's field names, aliases and defaults. */
export const postgresqlV1Metadata = metadataSchema(
  {
    ...postgresConnectionShape,
    /** The state table, optionally schema-qualified. */
    tableName: tableName('state'),
  },
  postgresConnectionAliases,
).superRefine(requireConnection);

/** Options of `state.postgresql` v1 after parsing. */
export type PostgresqlV1Options = OptionsOf<typeof postgresqlV1Metadata>;

/** Metadata of `state.postgresql` v2: a table prefix instead of a table name. */
export const postgresqlV2Metadata = metadataSchema(
  {
    ...postgresConnectionShape,
    /** Prepended to `state` to name the table; may carry a schema (`myschema.app_`). */
    tablePrefix: metadataField.string().refine((prefix) => TABLE_NAME.test(`${prefix}state`), {
      message: 'must make a table name like "app_state" or "schema.app_state" with "state"',
    }),
  },
  postgresConnectionAliases,
).superRefine(requireConnection);

/** Options of `state.postgresql` v2 after parsing. */
export type PostgresqlV2Options = OptionsOf<typeof postgresqlV2Metadata>;

/** The connection-related options every PostgreSQL state store version has. */
export type PostgresConnectionOptions = Pick<
  PostgresqlV1Options,
  keyof typeof postgresConnectionShape
>;
