import { metadataField, metadataSchema, type OptionsOf } from '../contracts/metadata.js';

/** Table names are spliced into SQL, so Dapr allows only ASCII letters, digits and `_`. */
const IDENTIFIER = /^[A-Za-z0-9_]+$/;

function identifier(defaultName: string) {
  return metadataField.string({ default: defaultName }).refine((name) => IDENTIFIER.test(name), {
    message: 'invalid identifier: use only letters, digits and underscores',
  });
}

/**
 * Metadata of `nameresolution.sqlite` (the Configuration's `nameResolution.configuration`),
 * with the field names, aliases, defaults and checks of Dapr's resolver, whose defaults are
 * lower than the state store's because a lookup sits on every invocation.
 */
export const sqliteNameResolutionMetadata = metadataSchema(
  {
    /** A file path, a `file:` URI or `:memory:` (one process only). */
    connectionString: metadataField.string({ required: true }),
    /** How long one query may wait for another process's lock; at least 1s. Bare numbers are seconds. */
    timeout: metadataField.duration({ default: 1000, bareUnit: 's' }).refine((ms) => ms >= 1000, {
      message: "invalid value for 'timeout': must be greater than 1s",
    }),
    /** How long SQLite itself waits on a lock before the query retries; 0 or less: no wait. */
    busyTimeout: metadataField.duration({ default: 800, bareUnit: 's' }),
    /** Keeps the rollback journal instead of WAL (for databases on network filesystems). */
    disableWAL: metadataField.bool(false),
    /** The table of registered hosts. */
    tableName: identifier('hosts'),
    /** The table holding the migration level and the last cleanup time (shared with state). */
    metadataTableName: identifier('metadata'),
    /** How often a host renews its row; a row not renewed within it is dead. Whole seconds. */
    updateInterval: metadataField
      .duration({ default: 5000, bareUnit: 's' })
      .refine((ms) => ms % 1000 === 0, {
        message: 'update interval must not contain fractions of seconds',
      }),
    /** How often rows of dead hosts are deleted; 0 or less disables the cleanup. */
    cleanupInterval: metadataField.duration({ default: 3_600_000, bareUnit: 's' }),
  },
  {
    connectionString: ['url'],
    timeout: ['timeoutInSeconds'],
    cleanupInterval: ['cleanupIntervalInSeconds'],
  },
).superRefine((options, ctx) => {
  // Dapr's rule: a renewal may take up to `timeout` and must still land within the interval.
  if (options.updateInterval - options.timeout < 1000) {
    ctx.addIssue({
      code: 'custom',
      message: 'update interval must be at least 1s greater than timeout',
      path: ['updateInterval'],
    });
  }
});

/** Options of `nameresolution.sqlite` after parsing; durations are in milliseconds. */
export type SqliteNameResolutionOptions = OptionsOf<typeof sqliteNameResolutionMetadata>;
