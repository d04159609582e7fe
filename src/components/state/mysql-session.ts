import type { Pool, PoolConnection, QueryResult, TypeCast } from 'mysql2/promise';
import type { SqlStatement } from './mysql-sql.js';

/**
 * Reads the `value` column as raw bytes: MySQL 8 and MariaDB (extended metadata) mark it as JSON,
 * which the driver would otherwise parse, and JSON values must come back byte for byte.
 */
const RAW_VALUE: TypeCast = (field, next) => (field.name === 'value' ? field.buffer() : next());

/** Settings every session shares. */
export interface SessionOptions {
  /** Deadline of each statement (and of waiting for a pooled connection), like Dapr's timeout. */
  readonly timeoutMs: number;
  /** Runs before `work` on every lease, e.g. to set session variables on a new connection. */
  readonly prepare: (session: MySqlSession, connection: PoolConnection) => Promise<void>;
}

/**
 * One pooled connection used by one operation. A statement that times out or whose signal aborts
 * destroys the connection: the driver cannot cancel a running statement, and a destroyed
 * connection makes the server roll back any open transaction.
 */
export class MySqlSession {
  readonly #connection: PoolConnection;
  readonly #timeoutMs: number;
  readonly #signal: AbortSignal;
  #destroyed = false;

  constructor(connection: PoolConnection, timeoutMs: number, signal: AbortSignal) {
    this.#connection = connection;
    this.#timeoutMs = timeoutMs;
    this.#signal = signal;
  }

  /** Whether the connection was dropped after a timeout or abort. */
  get destroyed(): boolean {
    return this.#destroyed;
  }

  /** Runs one statement; resolves with the driver's result (rows or a result header). */
  run<T extends QueryResult>(statement: SqlStatement): Promise<T> {
    if (this.#destroyed) return Promise.reject(new Error('MySQL connection was closed'));
    if (this.#signal.aborted) return Promise.reject(this.#signal.reason);
    return bounded(
      this.#connection
        .query<T>({ sql: statement.sql, values: [...statement.values], typeCast: RAW_VALUE })
        .then(([result]) => result),
      this.#timeoutMs,
      this.#signal,
      () => this.#destroy(),
      () => new Error(`MySQL statement timed out after ${this.#timeoutMs} ms`),
    );
  }

  /** Returns the connection to the pool unless it was destroyed. */
  release(): void {
    if (!this.#destroyed) this.#connection.release();
  }

  #destroy(): void {
    if (this.#destroyed) return;
    this.#destroyed = true;
    this.#connection.destroy();
  }
}

/** Runs `work` on a pooled connection, released (or destroyed) afterwards. */
export async function withSession<T>(
  pool: Pool,
  options: SessionOptions,
  signal: AbortSignal,
  work: (session: MySqlSession) => Promise<T>,
): Promise<T> {
  signal.throwIfAborted();
  const waiting = pool.getConnection();
  const connection = await bounded(
    waiting,
    options.timeoutMs,
    signal,
    () => {
      // A connection that arrives after the caller gave up goes straight back to the pool.
      waiting.then(
        (late) => late.release(),
        () => {},
      );
    },
    () => new Error(`timed out waiting for a MySQL connection after ${options.timeoutMs} ms`),
  );
  const session = new MySqlSession(connection, options.timeoutMs, signal);
  try {
    await options.prepare(session, connection);
    return await work(session);
  } finally {
    session.release();
  }
}

/** Runs statements in one transaction: committed when `work` resolves, rolled back otherwise. */
export async function inTransaction<T>(session: MySqlSession, work: () => Promise<T>): Promise<T> {
  await session.run({ sql: 'START TRANSACTION', values: [] });
  try {
    const result = await work();
    await session.run({ sql: 'COMMIT', values: [] });
    return result;
  } catch (error) {
    // A destroyed connection has already made the server roll back.
    if (!session.destroyed) {
      await session.run({ sql: 'ROLLBACK', values: [] }).catch(() => {});
    }
    throw error;
  }
}

/**
 * Settles with `work` unless the deadline passes or the signal aborts first; then `onStop` runs
 * (to drop the connection) and the promise rejects. `work`'s late failure is absorbed.
 */
function bounded<T>(
  work: Promise<T>,
  timeoutMs: number,
  signal: AbortSignal,
  onStop: () => void,
  timeoutError: () => Error,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let settled = false;
    const stop = (error: unknown): void => {
      if (settled) return;
      settled = true;
      cleanup();
      onStop();
      reject(error);
    };
    const onAbort = (): void => stop(signal.reason);
    const timer = setTimeout(() => stop(timeoutError()), timeoutMs);
    const cleanup = (): void => {
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
    };
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(
      (value) => {
        if (settled) return;
        settled = true;
        cleanup();
        resolve(value);
      },
      (error: unknown) => {
        if (settled) return;
        settled = true;
        cleanup();
        reject(error);
      },
    );
  });
}
