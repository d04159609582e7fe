import { randomUUID } from 'node:crypto';
import type { Pool, ResultSetHeader, RowDataPacket } from 'mysql2/promise';
import type { Logger } from '../../kernel/logger.js';
import { errorText } from '../../kernel/tapr-error.js';
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
import {
  inTransaction,
  type MySqlSession,
  type SessionOptions,
  withSession,
} from './mysql-session.js';
import {
  claimCleanupSql,
  decodeRow,
  deleteExpiredSql,
  deleteManyStatement,
  deleteStatement,
  replaceManyStatement,
  requestETag,
  type StateRow,
  selectManySql,
  selectOneSql,
  setStatement,
} from './mysql-sql.js';

/** Where the store keeps its rows and how often it deletes expired ones. */
export interface MySqlStoreSettings {
  readonly tableName: string;
  readonly metadataTableName: string;
  /** Zero or less disables the background clean-up, as in Dapr. */
  readonly cleanupIntervalMs: number;
}

/** Keys per bulk SELECT or DELETE statement. */
const KEYS_PER_STATEMENT = 1000;
/** Rows per bulk REPLACE, and a byte budget well under the server's 16 MiB packet default. */
const ROWS_PER_REPLACE = 500;
const BYTES_PER_REPLACE = 4 * 1024 * 1024;
/** Dapr gives a clean-up run ten minutes, since deleting many rows can be slow. */
const CLEANUP_TIMEOUT_MS = 10 * 60 * 1000;
/** setInterval's largest delay. */
const MAX_TIMER_MS = 2 ** 31 - 1;

interface Failure {
  readonly key: string;
  readonly error: unknown;
}

/** The `state.mysql` instance: one connection pool, plus the expired-row clean-up timer. */
export class MySqlStateStore implements TransactionalStateStore {
  readonly #pool: Pool;
  readonly #sessionOptions: SessionOptions;
  readonly #settings: MySqlStoreSettings;
  readonly #logger: Logger;
  readonly #closing = new AbortController();
  #timer: NodeJS.Timeout | undefined;
  #cleanup: Promise<void> | undefined;
  #closed = false;

  constructor(
    pool: Pool,
    sessionOptions: SessionOptions,
    settings: MySqlStoreSettings,
    logger: Logger,
  ) {
    this.#pool = pool;
    this.#sessionOptions = sessionOptions;
    this.#settings = settings;
    this.#logger = logger;
    if (settings.cleanupIntervalMs > 0) this.#scheduleCleanup(settings.cleanupIntervalMs);
  }

