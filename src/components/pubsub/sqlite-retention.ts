import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import type BetterSqlite3 from 'better-sqlite3';
import type { Logger } from '../../kernel/logger.js';
import { errorText } from '../../kernel/tapr-error.js';
import { retryWhileBusy } from '../common/sqlite-database.js';
import { CLEANUP_KEY, type PubSubTables } from './sqlite-schema.js';

/** Rows deleted per statement, so no single statement holds the write lock for long. */
const BATCH = 1000;

/** Retention limits, in milliseconds and messages. */
export interface RetentionSettings {
  readonly retentionPeriodMs: number;
  /** Per topic; 0 means no count limit. */
  readonly maxMessages: number;
  /** How often a pass runs; 0 or less disables the periodic cleanup. */
  readonly intervalMs: number;
  readonly busyTimeoutMs: number;
}

/** What one pass removed. */
export interface RetentionResult {
  readonly messages: number;
  readonly leases: number;
  readonly groups: number;
}

type Stmt<P extends unknown[], R = unknown> = BetterSqlite3.Statement<P, R>;

/**
 * Deletes what retention allows, periodically: messages older than `retentionPeriod` or past
 * their TTL (acknowledged or not), then per topic the messages beyond the newest
 * `maxMessages` that every known group has acknowledged, then claims whose message is gone,
 * then groups nobody has seen for a retention period. Each pass first claims the interval in
 * the shared metadata table, so of several processes on one file only one cleans per interval.
 */
export class RetentionCleaner {
  readonly #settings: RetentionSettings;
  readonly #logger: Logger;
  readonly #claim: Stmt<[{ key: string; now: string; interval: number }]>;
  readonly #deleteAged: Stmt<[number, number]>;
  readonly #deleteExpired: Stmt<[number, number]>;
  readonly #topics: Stmt<[], { topic: string }>;
  readonly #nthNewest: Stmt<[string, number], { seq: number }>;
  readonly #deleteConsumed: Stmt<[{ topic: string; keepFrom: number; limit: number }]>;
  readonly #deleteOrphanLeases: Stmt<[]>;
  readonly #deleteStaleGroups: Stmt<[number]>;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;
  #stopped = false;

