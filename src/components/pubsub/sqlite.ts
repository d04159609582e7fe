import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import type BetterSqlite3 from 'better-sqlite3';
import type { Logger } from '../../kernel/logger.js';
import { errorText } from '../../kernel/tapr-error.js';
import { retryWhileBusy } from '../common/sqlite-database.js';
import { defineComponent, type MetadataRecord } from '../contracts/component.js';
import {
  type BulkPublishEntry,
  type BulkPublisher,
  type BulkPublishFailure,
  consumerGroupOf,
  handlerLimit,
  type PublishRequest,
  PubSubFeature,
  type PubSubHandler,
  type PubSubSubscription,
  type SubscribeRequest,
} from '../contracts/pubsub.js';
import { type SqlitePubSubOptions, sqlitePubSubMetadata } from './sqlite.metadata.js';
import { AppendBatcher } from './sqlite-append-batcher.js';
import { openPubSubDatabase } from './sqlite-database.js';
import { type PublishDurability, publishDurability } from './sqlite-durability.js';
import { type AppendRow, SqliteLog } from './sqlite-log.js';
import { RetentionCleaner } from './sqlite-retention.js';
import { pubSubTables } from './sqlite-schema.js';
import { SqliteSubscription } from './sqlite-subscription.js';
import { resolvePubSubTarget } from './sqlite-target.js';

/**
 * `pubsub.sqlite`: Tapr's embedded default pub/sub (Dapr has none), durable across processes
 * on one machine with no server. One append-only message table in WAL mode; per topic and
 * consumer group a cursor plus claims with a visibility deadline, so groups each get every
 * message, a group's subscribers share them, a rejected message comes back after
 * `redeliverInterval` and a dead subscriber's claims after `visibilityTimeout`. Other
 * processes notice new messages by adaptive polling; subscribers in the publishing instance
 * are woken at once. See docs/pubsub-sqlite.md.
 */
export const sqlitePubSub = defineComponent({
  kind: 'pubsub',
  type: 'pubsub.sqlite',
  version: 'v1',
  features: [PubSubFeature.MESSAGE_TTL, PubSubFeature.BULK_PUBLISH],
  metadataSchema: sqlitePubSubMetadata,
  async create(options, context) {
    const target = resolvePubSubTarget(options.connectionString);
    if (target.inMemory) {
      context.logger.warn(
        'pub/sub uses an in-memory SQLite database: only this component instance sees its messages',
      );
    } else if (!target.fileMustExist) {
      // Tapr's default file lives in ~/.tapr, which need not exist before the first run.
      await mkdir(dirname(target.filename), { recursive: true });
    }
    const { default: Database } = await import('better-sqlite3');
    const tables = pubSubTables(options.tablePrefix);
    const db = await openPubSubDatabase(Database, {
      target,
      tables,
      disableWAL: options.disableWAL,
      timeoutMs: options.timeout,
      logger: context.logger,
      signal: context.signal,
    });
    try {
      const userSync = target.pragmas.some((pragma) => /^synchronous\b/i.test(pragma));
      const walMode = String(db.pragma('journal_mode', { simple: true })).toLowerCase() === 'wal';
      const durability = await publishDurability(
        db,
        walMode && !userSync && !target.inMemory ? `${target.filename}-wal` : undefined,
      );
      const cleaner = new RetentionCleaner(
        db,
        tables,
        {
          retentionPeriodMs: options.retentionPeriod,
          maxMessages: options.maxMessages,
          intervalMs: options.cleanupInterval,
          busyTimeoutMs: options.busyTimeout,
        },
        context.logger,
      );
      const pubsub = new SqlitePubSub({
        db,
        log: new SqliteLog(db, tables),
        durability,
        cleaner,
        options,
        group: consumerGroupOf({ consumerID: options.consumerID }, context.appId),
        logger: context.logger,
      });
      cleaner.start();
      return pubsub;
    } catch (error) {
      db.close();
      throw error;
    }
  },
});

/** What an open pub/sub is made of. */
interface SqlitePubSubParts {
  readonly db: BetterSqlite3.Database;
  readonly log: SqliteLog;
  readonly durability: PublishDurability;
  readonly cleaner: RetentionCleaner;
  readonly options: SqlitePubSubOptions;
  /** The consumer group every subscription of this instance joins. */
  readonly group: string;
  readonly logger: Logger;
}

class SqlitePubSub implements BulkPublisher {
  readonly #db: BetterSqlite3.Database;
  readonly #log: SqliteLog;
  readonly #durability: PublishDurability;
  readonly #cleaner: RetentionCleaner;
  readonly #options: SqlitePubSubOptions;
  readonly #group: string;
  readonly #logger: Logger;
  /** Live subscriptions by topic, woken when this instance publishes to their topic. */
  readonly #subscriptions = new Map<string, Set<SqliteSubscription>>();
  readonly #appender: AppendBatcher;
  #closing: Promise<void> | undefined;

  constructor(parts: SqlitePubSubParts) {
    this.#db = parts.db;
    this.#log = parts.log;
    this.#durability = parts.durability;
    this.#cleaner = parts.cleaner;
    this.#options = parts.options;
    this.#group = parts.group;
    this.#logger = parts.logger;
    const wake = (topics: ReadonlySet<string>): void => {
      for (const topic of topics) {
        for (const subscription of this.#subscriptions.get(topic) ?? []) subscription.wake();
      }
    };
    this.#appender = new AppendBatcher(
      parts.log,
      parts.durability,
      parts.options.busyTimeout,
      wake,
    );
  }

