import type { Pool, PoolClient } from 'pg';
import { delay } from '../../kernel/abort.js';
import type { Logger } from '../../kernel/logger.js';
import { errorText } from '../../kernel/tapr-error.js';
import { inTransaction, sqlState, withClient } from './postgresql-connection.js';

/** One schema step; it runs inside the migration transaction. */
export type MigrationStep = (client: PoolClient) => Promise<void>;

/** What `performMigrations` needs: Dapr's metadata table and the key holding the level. */
export interface MigrationPlan {
  /** Validated table name, spliced into SQL as Dapr does. */
  readonly metadataTableName: string;
  /** Row of the metadata table holding the number of steps applied (`migrations` in v1). */
  readonly levelKey: string;
  readonly steps: readonly MigrationStep[];
}

const UNIQUE_VIOLATION = '23505';
/** Migrations may rewrite a large table; the caller's start-up signal is the real bound. */
const MIGRATION_TIMEOUT_MS = 10 * 60_000;

/**
 * Brings the schema to the plan's level the way Dapr's PostgreSQL components do, so Dapr and
 * Tapr sidecars sharing a database coordinate: the metadata table (`key text`, `value text`)
 * holds a `lock` row, locked with `SELECT ... FOR UPDATE` (Dapr avoids advisory locks for
 * CockroachDB's sake), and the applied level as a decimal string under `levelKey`. Unlike
 * Dapr, which applies steps outside the lock transaction, each step runs inside it, so a
 * failed step leaves no half-applied schema behind.
 */
export async function performMigrations(
  pool: Pool,
  plan: MigrationPlan,
  logger: Logger,
  signal: AbortSignal,
): Promise<void> {
  const meta = plan.metadataTableName;
  // Concurrent CREATE TABLE IF NOT EXISTS can still collide on the type name; Dapr retries.
  for (let attempt = 1; ; attempt++) {
    try {
      await withClient(pool, signal, MIGRATION_TIMEOUT_MS, (client) =>
        client.query(
          `CREATE TABLE IF NOT EXISTS ${meta} (key text NOT NULL PRIMARY KEY, value text NOT NULL)`,
        ),
      );
      break;
    } catch (error) {
      if (sqlState(error) !== UNIQUE_VIOLATION || attempt >= 3) {
        throw new Error(`failed to create metadata table ${meta}: ${errorText(error)}`, {
          cause: error,
        });
      }
      await delay(50, signal);
    }
  }
  await withClient(pool, signal, MIGRATION_TIMEOUT_MS, (client) =>
    client.query(
      `INSERT INTO ${meta} (key, value) VALUES ('lock', 'lock') ON CONFLICT (key) DO NOTHING`,
    ),
  );
  await withClient(pool, signal, MIGRATION_TIMEOUT_MS, (client) =>
    inTransaction(client, async () => {
      await client.query(`SELECT value FROM ${meta} WHERE key = 'lock' FOR UPDATE`);
      const found = await client.query<{ value: string }>(
        `SELECT value FROM ${meta} WHERE key = $1`,
        [plan.levelKey],
      );
      const text = found.rows[0]?.value ?? '0';
      const level = /^\d+$/.test(text) ? Number(text) : Number.NaN;
      if (!Number.isSafeInteger(level)) {
        throw new Error(`invalid migration level found in metadata table: ${text}`);
      }
      for (let index = level; index < plan.steps.length; index++) {
        logger.info('performing PostgreSQL migration', { migration: index + 1 });
        const step = plan.steps[index];
        try {
          await step?.(client);
        } catch (error) {
          throw new Error(`failed to perform migration ${index}: ${errorText(error)}`, {
            cause: error,
          });
        }
        await client.query(
          `INSERT INTO ${meta} (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = $2`,
          [plan.levelKey, String(index + 1)],
        );
      }
    }),
  );
}

/**
 * Adds Dapr's `row_id` identity column to `table` (state v1 migration 3, v2 migration 2):
 * backfilled in (`orderColumn`, key) order, NOT NULL, identity, its sequence moved past the
 * maximum, and a unique index named `<table>_row_id_uidx`.
 */
export async function addRowIdColumn(
  client: PoolClient,
  table: string,
  orderColumn: string,
): Promise<void> {
  const resolved = await client.query<{ schema: string; relname: string; fq: string }>(
    `SELECT n.nspname AS schema, c.relname, format('%I.%I', n.nspname, c.relname) AS fq
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE c.oid = to_regclass($1)`,
    [table],
  );
  const found = resolved.rows[0];
  if (!found) throw new Error(`table "${table}" not found`);
  const fq = found.fq;
  const column = await client.query(
    `SELECT 1 FROM pg_attribute
      WHERE attrelid = to_regclass($1) AND attname = 'row_id' AND NOT attisdropped`,
    [table],
  );
  if (column.rowCount === 0) await client.query(`ALTER TABLE ${fq} ADD COLUMN row_id BIGINT`);
  await client.query(
    `WITH ranked AS (
       SELECT key, ROW_NUMBER() OVER (ORDER BY ${orderColumn} ASC, key ASC) AS rn
         FROM ${fq} WHERE row_id IS NULL)
     UPDATE ${fq} AS t SET row_id = r.rn FROM ranked r WHERE r.key = t.key`,
  );
  await client.query(`ALTER TABLE ${fq} ALTER COLUMN row_id SET NOT NULL`);
  const identity = await client.query(
    `SELECT 1 FROM information_schema.columns
      WHERE table_schema = $1 AND table_name = $2 AND column_name = 'row_id' AND is_identity = 'YES'`,
    [found.schema, found.relname],
  );
  if (identity.rowCount === 0) {
    await client.query(
      `ALTER TABLE ${fq} ALTER COLUMN row_id ADD GENERATED BY DEFAULT AS IDENTITY`,
    );
  }
  await client.query(
    `SELECT setval(s, COALESCE((SELECT MAX(row_id) FROM ${fq}), 0) + 1, false)
       FROM pg_get_serial_sequence($1, 'row_id') AS s WHERE s IS NOT NULL`,
    [`${found.schema}.${found.relname}`],
  );
  const index = await client.query<{ name: string }>(`SELECT format('%I', $1::text) AS name`, [
    `${found.relname}_row_id_uidx`,
  ]);
  await client.query(
    `CREATE UNIQUE INDEX IF NOT EXISTS ${index.rows[0]?.name ?? ''} ON ${fq} (row_id)`,
  );
}