  constructor(
    db: BetterSqlite3.Database,
    tables: PubSubTables,
    settings: RetentionSettings,
    logger: Logger,
  ) {
    const { messages, groups, leases, metadata } = tables;
    this.#settings = settings;
    this.#logger = logger;
    // Claims the pass unless another process started one within the interval (less a little,
    // so timers firing slightly early still count).
    this.#claim = db.prepare(
      `INSERT INTO ${metadata} (key, value) VALUES (@key, @now)
       ON CONFLICT (key) DO UPDATE SET value = excluded.value
       WHERE CAST(value AS INTEGER) <= CAST(excluded.value AS INTEGER) - @interval`,
    );
    this.#deleteAged = db.prepare(
      `DELETE FROM ${messages} WHERE seq IN
         (SELECT seq FROM ${messages} WHERE published_at < ? LIMIT ?)`,
    );
    this.#deleteExpired = db.prepare(
      `DELETE FROM ${messages} WHERE seq IN
         (SELECT seq FROM ${messages} WHERE expires_at <= ? LIMIT ?)`,
    );
    // Distinct topics by skipping through the (topic, seq) index, not scanning every row.
    this.#topics = db.prepare(
      `WITH RECURSIVE t(topic) AS (
         SELECT MIN(topic) FROM ${messages}
         UNION ALL
         SELECT (SELECT MIN(topic) FROM ${messages} WHERE topic > t.topic) FROM t
         WHERE t.topic IS NOT NULL)
       SELECT topic FROM t WHERE topic IS NOT NULL`,
    );
    this.#nthNewest = db.prepare(
      `SELECT seq FROM ${messages} WHERE topic = ? ORDER BY seq DESC LIMIT 1 OFFSET ?`,
    );
    // Acknowledged by every group of the topic: behind each cursor and claimed by none.
    this.#deleteConsumed = db.prepare(
      `DELETE FROM ${messages} WHERE seq IN (
         SELECT m.seq FROM ${messages} m
         WHERE m.topic = @topic AND m.seq < @keepFrom
           AND m.seq <= IFNULL((SELECT MIN(cursor) FROM ${groups} WHERE topic = @topic), m.seq)
           AND NOT EXISTS (SELECT 1 FROM ${leases} l WHERE l.topic = @topic AND l.seq = m.seq)
         ORDER BY m.seq LIMIT @limit)`,
    );
    this.#deleteOrphanLeases = db.prepare(
      `DELETE FROM ${leases}
       WHERE NOT EXISTS (SELECT 1 FROM ${messages} m WHERE m.seq = ${leases}.seq)`,
    );
    this.#deleteStaleGroups = db.prepare(
      `DELETE FROM ${groups} WHERE last_seen < ?
       AND NOT EXISTS (SELECT 1 FROM ${leases} l
         WHERE l.topic = ${groups}.topic AND l.consumer_group = ${groups}.consumer_group)`,
    );
  }

  /** Starts the periodic cleanup; the timer never keeps the process alive. */
  start(): void {
    const { intervalMs } = this.#settings;
    if (intervalMs <= 0) return;
    this.#timer = setInterval(() => {
      // A pass still running when the next tick comes is not doubled.
      this.#running ??= this.runOnce()
        .then(
          (removed) => {
            if (removed.messages > 0) this.#logger.debug('pub/sub retention pass', { ...removed });
          },
          (error: unknown) => {
            this.#logger.warn('pub/sub retention pass failed', { error: errorText(error) });
          },
        )
        .finally(() => {
          this.#running = undefined;
        });
    }, intervalMs);
    this.#timer.unref();
  }

  /**
   * One pass, unless another process ran one within the interval (`force` skips that check,
   * for tests and tools). Returns what was removed.
   */
  async runOnce(force = false): Promise<RetentionResult> {
    const { retentionPeriodMs, maxMessages, intervalMs, busyTimeoutMs } = this.#settings;
    const now = Date.now();
    const claimed = await this.#write(
      () =>
        this.#claim.run({
          key: CLEANUP_KEY,
          now: String(now),
          interval: force ? -1 : intervalMs - 100,
        }).changes > 0,
    );
    if (!claimed && !force) return { messages: 0, leases: 0, groups: 0 };
    const cutoff = now - retentionPeriodMs;
    let messages = await this.#batches(() => this.#deleteAged.run(cutoff, BATCH).changes);
    messages += await this.#batches(() => this.#deleteExpired.run(now, BATCH).changes);
    if (maxMessages > 0) {
      const topics = await retryWhileBusy(() => this.#topics.all(), busyTimeoutMs);
      for (const { topic } of topics) {
        if (this.#stopped) break;
        const keepFrom = this.#nthNewest.get(topic, maxMessages - 1)?.seq;
        if (keepFrom === undefined) continue;
        messages += await this.#batches(
          () => this.#deleteConsumed.run({ topic, keepFrom, limit: BATCH }).changes,
        );
      }
    }
    const leases = await this.#write(() => this.#deleteOrphanLeases.run().changes);
    const groups = await this.#write(() => this.#deleteStaleGroups.run(cutoff).changes);
    return { messages, leases, groups };
  }

  /** Stops the timer and waits for a pass in progress, so the database can close after. */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearInterval(this.#timer);
    await this.#running;
  }

  /** Repeats a batched delete until a batch comes back short, yielding in between. */
  async #batches(work: () => number): Promise<number> {
    let total = 0;
    while (!this.#stopped) {
      const removed = await this.#write(work);
      total += removed;
      if (removed < BATCH) break;
      await yieldToEventLoop();
    }
    return total;
  }

  #write<T>(work: () => T): Promise<T> {
    return retryWhileBusy(work, this.#settings.busyTimeoutMs);
  }
}