  async get(request: StateGetRequest, signal: AbortSignal): Promise<StateGetResponse | undefined> {
    return this.#withSession(signal, async (session) => {
      const rows = await session.run<RowDataPacket[]>({
        sql: selectOneSql(this.#settings.tableName),
        values: [request.key],
      });
      const row = rows[0];
      return row === undefined ? undefined : decodeRow(row as StateRow);
    });
  }

  async set(request: StateSetRequest, signal: AbortSignal): Promise<void> {
    await this.#withSession(signal, (session) => this.#set(session, request));
  }

  async delete(request: StateDeleteRequest, signal: AbortSignal): Promise<void> {
    await this.#withSession(signal, (session) => this.#delete(session, request));
  }

  async bulkGet(requests: readonly StateGetRequest[], signal: AbortSignal): Promise<BulkGetItem[]> {
    if (requests.length === 0) return [];
    const keys = [...new Set(requests.map((request) => request.key))];
    const found = new Map<string, BulkGetItem>();
    await this.#withSession(signal, async (session) => {
      for (const chunk of chunks(keys, KEYS_PER_STATEMENT)) {
        const rows = await session.run<RowDataPacket[]>({
          sql: selectManySql(this.#settings.tableName, chunk.length),
          values: chunk,
        });
        for (const row of rows as StateRow[]) found.set(row.id, itemFor(row));
      }
    });
    // The table's default collation compares ids case-insensitively, so a row may come back
    // under another spelling of the requested key.
    const loose = new Map([...found].map(([id, item]) => [looseKey(id), item]));
    return requests.map((request) => {
      const item = found.get(request.key) ?? loose.get(looseKey(request.key));
      if (item === undefined) return { key: request.key };
      return item.key === request.key ? item : { ...item, key: request.key };
    });
  }

  async bulkSet(requests: readonly StateSetRequest[], signal: AbortSignal): Promise<void> {
    const failures: Failure[] = [];
    // Last-write saves without an ETag can share one statement; the others need their checks.
    const [plain, checked] = partition(
      requests,
      (request) => requestETag(request.etag) === undefined && request.concurrency !== 'first-write',
    );
    await this.#withSession(signal, async (session) => {
      for (const batch of replaceBatches(plain)) {
        const eTags = batch.map(() => randomUUID());
        try {
          await session.run(replaceManyStatement(this.#settings.tableName, batch, eTags));
        } catch (error) {
          if (session.destroyed) throw error;
          // Save the batch row by row so only the failing keys fail, as Dapr's per-key saves do.
          for (const request of batch) {
            await attempt(session, failures, request.key, () => this.#set(session, request));
          }
        }
      }
      for (const request of checked) {
        await attempt(session, failures, request.key, () => this.#set(session, request));
      }
    });
    throwFailures('save', failures);
  }

  async bulkDelete(requests: readonly StateDeleteRequest[], signal: AbortSignal): Promise<void> {
    const failures: Failure[] = [];
    const [plain, checked] = partition(
      requests,
      (request) => requestETag(request.etag) === undefined,
    );
    await this.#withSession(signal, async (session) => {
      const keys = plain.map((request) => request.key);
      for (const chunk of chunks(keys, KEYS_PER_STATEMENT)) {
        await session.run(deleteManyStatement(this.#settings.tableName, chunk));
      }
      for (const request of checked) {
        await attempt(session, failures, request.key, () => this.#delete(session, request));
      }
    });
    throwFailures('delete', failures);
  }

  async multi(
    operations: readonly TransactionOperation[],
    _metadata: MetadataRecord,
    signal: AbortSignal,
  ): Promise<void> {
    const [only] = operations;
    if (only === undefined) return;
    await this.#withSession(signal, async (session) => {
      // Like Dapr, a single operation needs no transaction.
      if (operations.length === 1) return this.#apply(session, only);
      await inTransaction(session, async () => {
        for (const operation of operations) await this.#apply(session, operation);
      });
    });
  }

  /**
   * Deletes expired rows now, if no sidecar sharing the table did so within the clean-up
   * interval (Dapr's `last-cleanup` claim); returns how many rows went.
   */
  async cleanupExpired(): Promise<number> {
    const options = { ...this.#sessionOptions, timeoutMs: CLEANUP_TIMEOUT_MS };
    return withSession(this.#pool, options, this.#closing.signal, async (session) => {
      const claim = await session.run<ResultSetHeader>({
        sql: claimCleanupSql(this.#settings.metadataTableName),
        // Dapr claims 100 ms early so a timer firing slightly early still runs.
        values: [Math.max(this.#settings.cleanupIntervalMs - 100, 0)],
      });
      if (claim.affectedRows === 0) return 0;
      const deleted = await session.run<ResultSetHeader>({
        sql: deleteExpiredSql(this.#settings.tableName),
        values: [],
      });
      return deleted.affectedRows;
    });
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#timer);
    this.#closing.abort(new Error('state store closed'));
    await this.#cleanup;
    await this.#pool.end();
  }

  #withSession<T>(signal: AbortSignal, work: (session: MySqlSession) => Promise<T>): Promise<T> {
    if (this.#closed) return Promise.reject(new Error('state store is closed'));
    return withSession(this.#pool, this.#sessionOptions, signal, work);
  }

  async #apply(session: MySqlSession, operation: TransactionOperation): Promise<void> {
    if (operation.operation === 'upsert') await this.#set(session, operation.request);
    else await this.#delete(session, operation.request);
  }

  async #set(session: MySqlSession, request: StateSetRequest): Promise<void> {
    const statement = setStatement(this.#settings.tableName, request, randomUUID());
    const result = await session.run<ResultSetHeader>(statement);
    if (statement.check !== 'none' && result.affectedRows === 0) {
      throw new StateETagError('mismatch');
    }
  }

  async #delete(session: MySqlSession, request: StateDeleteRequest): Promise<void> {
    const etag = requestETag(request.etag);
    const result = await session.run<ResultSetHeader>(
      deleteStatement(this.#settings.tableName, request.key, etag),
    );
    if (etag !== undefined && result.affectedRows !== 1) throw new StateETagError('mismatch');
  }

  #scheduleCleanup(intervalMs: number): void {
    this.#timer = setInterval(
      () => {
        if (this.#cleanup !== undefined) return;
        this.#cleanup = this.cleanupExpired()
          .then(
            (removed) => {
              if (removed > 0) this.#logger.info('removed expired MySQL state rows', { removed });
            },
            (error: unknown) => {
              if (!this.#closed) {
                this.#logger.error('failed to remove expired MySQL state rows', {
                  error: errorText(error),
                });
              }
            },
          )
          .finally(() => {
            this.#cleanup = undefined;
          });
      },
      Math.min(intervalMs, MAX_TIMER_MS),
    );
    // The clean-up must never keep the process alive on its own.
    this.#timer.unref();
  }
}

function itemFor(row: StateRow): BulkGetItem {
  try {
    return { key: row.id, response: decodeRow(row) };
  } catch (error) {
    return { key: row.id, error: errorText(error) };
  }
}

/** An approximation of the default `_ci` collation with PAD SPACE, for matching bulk results. */
function looseKey(key: string): string {
  return key.toLowerCase().trimEnd();
}

function partition<T>(items: readonly T[], test: (item: T) => boolean): [T[], T[]] {
  const yes: T[] = [];
  const no: T[] = [];
  for (const item of items) (test(item) ? yes : no).push(item);
  return [yes, no];
}

function* chunks<T>(items: readonly T[], size: number): Generator<T[]> {
  for (let index = 0; index < items.length; index += size) yield items.slice(index, index + size);
}

/** Groups saves into REPLACE statements bounded by row count and (escaped) size. */
function* replaceBatches(requests: readonly StateSetRequest[]): Generator<StateSetRequest[]> {
  let batch: StateSetRequest[] = [];
  let bytes = 0;
  for (const request of requests) {
    // Escaping can double the text; base64 grows binary values by a third.
    const size = 2 * (request.key.length + Math.ceil((request.value.length * 4) / 3)) + 64;
    if (
      batch.length > 0 &&
      (batch.length >= ROWS_PER_REPLACE || bytes + size > BYTES_PER_REPLACE)
    ) {
      yield batch;
      batch = [];
      bytes = 0;
    }
    batch.push(request);
    bytes += size;
  }
  if (batch.length > 0) yield batch;
}

/** Runs one key's operation of a bulk call, recording its failure; timeouts and aborts end the call. */
async function attempt(
  session: MySqlSession,
  failures: Failure[],
  key: string,
  work: () => Promise<void>,
): Promise<void> {
  try {
    await work();
  } catch (error) {
    if (session.destroyed) throw error;
    failures.push({ key, error });
  }
}

/**
 * Reports a bulk call's failed keys. Dapr joins the per-key errors and its API answers with an
 * ETag error when any of them is one, so an ETag failure takes precedence here too.
 */
function throwFailures(verb: string, failures: readonly Failure[]): void {
  if (failures.length === 0) return;
  const etagKeys = failures.filter((failure) => isStateETagError(failure.error)).map((f) => f.key);
  if (etagKeys.length > 0) {
    throw new StateETagError('mismatch', `possible etag mismatch for keys: ${etagKeys.join(', ')}`);
  }
  const detail = failures.map((failure) => `${failure.key}: ${errorText(failure.error)}`);
  throw new Error(`failed to ${verb} ${failures.length} key(s): ${detail.join('; ')}`);
}
