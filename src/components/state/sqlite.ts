import type BetterSqlite3 from 'better-sqlite3';
import { errorText } from '../../kernel/tapr-error.js';
import { isBusyError, retryWhileBusy } from '../common/sqlite-database.js';
import { defineComponent, type MetadataRecord } from '../contracts/component.js';
import {
  type BulkGetItem,
  isStateETagError,
  type StateDeleteRequest,
  StateETagError,
  StateFeature,
  type StateGetRequest,
  type StateGetResponse,
  type StateSetRequest,
  type TransactionalStateStore,
  type TransactionOperation,
} from '../contracts/state.js';
import { sqliteStateMetadata } from './sqlite.metadata.js';
import { ExpiredRowCleaner } from './sqlite-cleanup.js';
import { openDatabase } from './sqlite-connection.js';
import { resolveConnectionString, type SqliteTxLock } from './sqlite-dsn.js';
import {
  BULK_GET_CHUNK,
  decodeValue,
  encodeValue,
  expiryModifier,
  expiryToRfc3339,
  prepareStatements,
  type SqliteStatements,
  type SqliteStateRow,
} from './sqlite-sql.js';

/**
 * `state.sqlite`: state in an SQLite file (Tapr's embedded default store), in exactly the
 * tables Dapr's component uses, so a file written by daprd is read by taprd and back. WAL and
 * a busy timeout let several sidecars share one file; ETag and first-write checks are single
 * conditional statements, so concurrent writers cannot both win.
 */
export const sqliteStateStore = defineComponent({
  kind: 'state',
  type: 'state.sqlite',
  version: 'v1',
  // Dapr also declares KEYS_LIKE; Tapr's state contract has no keys-like operation yet.
  features: [StateFeature.ETAG, StateFeature.TRANSACTIONAL, StateFeature.TTL],
  metadataSchema: sqliteStateMetadata,
  async create(options, context) {
    const target = resolveConnectionString(
      options.connectionString,
      options.disableWAL,
      context.logger,
    );
    const { default: Database } = await import('better-sqlite3');
    const db = await openDatabase(Database, {
      target,
      busyTimeoutMs: options.busyTimeout,
      timeoutMs: options.timeout,
      tableName: options.tableName,
      metadataTableName: options.metadataTableName,
      logger: context.logger,
      signal: context.signal,
    });
    const statements = prepareStatements(db, options.tableName, options.metadataTableName);
    const cleaner =
      options.cleanupInterval > 0
        ? new ExpiredRowCleaner(
            statements,
            options.cleanupInterval,
            options.busyTimeout,
            context.logger,
          )
        : undefined;
    cleaner?.start();
    return new SqliteStateStore(db, statements, target.txlock, options.busyTimeout, cleaner);
  },
});

/** A bulk write's failed keys, reported after the others were applied (Dapr's partial success). */
interface KeyFailure {
  readonly key: string;
  readonly error: unknown;
}

class SqliteStateStore implements TransactionalStateStore {
  readonly #db: BetterSqlite3.Database;
  readonly #statements: SqliteStatements;
  readonly #txlock: SqliteTxLock;
  readonly #busyTimeoutMs: number;
  readonly #cleaner: ExpiredRowCleaner | undefined;
  readonly #transaction: BetterSqlite3.Transaction<(work: () => void) => void>;
  readonly #decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
  #closed = false;

  constructor(
    db: BetterSqlite3.Database,
    statements: SqliteStatements,
    txlock: SqliteTxLock,
    busyTimeoutMs: number,
    cleaner: ExpiredRowCleaner | undefined,
  ) {
    this.#db = db;
    this.#statements = statements;
    this.#txlock = txlock;
    this.#busyTimeoutMs = busyTimeoutMs;
    this.#cleaner = cleaner;
    this.#transaction = db.transaction((work: () => void) => work());
  }

  async get(request: StateGetRequest, signal: AbortSignal): Promise<StateGetResponse | undefined> {
    const row = await this.#run(signal, () => this.#statements.get.get(requireKey(request.key)));
    return row === undefined ? undefined : toResponse(row);
  }

