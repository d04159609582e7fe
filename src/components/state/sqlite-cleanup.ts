import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import type { Logger } from '../../kernel/logger.js';
import { errorText } from '../../kernel/tapr-error.js';
import { retryWhileBusy } from '../common/sqlite-database.js';
import { CLEANUP_BATCH, type SqliteStatements } from './sqlite-sql.js';

/**
 * Deletes expired rows every `intervalMs`, as Dapr's garbage collector does: each pass first
 * claims the shared `last-cleanup` row, so of several processes on one file (Dapr's or Tapr's)
 * only one cleans per interval. Rows go in batches with a yield between, keeping each
 * synchronous statement short. The timer is unref'd: it never keeps the process alive.
 */
export class ExpiredRowCleaner {
  readonly #statements: SqliteStatements;
  readonly #intervalMs: number;
  readonly #busyTimeoutMs: number;
  readonly #logger: Logger;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;
  #stopped = false;

  constructor(
    statements: SqliteStatements,
    intervalMs: number,
    busyTimeoutMs: number,
    logger: Logger,
  ) {
    this.#statements = statements;
    this.#intervalMs = intervalMs;
    this.#busyTimeoutMs = busyTimeoutMs;
    this.#logger = logger;
  }

  /** Starts the periodic cleanup. */
  start(): void {
    this.#logger.info('scheduling cleanup of expired state', { intervalMs: this.#intervalMs });
    this.#timer = setInterval(() => {
      // A pass still deleting when the next tick comes is not doubled.
      this.#running ??= this.cleanupExpired()
        .then(
          (removed) => {
            if (removed > 0) this.#logger.info('removed expired state rows', { removed });
          },
          (error: unknown) => {
            this.#logger.error('failed to remove expired state', { error: errorText(error) });
          },
        )
        .finally(() => {
          this.#running = undefined;
        });
    }, this.#intervalMs);
    this.#timer.unref();
  }

  /** One pass: claims the interval, then deletes expired rows; returns how many went. */
  async cleanupExpired(): Promise<number> {
    // Dapr's claim takes the interval less 100ms, so ticks a little early still count.
    const claimed = await retryWhileBusy(
      () => this.#statements.claimCleanup.run(this.#intervalMs - 100).changes > 0,
      this.#busyTimeoutMs,
    );
    if (!claimed) return 0;
    let removed = 0;
    while (!this.#stopped) {
      const batch = await retryWhileBusy(
        () => this.#statements.deleteExpired.run(CLEANUP_BATCH).changes,
        this.#busyTimeoutMs,
      );
      removed += batch;
      if (batch < CLEANUP_BATCH) break;
      await yieldToEventLoop();
    }
    return removed;
  }

  /** Stops the timer and waits for a pass in progress, so the database can close after. */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearInterval(this.#timer);
    await this.#running;
  }
}
