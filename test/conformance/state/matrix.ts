import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { StateFeature } from '../../../src/components/contracts/state.js';
import {
  MARIADB_DSN,
  MARIADB_SERVER,
  POSTGRES_SERVER,
  POSTGRES_URL,
  REDIS_SERVER,
  serverAddress,
  type TestServer,
  uniqueName,
} from '../../helpers/test-servers.js';

/** A run's own place on a store's backend, and how to remove it afterwards. */
export interface IsolatedBackend {
  /** The component's `spec.metadata` for this run. */
  readonly metadata: Readonly<Record<string, string>>;
  /** Removes everything the run created; every app id the run used starts with `appIdPrefix`. */
  cleanup(appIdPrefix: string): Promise<void>;
}

/**
 * How a store compares keys. `exact`: keys differing in any code point are distinct.
 * `mariadb-general-ci`: Dapr's MySQL table keeps keys in a `VARCHAR` with the server's default
 * collation, which on MariaDB is `utf8mb4_general_ci`: keys equal under it (case, accents, and
 * every emoji outside the BMP) share one row, in Dapr as in Tapr.
 */
export type KeyComparison = 'exact' | 'mariadb-general-ci';

/**
 * How a store answers an ETag it cannot hold (`not-an-etag`, as in components-contrib's
 * conformance suite): a mismatch (409 / ABORTED) or an invalid ETag (400 / INVALID_ARGUMENT).
 */
export type MalformedETag = 'mismatch' | 'invalid';

/**
 * How a store answers a save or delete carrying an ETag for a key that does not exist (or has
 * expired): `mismatch`, or `accepted` where Dapr's component writes anyway (Dapr's Redis scripts
 * pass the check when the hash has no version, so a save recreates the key and a delete is a
 * no-op).
 */
export type ETagOnMissingKey = 'mismatch' | 'accepted';

/** One store of the matrix: what it is, where a run puts its data, and what it must support. */
export interface StoreUnderTest {
  /** Names the test file (`<id>.test.ts`) and the row of the results table in docs/state.md. */
  readonly id: string;
  readonly type: string;
  readonly version: string;
  /** The server the store needs; tests fail naming it, and how to start it, when it is down. */
  readonly server?: TestServer;
  /** Exactly the features the component must declare; cases are gated on this list. */
  readonly features: readonly StateFeature[];
  /** `exact`: JSON values come back byte for byte; `normalized`: as equal JSON (a jsonb column). */
  readonly json: 'exact' | 'normalized';
  /** Whether a second component instance with the same metadata sees the same data. */
  readonly sharedBackend: boolean;
  readonly keys: KeyComparison;
  readonly malformedETag: MalformedETag;
  readonly etagOnMissingKey: ETagOnMissingKey;
  /** Makes this run's metadata: its own table, schema, file or key space. */
  isolate(): Promise<IsolatedBackend>;
}

const { ETAG, TRANSACTIONAL, TTL, QUERY_API } = StateFeature;

