/** The tables of one pub/sub database, named from the validated `tablePrefix`. */
export interface PubSubTables {
  /** Every published message, all topics, in one append-only sequence. */
  readonly messages: string;
  /** Per topic and consumer group: the cursor (highest sequence claimed) and liveness. */
  readonly groups: string;
  /** Per group, messages claimed but not acknowledged, or waiting to be delivered again. */
  readonly leases: string;
  /** Schema level and the last cleanup time, shared by every process on the file. */
  readonly metadata: string;
}

/** The schema level this code writes; raised by each migration. */
export const SCHEMA_LEVEL = 1;
/** The metadata key holding the schema level. */
export const SCHEMA_KEY = 'migrations';
/** The metadata key holding when the last retention pass started (ms since the epoch). */
export const CLEANUP_KEY = 'last-cleanup';

/** Table names for a prefix (already checked to be an identifier). */
export function pubSubTables(prefix: string): PubSubTables {
  return {
    messages: `${prefix}messages`,
    groups: `${prefix}groups`,
    leases: `${prefix}leases`,
    metadata: `${prefix}metadata`,
  };
}

/** The metadata table, created first so the schema level can be read. */
export function metadataTableSql(tables: PubSubTables): string {
  return `CREATE TABLE IF NOT EXISTS ${tables.metadata} (
    key TEXT NOT NULL PRIMARY KEY,
    value TEXT NOT NULL
  )`;
}

/**
 * Level 1. `seq` is AUTOINCREMENT so a number is never reused after retention deletes the
 * newest rows: a group's cursor stays meaningful. Times are milliseconds since the epoch of
 * the writing process's clock (all writers share one machine). A lease row with an owner is a
 * claim that lapses at `visible_at`; one without an owner is a message waiting to be
 * delivered again from `visible_at` on.
 */
export function schemaSql(tables: PubSubTables): string {
  const { messages, groups, leases } = tables;
  return `
    CREATE TABLE IF NOT EXISTS ${messages} (
      seq INTEGER PRIMARY KEY AUTOINCREMENT,
      topic TEXT NOT NULL,
      data BLOB NOT NULL,
      content_type TEXT,
      metadata TEXT,
      published_at INTEGER NOT NULL,
      expires_at INTEGER
    );
    CREATE INDEX IF NOT EXISTS ${messages}_topic ON ${messages} (topic, seq);
    CREATE INDEX IF NOT EXISTS ${messages}_published ON ${messages} (published_at);
    CREATE INDEX IF NOT EXISTS ${messages}_expires ON ${messages} (expires_at)
      WHERE expires_at IS NOT NULL;
    CREATE TABLE IF NOT EXISTS ${groups} (
      topic TEXT NOT NULL,
      consumer_group TEXT NOT NULL,
      cursor INTEGER NOT NULL,
      created_at INTEGER NOT NULL,
      last_seen INTEGER NOT NULL,
      PRIMARY KEY (topic, consumer_group)
    ) WITHOUT ROWID;
    CREATE TABLE IF NOT EXISTS ${leases} (
      topic TEXT NOT NULL,
      seq INTEGER NOT NULL,
      consumer_group TEXT NOT NULL,
      owner TEXT,
      visible_at INTEGER NOT NULL,
      deliveries INTEGER NOT NULL,
      PRIMARY KEY (topic, seq, consumer_group)
    ) WITHOUT ROWID;
    CREATE INDEX IF NOT EXISTS ${leases}_due ON ${leases} (topic, consumer_group, visible_at);
    CREATE INDEX IF NOT EXISTS ${leases}_owner ON ${leases} (owner) WHERE owner IS NOT NULL;
  `;
}
