import { metadataField, metadataSchema, type OptionsOf } from '../contracts/metadata.js';

/** Table names are spliced into SQL, so the prefix allows only ASCII letters, digits and `_`. */
const IDENTIFIER = /^[A-Za-z0-9_]+$/;

/** A duration that must be at least `minMs`, with a message naming the bound. */
function durationAtLeast(defaultMs: number, minMs: number, what: string) {
  return metadataField
    .duration({ default: defaultMs, bareUnit: 's' })
    .refine((ms) => ms >= minMs, { message: `${what} must be at least ${minMs}ms` });
}

/**
 * Metadata of `pubsub.sqlite` (Tapr's own component; Dapr has no SQLite pub/sub). Connection
 * fields are named as in `state.sqlite`; delivery fields borrow the names Dapr's Redis and
 * SQS-like brokers use where the meaning matches. Bare numbers in durations are seconds.
 */
export const sqlitePubSubMetadata = metadataSchema(
  {
    /** A file path or a `file:` URI (`mode=rw`, `_pragma=...`); `:memory:` works in one instance only. */
    connectionString: metadataField.string({ required: true }),
    /** Prefix of the tables (`<prefix>messages`, `<prefix>groups`, `<prefix>leases`, `<prefix>metadata`). */
    tablePrefix: metadataField.string({ default: 'pubsub_' }).refine((p) => IDENTIFIER.test(p), {
      message: 'invalid table prefix: use only letters, digits and underscores',
    }),
    /** How long start-up waits for another process holding the file (opening, migrating). */
    timeout: durationAtLeast(20_000, 1000, 'timeout'),
    /** How long a write waits for another process's lock before it fails. */
    busyTimeout: metadataField.duration({ default: 2000, bareUnit: 's' }),
    /** Keeps the rollback journal instead of WAL (for files on network filesystems). */
    disableWAL: metadataField.bool(false),
    /** The consumer group; empty means the app id (the runtime's rule for every pub/sub). */
    consumerID: metadataField.string(),
    /** Handler calls in flight per subscription; 1 delivers a topic strictly in publish order. */
    concurrency: metadataField.int({ default: 10, min: 1 }),
    /** The longest wait between polls when idle; polls run every 5ms while messages flow. */
    pollInterval: durationAtLeast(100, 1, 'pollInterval'),
    /** How long a claimed message stays invisible to the group before a lost subscriber's claim lapses. */
    visibilityTimeout: durationAtLeast(30_000, 100, 'visibilityTimeout'),
    /** How long a message the handler rejected waits before it is delivered again. */
    redeliverInterval: durationAtLeast(5000, 0, 'redeliverInterval'),
    /** Messages older than this are deleted, acknowledged or not. */
    retentionPeriod: durationAtLeast(86_400_000, 1000, 'retentionPeriod'),
    /** Per topic, acknowledged messages beyond the newest this many are deleted; 0: no limit. */
    maxMessages: metadataField.int({ default: 10_000, min: 0 }),
    /** How often the retention cleanup runs (one process per interval); 0 disables it. */
    cleanupInterval: metadataField.duration({ default: 60_000, bareUnit: 's' }),
  },
  {
    connectionString: ['url'],
    timeout: ['timeoutInSeconds'],
    visibilityTimeout: ['processingTimeout'],
    cleanupInterval: ['cleanupIntervalInSeconds'],
  },
);

/** Options of `pubsub.sqlite` after parsing; durations are in milliseconds. */
export type SqlitePubSubOptions = OptionsOf<typeof sqlitePubSubMetadata>;