/** Every built-in state store, as the conformance suite runs it. */
export const STATE_MATRIX: readonly StoreUnderTest[] = [
  {
    id: 'in-memory',
    type: 'state.in-memory',
    version: 'v1',
    features: [ETAG, TRANSACTIONAL, TTL],
    json: 'exact',
    // Each instance has its own memory: the race cases run two writers on one instance.
    sharedBackend: false,
    keys: 'exact',
    malformedETag: 'mismatch',
    etagOnMissingKey: 'mismatch',
    isolate: async () => ({ metadata: {}, cleanup: async () => {} }),
  },
  {
    id: 'sqlite',
    type: 'state.sqlite',
    version: 'v1',
    features: [ETAG, TRANSACTIONAL, TTL],
    json: 'exact',
    sharedBackend: true,
    keys: 'exact',
    malformedETag: 'mismatch',
    etagOnMissingKey: 'mismatch',
    async isolate() {
      const dir = await mkdtemp(join(tmpdir(), 'tapr-conformance-sqlite-'));
      return {
        metadata: { connectionString: join(dir, 'state.db') },
        cleanup: () => rm(dir, { recursive: true, force: true }),
      };
    },
  },
  {
    id: 'redis',
    type: 'state.redis',
    version: 'v1',
    server: REDIS_SERVER,
    features: [ETAG, TRANSACTIONAL, TTL],
    json: 'exact',
    sharedBackend: true,
    keys: 'exact',
    // Versions are integers; Dapr's scripts accept an ETag for a key without a version.
    malformedETag: 'invalid',
    etagOnMissingKey: 'accepted',
    // The server is shared: a run's keys are the ones under its app ids (`<appid>||key`).
    isolate: async () => ({
      metadata: { redisHost: serverAddress(REDIS_SERVER) },
      cleanup: (appIdPrefix) => deleteRedisKeys(`${appIdPrefix}*`),
    }),
  },
  {
    id: 'postgresql-v1',
    type: 'state.postgresql',
    version: 'v1',
    server: POSTGRES_SERVER,
    features: [ETAG, TRANSACTIONAL, TTL, QUERY_API],
    // Values live in a jsonb column, which re-formats JSON text.
    json: 'normalized',
    sharedBackend: true,
    keys: 'exact',
    // The ETag is xmin, a 32-bit transaction id.
    malformedETag: 'invalid',
    etagOnMissingKey: 'mismatch',
    async isolate() {
      const tableName = uniqueName('state');
      const metadataTableName = uniqueName('meta');
      return {
        metadata: { connectionString: POSTGRES_URL, tableName, metadataTableName },
        cleanup: () => dropPostgresTables([tableName, metadataTableName]),
      };
    },
  },
  {
    id: 'postgresql-v2',
    type: 'state.postgresql',
    version: 'v2',
    server: POSTGRES_SERVER,
    features: [ETAG, TRANSACTIONAL, TTL],
    json: 'exact',
    sharedBackend: true,
    keys: 'exact',
    // Dapr's v2 answers an ETag that is not a UUID with a mismatch.
    malformedETag: 'mismatch',
    etagOnMissingKey: 'mismatch',
    async isolate() {
      const tablePrefix = `${uniqueName('v2')}_`;
      const metadataTableName = uniqueName('meta');
      return {
        metadata: { connectionString: POSTGRES_URL, tablePrefix, metadataTableName },
        cleanup: () => dropPostgresTables([`${tablePrefix}state`, metadataTableName]),
      };
    },
  },
  {
    id: 'mysql',
    type: 'state.mysql',
    version: 'v1',
    server: MARIADB_SERVER,
    features: [ETAG, TRANSACTIONAL, TTL],
    // MariaDB's JSON is LONGTEXT and keeps the text (MySQL 8 would normalize it).
    json: 'exact',
    sharedBackend: true,
    keys: 'mariadb-general-ci',
    malformedETag: 'mismatch',
    etagOnMissingKey: 'mismatch',
    async isolate() {
      const schemaName = uniqueName('schema');
      return {
        metadata: { connectionString: MARIADB_DSN, schemaName },
        cleanup: () => dropMariaDbSchema(schemaName),
      };
    },
  },
];

/** The matrix entry with this id; throws for an unknown one. */
export function storeUnderTest(id: string): StoreUnderTest {
  const entry = STATE_MATRIX.find((candidate) => candidate.id === id);
  if (entry === undefined) throw new Error(`no store "${id}" in the state conformance matrix`);
  return entry;
}

async function deleteRedisKeys(pattern: string): Promise<void> {
  const { Redis } = await import('ioredis');
  const client = new Redis({ host: REDIS_SERVER.host, port: REDIS_SERVER.port, lazyConnect: true });
  try {
    await client.connect();
    let cursor = '0';
    do {
      const [next, keys] = await client.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
      if (keys.length > 0) await client.del(...keys);
      cursor = next;
    } while (cursor !== '0');
  } finally {
    client.disconnect();
  }
}

async function dropPostgresTables(tables: readonly string[]): Promise<void> {
  const { default: pg } = await import('pg');
  const client = new pg.Client({ connectionString: POSTGRES_URL });
  await client.connect();
  try {
    for (const table of tables) await client.query(`DROP TABLE IF EXISTS ${table}`);
  } finally {
    await client.end();
  }
}

async function dropMariaDbSchema(schema: string): Promise<void> {
  const { createConnection } = await import('mysql2/promise');
  const connection = await createConnection({
    host: MARIADB_SERVER.host,
    port: MARIADB_SERVER.port,
    user: 'root',
  });
  try {
    await connection.query(`DROP DATABASE IF EXISTS \`${schema}\``);
  } finally {
    await connection.end();
  }
}
