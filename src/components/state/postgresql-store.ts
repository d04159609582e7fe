import type { Pool, PoolClient } from 'pg';
import type { MetadataRecord } from '../contracts/component.js';
import {
  type BulkGetItem,
  isStateETagError,
  type StateDeleteRequest,
  StateETagError,
  type StateGetRequest,
  type StateGetResponse,
  type StateSetRequest,
  type TransactionalStateStore,
  type TransactionOperation,
} from '../contracts/state.js';
import { inTransaction, withClient } from './postgresql-connection.js';
import type { CleanupHandle } from './postgresql-migrations.js';
import type { SqlStatement } from './postgresql-query.js';

/** A row as the dialect's select returns it, decoded. */
export interface DecodedRow {
  readonly key: string;
  readonly data: Uint8Array;
  readonly etag: string;
  readonly expireDate: Date | null;
}

/** What differs between Dapr's PostgreSQL table layouts (v1 jsonb + xmin, v2 bytea + uuid). */
export interface PostgresDialect {
  /** Selects live rows whose key is in `$1` (text[]). */
  readonly selectByKeys: string;
  /** Decodes one row of `selectByKeys`; throws when the stored value is malformed. */
  decodeRow(row: Record<string, unknown>): DecodedRow;
  /** Throws `StateETagError` when `etag` cannot be one of this layout's ETags. */
  checkETag(etag: string): void;
  /** Saves one value; the statement affects one row exactly when the write is allowed. */
  setStatement(request: StateSetRequest): SqlStatement;
  /** Deletes one key; with an ETag it affects one row exactly when the ETag matched. */
  deleteStatement(request: StateDeleteRequest): SqlStatement;
  /** Last-write upsert of many distinct keys, none with an ETag, in one statement. */
  bulkUpsertStatement(requests: readonly StateSetRequest[]): SqlStatement;
  /** Deletes many keys without ETags in one statement. */
  readonly bulkDeleteStatement: string;
}

/** The TTL Dapr's PostgreSQL stores apply: positive seconds, anything else means none. */
export function ttlOf(request: StateSetRequest): number | null {
  return request.ttlSeconds !== undefined && request.ttlSeconds > 0
    ? Math.floor(request.ttlSeconds)
    : null;
}

/** Whether a set can join a single-statement bulk upsert: no ETag and last-write. */
function isPlainSet(request: StateSetRequest): boolean {
  return !request.etag && request.concurrency !== 'first-write';
}

/**
 * A state store over one PostgreSQL table, shared by `state.postgresql` v1 and v2: single
 * statements that PostgreSQL makes atomic (conditional `UPDATE` for ETags, `INSERT ... ON
 * CONFLICT` for first-write), so concurrent writers race safely without reads in between.
 */
export class PostgresStateStore implements TransactionalStateStore {
  protected readonly pool: Pool;
  protected readonly dialect: PostgresDialect;
  protected readonly timeoutMs: number;
  readonly #cleanup: CleanupHandle | undefined;
  #closed = false;

  constructor(
    pool: Pool,
    dialect: PostgresDialect,
    timeoutMs: number,
    cleanup: CleanupHandle | undefined,
  ) {
    this.pool = pool;
    this.dialect = dialect;
    this.timeoutMs = timeoutMs;
    this.#cleanup = cleanup;
  }

  async get(request: StateGetRequest, signal: AbortSignal): Promise<StateGetResponse | undefined> {
    const rows = await this.#select([request.key], signal);
    const row = rows[0];
    return row === undefined ? undefined : toResponse(this.dialect.decodeRow(row));
  }

  async bulkGet(requests: readonly StateGetRequest[], signal: AbortSignal): Promise<BulkGetItem[]> {
    if (requests.length === 0) return [];
    const keys = [...new Set(requests.map((request) => request.key))];
    const rows = await this.#select(keys, signal);
    const found = new Map<string, Record<string, unknown>>();
    for (const row of rows) found.set(String(row.key), row);
    return requests.map((request): BulkGetItem => {
      const row = found.get(request.key);
      if (row === undefined) return { key: request.key };
      try {
        return { key: request.key, response: toResponse(this.dialect.decodeRow(row)) };
      } catch (error) {
        return { key: request.key, error: error instanceof Error ? error.message : String(error) };
      }
    });
  }

  async set(request: StateSetRequest, signal: AbortSignal): Promise<void> {
    if (request.etag) this.dialect.checkETag(request.etag);
    await this.#run(signal, (client) => this.#set(client, request));
  }

  async delete(request: StateDeleteRequest, signal: AbortSignal): Promise<void> {
    if (request.etag) this.dialect.checkETag(request.etag);
    await this.#run(signal, (client) => this.#delete(client, request));
  }

