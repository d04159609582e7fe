import { metadataField, metadataSchema, type OptionsOf } from '../contracts/metadata.js';

/** Table names are spliced into SQL, so Dapr allows only ASCII letters, digits and `_`. */
const IDENTIFIER = /^[A-Za-z0-9_]+$/;

function identifier(defaultName: string) {
  return metadataField.string({ default: defaultName }).refine((name) => IDENTIFIER.test(name), {
    message: 'invalid identifier: use only letters, digits and underscores',
  });
}

/** Metadata of `state.sqlite`, with the field names, aliases and defaults of Dapr's component. */
export const sqliteStateMetadata = metadataSchema(
  {
    /** A file path, a `file:` URI (query parameters as Dapr's driver reads them) or `:memory:`. */
    connectionString: metadataField.string({ required: true }),
    /** Dapr's per-request timeout; must be at least 1s. A bare number is seconds, as in Dapr. */
    timeout: metadataField
      .duration({ default: 20_000, bareUnit: 's' })
      .refine((ms) => ms >= 1000, { message: 'invalid value for timeout: must be at least 1s' }),
    /** How long a write waits for another connection's lock; 0 or less means not at all. */
    busyTimeout: metadataField.duration({ default: 2000, bareUnit: 's' }),
    /** Keeps the rollback journal instead of WAL (for databases on network filesystems). */
    disableWAL: metadataField.bool(false),
    /** The state table. */
    tableName: identifier('state'),
    /** The table holding the migration level and the last cleanup time. */
    metadataTableName: identifier('metadata'),
    /** How often expired rows are deleted; 0 (Dapr's default) or less disables the cleanup. */
    cleanupInterval: metadataField.duration({ default: 0, bareUnit: 's' }),
  },
  {
    connectionString: ['url'],
    timeout: ['timeoutInSeconds'],
    cleanupInterval: ['cleanupIntervalInSeconds'],
  },
);

/** Options of `state.sqlite` after parsing; durations are in milliseconds. */
export type SqliteStateOptions = OptionsOf<typeof sqliteStateMetadata>;