/** What the periodic cleanup of expired rows needs. */
export interface CleanupOptions {
  readonly pool: Pool;
  readonly intervalMs: number;
  readonly metadataTableName: string;
  /** Metadata row holding the last cleanup time (`last-cleanup` in v1). */
  readonly lastCleanupKey: string;
  /** Deletes the expired rows. */
  readonly deleteQuery: string;
  readonly logger: Logger;
}

/** Stops a scheduled cleanup. */
export interface CleanupHandle {
  /** Runs one cleanup now (still coordinated through the metadata table). */
  runOnce(): Promise<number>;
  close(): Promise<void>;
}

/** Dapr runs a deletion for at most ten minutes. */
const CLEANUP_TIMEOUT_MS = 10 * 60_000;
/** setInterval's longest delay; longer intervals would fire immediately. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * Deletes expired rows every `intervalMs`, as Dapr's garbage collector does: a sidecar first
 * stamps `now()` into the metadata row, but only when the previous stamp is older than the
 * interval (less 100 ms), so of many sidecars sharing the table only one deletes per interval.
 */
export function scheduleCleanup(options: CleanupOptions): CleanupHandle {
  const controller = new AbortController();
  let running: Promise<number> | undefined;
  const meta = options.metadataTableName;
  const runOnce = (): Promise<number> => {
    running ??= withClient(options.pool, controller.signal, CLEANUP_TIMEOUT_MS, async (client) => {
      const stamped = await client.query(
        `INSERT INTO ${meta} AS m (key, value) VALUES ($2, now()::text)
         ON CONFLICT (key) DO UPDATE SET value = now()::text
         WHERE (EXTRACT('epoch' FROM now() - m.value::timestamp with time zone) * 1000)::bigint > $1`,
        [options.intervalMs - 100, options.lastCleanupKey],
      );
      if (stamped.rowCount === 0) return 0;
      const deleted = await client.query(options.deleteQuery);
      options.logger.info('removed expired rows', { count: deleted.rowCount ?? 0 });
      return deleted.rowCount ?? 0;
    }).finally(() => {
      running = undefined;
    });
    return running;
  };
  const timer = setInterval(
    () => {
      runOnce().catch((error: unknown) => {
        if (!controller.signal.aborted) {
          options.logger.error('error removing expired data', { error: errorText(error) });
        }
      });
    },
    Math.min(options.intervalMs, MAX_TIMER_MS),
  );
  // The cleanup must never keep the process alive on its own.
  timer.unref();
  return {
    runOnce,
    async close() {
      clearInterval(timer);
      controller.abort(new Error('state store closed'));
      await running?.catch(() => {});
    },
  };
}

/** How `openPool` prepares the database: migrations and the expired-row cleanup. */
export interface OpenPoolOptions {
  readonly plan: MigrationPlan;
  readonly timeoutMs: number;
  readonly cleanupIntervalMs: number;
  readonly lastCleanupKey: string;
  readonly deleteExpiredQuery: string;
}

/**
 * Connects, checks the server answers within the timeout, migrates the schema and schedules
 * the cleanup (when the interval is positive); the pool is closed again if any step fails.
 */
export async function openPool(
  pool: Pool,
  options: OpenPoolOptions,
  logger: Logger,
  signal: AbortSignal,
): Promise<CleanupHandle | undefined> {
  // An idle connection dropped by the server must not crash the process.
  pool.on('error', (error) => {
    logger.warn('idle PostgreSQL connection failed', { error: errorText(error) });
  });
  try {
    try {
      await withClient(pool, signal, options.timeoutMs, (client) => client.query('SELECT 1'));
    } catch (error) {
      throw new Error(`failed to connect to the database: ${errorText(error)}`, { cause: error });
    }
    await performMigrations(pool, options.plan, logger, signal);
  } catch (error) {
    await pool.end().catch(() => {});
    throw error;
  }
  if (options.cleanupIntervalMs <= 0) return undefined;
  return scheduleCleanup({
    pool,
    intervalMs: options.cleanupIntervalMs,
    metadataTableName: options.plan.metadataTableName,
    lastCleanupKey: options.lastCleanupKey,
    deleteQuery: options.deleteExpiredQuery,
    logger,
  });
}