  /** The retention pass, run now whatever the interval (for tests and tools). */
  cleanupNow(): ReturnType<RetentionCleaner['runOnce']> {
    this.#assertOpen();
    return this.#cleaner.runOnce(true);
  }

  async publish(request: PublishRequest, signal: AbortSignal): Promise<void> {
    const row = toRow(request.topic, request, request.ttlSeconds);
    await this.#append([row], signal);
  }

  async bulkPublish(
    topic: string,
    entries: readonly BulkPublishEntry[],
    metadata: MetadataRecord,
    signal: AbortSignal,
  ): Promise<BulkPublishFailure[]> {
    if (entries.length === 0) return [];
    const rows: AppendRow[] = [];
    const failures: BulkPublishFailure[] = [];
    for (const entry of entries) {
      try {
        rows.push(toRow(topic, entry, ttlOf(entry.metadata) ?? ttlOf(metadata)));
      } catch (error) {
        failures.push({ entryId: entry.entryId, error: errorText(error) });
      }
    }
    if (rows.length === 0) return failures;
    try {
      // One transaction: the accepted entries are stored together or not at all.
      await this.#append(rows, signal);
    } catch (error) {
      const text = errorText(error);
      const failed = new Set(failures.map((failure) => failure.entryId));
      for (const entry of entries) {
        if (!failed.has(entry.entryId)) failures.push({ entryId: entry.entryId, error: text });
      }
    }
    return failures;
  }

  async subscribe(
    request: SubscribeRequest,
    handler: PubSubHandler,
    signal: AbortSignal,
  ): Promise<PubSubSubscription> {
    this.#assertOpen();
    const topic = requireTopic(request.topic);
    const group = this.#group;
    // Once the cursor exists, every message committed after it belongs to this group.
    await retryWhileBusy(
      () => this.#log.ensureGroup(topic, group, Date.now()),
      this.#options.busyTimeout,
      signal,
    );
    // close() may have started while the cursor was written; it would not see this subscription.
    this.#assertOpen();
    const options = this.#options;
    let forTopic = this.#subscriptions.get(topic);
    if (forTopic === undefined) {
      forTopic = new Set();
      this.#subscriptions.set(topic, forTopic);
    }
    const live = forTopic;
    const subscription: SqliteSubscription = new SqliteSubscription(
      this.#log,
      {
        topic,
        group,
        concurrency: handlerLimit(options.concurrency, request),
        pollIntervalMs: options.pollInterval,
        visibilityTimeoutMs: options.visibilityTimeout,
        renewIntervalMs: renewInterval(options),
        redeliverIntervalMs: options.redeliverInterval,
        busyTimeoutMs: options.busyTimeout,
      },
      handler,
      this.#logger.child({ topic, consumerGroup: group }),
      () => {
        live.delete(subscription);
        if (live.size === 0 && this.#subscriptions.get(topic) === live) {
          this.#subscriptions.delete(topic);
        }
      },
    );
    live.add(subscription);
    subscription.start();
    return subscription;
  }

  close(): Promise<void> {
    this.#closing ??= this.#shutdown();
    return this.#closing;
  }

  async #shutdown(): Promise<void> {
    await this.#appender.drain();
    const subscriptions = [...this.#subscriptions.values()].flatMap((set) => [...set]);
    await Promise.all(subscriptions.map((subscription) => subscription.close()));
    await this.#cleaner.stop();
    await this.#durability.close();
    this.#db.close();
  }

  #append(rows: readonly AppendRow[], signal: AbortSignal): Promise<void> {
    this.#assertOpen();
    return this.#appender.append(rows, signal);
  }

  #assertOpen(): void {
    if (this.#closing !== undefined) throw new Error('the sqlite pub/sub is closed');
  }
}

/**
 * How often a subscription renews: three times per visibility timeout, so one slow renewal
 * never lets a live claim lapse, and three times per retention period, so the cleanup never
 * forgets a group that has a live subscriber.
 */
function renewInterval(options: SqlitePubSubOptions): number {
  return Math.max(20, Math.floor(Math.min(options.visibilityTimeout, options.retentionPeriod) / 3));
}

/** A message row for a publish or bulk entry; expiry from a positive TTL in seconds. */
function toRow(
  topic: string,
  message: Pick<PublishRequest, 'data' | 'contentType' | 'metadata'>,
  ttlSeconds: number | undefined,
): AppendRow {
  return {
    topic: requireTopic(topic),
    data: message.data,
    contentType: message.contentType,
    metadata: message.metadata,
    expiresAt:
      ttlSeconds !== undefined && ttlSeconds > 0 ? Date.now() + ttlSeconds * 1000 : undefined,
  };
}

/** `ttlInSeconds` from bulk metadata (the runtime parses it only for single publishes). */
function ttlOf(metadata: MetadataRecord): number | undefined {
  const text = metadata.ttlInSeconds;
  if (text === undefined || text.trim() === '') return undefined;
  const value = Number(text);
  if (!Number.isSafeInteger(value)) {
    throw new Error(`metadata ttlInSeconds "${text}" is not a whole number of seconds`);
  }
  return value;
}

function requireTopic(topic: string): string {
  if (topic === '') throw new Error('topic is required');
  return topic;
}