  /**
   * Saves many keys. Plain last-write saves go in one statement (the last save of a repeated
   * key wins); saves with an ETag or first-write run one by one, and, as Dapr's bulk save
   * does, every save is attempted before the failures are reported.
   */
  async bulkSet(requests: readonly StateSetRequest[], signal: AbortSignal): Promise<void> {
    if (requests.length === 0) return;
    if (requests.every(isPlainSet)) {
      const latest = new Map<string, StateSetRequest>();
      for (const request of requests) {
        latest.delete(request.key);
        latest.set(request.key, request);
      }
      const statement = this.dialect.bulkUpsertStatement([...latest.values()]);
      await this.#run(signal, (client) => client.query(statement.text, statement.values));
      return;
    }
    await this.#eachReporting(requests, signal, (request) => this.set(request, signal));
  }

  /** Deletes many keys: one statement without ETags, else one by one reporting every failure. */
  async bulkDelete(requests: readonly StateDeleteRequest[], signal: AbortSignal): Promise<void> {
    if (requests.length === 0) return;
    if (requests.every((request) => !request.etag)) {
      const keys = [...new Set(requests.map((request) => request.key))];
      await this.#run(signal, (client) => client.query(this.dialect.bulkDeleteStatement, [keys]));
      return;
    }
    await this.#eachReporting(requests, signal, (request) => this.delete(request, signal));
  }

  /** Runs the operations in one transaction; the first failure rolls all of them back. */
  async multi(
    operations: readonly TransactionOperation[],
    _metadata: MetadataRecord,
    signal: AbortSignal,
  ): Promise<void> {
    for (const operation of operations) {
      if (operation.request.etag) this.dialect.checkETag(operation.request.etag);
    }
    if (operations.length === 0) return;
    await this.#run(signal, (client) =>
      inTransaction(client, async () => {
        for (const operation of operations) {
          if (operation.operation === 'upsert') await this.#set(client, operation.request);
          else await this.#delete(client, operation.request);
        }
      }),
    );
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#cleanup?.close();
    await this.pool.end();
  }

  /** Deletes expired rows now (coordinated with other sidecars); returns how many. */
  async cleanupExpired(): Promise<number> {
    return (await this.#cleanup?.runOnce()) ?? 0;
  }

  protected run<T>(signal: AbortSignal, work: (client: PoolClient) => Promise<T>): Promise<T> {
    return this.#run(signal, work);
  }

  #run<T>(signal: AbortSignal, work: (client: PoolClient) => Promise<T>): Promise<T> {
    if (this.#closed) return Promise.reject(new Error('state store is closed'));
    return withClient(this.pool, signal, this.timeoutMs, work);
  }

  async #select(keys: readonly string[], signal: AbortSignal): Promise<Record<string, unknown>[]> {
    const result = await this.#run(signal, (client) =>
      client.query<Record<string, unknown>>(this.dialect.selectByKeys, [keys]),
    );
    return result.rows;
  }

  async #set(client: PoolClient, request: StateSetRequest): Promise<void> {
    const statement = this.dialect.setStatement(request);
    const result = await client.query(statement.text, statement.values);
    // No row: the ETag no longer matches, or (first-write) the key already exists.
    if (result.rowCount !== 1) throw new StateETagError('mismatch');
  }

  async #delete(client: PoolClient, request: StateDeleteRequest): Promise<void> {
    const statement = this.dialect.deleteStatement(request);
    const result = await client.query(statement.text, statement.values);
    if (request.etag && result.rowCount !== 1) throw new StateETagError('mismatch');
  }

  async #eachReporting<R extends { readonly key: string }>(
    requests: readonly R[],
    signal: AbortSignal,
    apply: (request: R) => Promise<void>,
  ): Promise<void> {
    const failures: { key: string; error: unknown }[] = [];
    for (const request of requests) {
      signal.throwIfAborted();
      try {
        await apply(request);
      } catch (error) {
        failures.push({ key: request.key, error });
      }
    }
    const first = failures[0];
    if (first === undefined) return;
    if (failures.length === 1) throw first.error;
    const summary = failures
      .map(({ key, error }) => `${key}: ${error instanceof Error ? error.message : String(error)}`)
      .join('; ');
    // Dapr answers a joined error holding any ETag error as that ETag error (errors.As).
    const etagFailure = failures.find(({ error }) => isStateETagError(error))?.error;
    if (isStateETagError(etagFailure)) {
      throw new StateETagError(
        etagFailure.kind,
        `${failures.length} operations failed: ${summary}`,
      );
    }
    throw new Error(`${failures.length} operations failed: ${summary}`, {
      cause: new AggregateError(failures.map(({ error }) => error)),
    });
  }
}

function toResponse(row: DecodedRow): StateGetResponse {
  if (row.expireDate === null) return { data: row.data, etag: row.etag };
  // Go's RFC 3339 layout in UTC, whole seconds, as Dapr's ttlExpireTime.
  const ttlExpireTime = `${row.expireDate.toISOString().slice(0, 19)}Z`;
  return { data: row.data, etag: row.etag, metadata: { ttlExpireTime } };
}
