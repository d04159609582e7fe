import { retryWhileBusy } from '../common/sqlite-database.js';
import type { PublishDurability } from './sqlite-durability.js';
import type { AppendRow, SqliteLog } from './sqlite-log.js';

/** One caller's rows waiting for the next commit. */
interface Waiting {
  readonly rows: readonly AppendRow[];
  readonly resolve: () => void;
  readonly reject: (error: unknown) => void;
  readonly signal: AbortSignal;
}

/**
 * Group commit for publishes: the rows of every publish that arrives within one event-loop turn
 * (or while the previous commit is being written) go into one transaction, so concurrent
 * publishers share one write lock and one fsync instead of paying for each. Every caller
 * resolves only once the commit holding its rows is on disk, and fails with it. The next
 * commit does not wait for the previous one's sync, so the write lock is held only while rows
 * are inserted.
 */
export class AppendBatcher {
  readonly #log: SqliteLog;
  readonly #durability: PublishDurability;
  readonly #busyTimeoutMs: number;
  readonly #committed: (topics: ReadonlySet<string>) => void;
  #queue: Waiting[] = [];
  #scheduled = false;
  /** The commit being written, if any; at most one at a time keeps publish order. */
  #current: Promise<void> | undefined;
  /** Committed batches waiting for their sync. */
  readonly #syncing = new Set<Promise<void>>();

  constructor(
    log: SqliteLog,
    durability: PublishDurability,
    busyTimeoutMs: number,
    committed: (topics: ReadonlySet<string>) => void,
  ) {
    this.#log = log;
    this.#durability = durability;
    this.#busyTimeoutMs = busyTimeoutMs;
    this.#committed = committed;
  }

  /**
   * Resolves once `rows` are committed. A signal aborted before the commit starts withdraws
   * them; the wait is one event-loop turn or one commit, so no abort listener is kept (callers
   * often share one signal across many publishes).
   */
  append(rows: readonly AppendRow[], signal: AbortSignal): Promise<void> {
    signal.throwIfAborted();
    return new Promise((resolve, reject) => {
      this.#queue.push({ rows, resolve, reject, signal });
      this.#schedule();
    });
  }

  /** Resolves once every queued row has been committed and synced, or has failed. */
  async drain(): Promise<void> {
    while (this.#queue.length > 0 || this.#current !== undefined) {
      await (this.#current ?? this.#start());
    }
    await Promise.all(this.#syncing);
  }

  #schedule(): void {
    if (this.#scheduled || this.#current !== undefined) return;
    this.#scheduled = true;
    setImmediate(() => {
      this.#scheduled = false;
      if (this.#current === undefined && this.#queue.length > 0) void this.#start();
    });
  }

  #start(): Promise<void> {
    const run = this.#commit().finally(() => {
      this.#current = undefined;
      // Rows queued while this commit was written go into the next one.
      if (this.#queue.length > 0) this.#schedule();
    });
    this.#current = run;
    return run;
  }

  async #commit(): Promise<void> {
    const batch: Waiting[] = [];
    for (const waiting of this.#queue.splice(0)) {
      if (waiting.signal.aborted) waiting.reject(waiting.signal.reason);
      else batch.push(waiting);
    }
    if (batch.length === 0) return;
    const rows = batch.flatMap((waiting) => waiting.rows);
    try {
      await retryWhileBusy(() => this.#log.append(rows, Date.now()), this.#busyTimeoutMs);
    } catch (error) {
      for (const waiting of batch) waiting.reject(error);
      return;
    }
    // Subscribers may see the rows before the sync: a power cut then loses the delivery with
    // the message, and no publisher was told it was accepted.
    this.#committed(new Set(rows.map((row) => row.topic)));
    const synced = this.#durability.flush().then(
      () => {
        for (const waiting of batch) waiting.resolve();
      },
      (error: unknown) => {
        for (const waiting of batch) waiting.reject(error);
      },
    );
    this.#syncing.add(synced);
    void synced.finally(() => this.#syncing.delete(synced));
  }
}