  async bulkGet(requests: readonly StateGetRequest[], signal: AbortSignal): Promise<BulkGetItem[]> {
    if (requests.length === 0) return [];
    const keys = [...new Set(requests.map((request) => requireKey(request.key)))];
    // One read transaction: every chunk sees the same snapshot.
    const rows = await this.#run(signal, () =>
      this.#inTransaction('deferred', () => {
        const found = new Map<string, SqliteStateRow>();
        for (let start = 0; start < keys.length; start += BULK_GET_CHUNK) {
          const chunk = keys.slice(start, start + BULK_GET_CHUNK);
          for (const row of this.#statements.bulkGet(chunk.length).all(...chunk)) {
            found.set(row.key, row);
          }
        }
        return found;
      }),
    );
    return requests.map(({ key }): BulkGetItem => {
      const row = rows.get(key);
      if (row === undefined) return { key };
      try {
        return { key, response: toResponse(row) };
      } catch (error) {
        return { key, error: errorText(error) };
      }
    });
  }

  async set(request: StateSetRequest, signal: AbortSignal): Promise<void> {
    await this.#run(signal, () => this.#set(request));
  }

  async delete(request: StateDeleteRequest, signal: AbortSignal): Promise<void> {
    await this.#run(signal, () => this.#delete(request));
  }

  async bulkSet(requests: readonly StateSetRequest[], signal: AbortSignal): Promise<void> {
    const failures = await this.#run(signal, () =>
      this.#eachInTransaction(requests, (request) => this.#set(request)),
    );
    throwFailures('save', failures, requests.length);
  }

  async bulkDelete(requests: readonly StateDeleteRequest[], signal: AbortSignal): Promise<void> {
    const failures = await this.#run(signal, () =>
      this.#eachInTransaction(requests, (request) => this.#delete(request)),
    );
    throwFailures('delete', failures, requests.length);
  }

  async multi(
    operations: readonly TransactionOperation[],
    _metadata: MetadataRecord,
    signal: AbortSignal,
  ): Promise<void> {
    if (operations.length === 0) return;
    // Any throw (an ETag mismatch included) rolls the whole transaction back.
    await this.#run(signal, () =>
      this.#inTransaction(this.#txlock, () => {
        for (const operation of operations) {
          if (operation.operation === 'upsert') this.#set(operation.request);
          else this.#delete(operation.request);
        }
      }),
    );
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#cleaner?.stop();
    this.#db.close();
  }

  /** Runs one unit of work, retrying while another connection holds the lock. */
  #run<T>(signal: AbortSignal, work: () => T): Promise<T> {
    return retryWhileBusy(
      () => {
        if (this.#closed) throw new Error('the sqlite state store is closed');
        return work();
      },
      this.#busyTimeoutMs,
      signal,
    );
  }

  #inTransaction<T>(lock: SqliteTxLock, work: () => T): T {
    let result: { value: T } | undefined;
    this.#transaction[lock](() => {
      result = { value: work() };
    });
    if (result === undefined) throw new Error('sqlite transaction did not run');
    return result.value;
  }

  /**
   * Applies each write in one transaction (one lock and one sync instead of one per key) while
   * keeping Dapr's bulk semantics: a key that fails does not undo the others. A failed
   * conditional statement changed nothing, so committing the rest is safe; a busy error
   * aborts the whole transaction so the retry starts clean.
   */
  #eachInTransaction<R extends { readonly key: string }>(
    requests: readonly R[],
    write: (request: R) => void,
  ): KeyFailure[] {
    if (requests.length === 0) return [];
    return this.#inTransaction(this.#txlock, () => {
      const failures: KeyFailure[] = [];
      for (const request of requests) {
        try {
          write(request);
        } catch (error) {
          if (isBusyError(error)) throw error;
          failures.push({ key: request.key, error });
        }
      }
      return failures;
    });
  }

  #set(request: StateSetRequest): void {
    const key = requireKey(request.key);
    const { text, isBinary } = encodeValue(request.value, request.isJson, (bytes) =>
      this.#decoder.decode(bytes),
    );
    const etag = crypto.randomUUID();
    const expiry = expiryModifier(request.ttlSeconds);
    const statements = this.#statements;
    // Dapr treats an empty ETag as none.
    if (request.etag !== undefined && request.etag !== '') {
      const result = statements.updateIfETag.run(text, etag, isBinary, expiry, key, request.etag);
      if (result.changes === 0) throw new StateETagError('mismatch');
    } else if (request.concurrency === 'first-write') {
      const result = statements.insertIfAbsent.run(key, text, isBinary, etag, expiry, key);
      if (result.changes === 0) throw new StateETagError('mismatch');
    } else {
      statements.upsert.run(key, text, isBinary, etag, expiry);
    }
  }

  #delete(request: StateDeleteRequest): void {
    const key = requireKey(request.key);
    if (request.etag === undefined || request.etag === '') {
      this.#statements.delete.run(key);
      return;
    }
    if (this.#statements.deleteIfETag.run(key, request.etag).changes === 0) {
      throw new StateETagError('mismatch');
    }
  }
}

function requireKey(key: string): string {
  if (key === '') throw new Error('missing key in state operation');
  return key;
}

function toResponse(row: SqliteStateRow): StateGetResponse {
  const expires = expiryToRfc3339(row.expiration_time);
  return {
    data: decodeValue(row),
    etag: row.etag,
    ...(expires === undefined ? {} : { metadata: { ttlExpireTime: expires } }),
  };
}

/**
 * Reports a bulk write's failures: an ETag failure wins, as Go's `errors.As` finds it first
 * among Dapr's joined errors, so the API still answers with its ETag status.
 */
function throwFailures(action: string, failures: readonly KeyFailure[], total: number): void {
  if (failures.length === 0) return;
  const keys = failures.map((failure) => failure.key).join(', ');
  const etag = failures.find((failure) => isStateETagError(failure.error));
  if (etag !== undefined && isStateETagError(etag.error)) {
    throw new StateETagError(etag.error.kind, `${etag.error.message} (keys: ${keys})`);
  }
  const detail = failures.map((failure) => `${failure.key}: ${errorText(failure.error)}`);
  throw new Error(`failed to ${action} ${failures.length} of ${total} keys: ${detail.join('; ')}`);
}
