import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Logger } from '../../kernel/logger.js';
import { errorText } from '../../kernel/tapr-error.js';
import { closeRedisClient, openRedisClient } from '../common/redis-client.js';
import { blockingOptions } from '../common/redis-connection.js';
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
import { type RedisPubSubOptions, redisPubSubMetadata } from './redis.metadata.js';
import { entryFields } from './redis-stream-entry.js';
import { ensureGroup, RedisStreamSubscription } from './redis-subscription.js';
import { RedisTurnWriter } from './redis-turn-writer.js';
import { WorkerSlots } from './redis-worker-slots.js';

/** How long one XREADGROUP blocks when `readTimeout` does not say (Dapr blocks forever). */
const DEFAULT_BLOCK_MS = 5000;

/**
 * `pubsub.redis`: Dapr's Redis Streams pub/sub. A topic is a stream, a consumer group is a
 * stream group (created at the stream's start), each subscription is a consumer of its own;
 * entries keep Dapr's `data`/`metadata` layout so Dapr and Tapr sidecars share streams.
 * Bulk publish sends every XADD in one pipeline.
 */
export const redisPubSub = defineComponent({
  kind: 'pubsub',
  type: 'pubsub.redis',
  version: 'v1',
  // Dapr declares none; BULK_PUBSUB is Tapr's pipelined bulk publish. No MESSAGE_TTL: streamTTL
  // trims the stream, it does not expire single messages, so the runtime drops expired ones.
  features: [PubSubFeature.BULK_PUBLISH],
  metadataSchema: redisPubSubMetadata,
  async create(options, context) {
    const { client } = await openRedisClient(options, {
      label: 'redis streams',
      logger: context.logger,
      signal: context.signal,
      probe: (connected) => connected.ping(),
    });
    if (options.maxLenApprox > 0 && options.streamTTL > 0) {
      context.logger.warn(
        'redis streams: maxLenApprox and streamTTL cannot be used together; only maxLenApprox trims the streams',
      );
    }
    const group = consumerGroupOf({ consumerID: options.consumerID }, context.appId);
    return new RedisPubSub(client, options, group, context.logger);
  },
});

/**
 * The component instance. ioredis cannot cancel a sent command, so publishing checks its signal
 * before sending and `readTimeout` bounds a command in flight.
 */
class RedisPubSub implements BulkPublisher {
  readonly #client: Redis;
  readonly #options: RedisPubSubOptions;
  readonly #group: string;
  readonly #logger: Logger;
  readonly #slots: WorkerSlots;
  readonly #writer: RedisTurnWriter;
  readonly #subscriptions = new Set<RedisStreamSubscription>();
  #closed = false;

  constructor(client: Redis, options: RedisPubSubOptions, group: string, logger: Logger) {
    this.#client = client;
    this.#options = options;
    this.#group = group;
    this.#logger = logger;
    this.#slots = new WorkerSlots(options.concurrency);
    this.#writer = new RedisTurnWriter(client);
  }

  async publish(request: PublishRequest, signal: AbortSignal): Promise<void> {
    this.#checkOpen();
    signal.throwIfAborted();
    // The commands of one event-loop turn leave in one socket write.
    this.#writer.hold();
    try {
      await this.#client.call(
        'XADD',
        ...this.#xaddArgs(request.topic, request.data, request.metadata),
      );
    } catch (error) {
      throw new Error(`redis streams: error from publish: ${errorText(error)}`, { cause: error });
    }
  }

  async bulkPublish(
    topic: string,
    entries: readonly BulkPublishEntry[],
    _metadata: MetadataRecord,
    signal: AbortSignal,
  ): Promise<BulkPublishFailure[]> {
    this.#checkOpen();
    signal.throwIfAborted();
    if (entries.length === 0) return [];
    const pipeline = this.#client.pipeline();
    for (const entry of entries) {
      // Dapr's default bulk publisher sends each entry with its own metadata only.
      pipeline.call('XADD', ...this.#xaddArgs(topic, entry.data, entry.metadata));
    }
    let results: [Error | null, unknown][] | null;
    try {
      results = await pipeline.exec();
    } catch (error) {
      return entries.map((entry) => ({ entryId: entry.entryId, error: errorText(error) }));
    }
    const failures: BulkPublishFailure[] = [];
    entries.forEach((entry, index) => {
      const error = results?.[index]?.[0] ?? (results ? null : new Error('pipeline aborted'));
      if (error) failures.push({ entryId: entry.entryId, error: errorText(error) });
    });
    return failures;
  }

  /** XADD arguments: the stream, Dapr's trimming (`MAXLEN ~` else `MINID ~`), the entry. */
  #xaddArgs(
    topic: string,
    data: Uint8Array,
    metadata: MetadataRecord,
  ): (string | Buffer | number)[] {
    const { maxLenApprox, streamTTL } = this.#options;
    const trim =
      maxLenApprox > 0
        ? ['MAXLEN', '~', maxLenApprox]
        : streamTTL > 0
          ? ['MINID', '~', `${Date.now() - streamTTL}-1`]
          : [];
    return [topic, ...trim, '*', ...entryFields(data, metadata)];
  }

  async subscribe(
    request: SubscribeRequest,
    handler: PubSubHandler,
    signal: AbortSignal,
  ): Promise<PubSubSubscription> {
    this.#checkOpen();
    signal.throwIfAborted();
    const { topic } = request;
    await ensureGroup(this.#client, topic, this.#group);
    // Dapr names the consumer after the group; a name per subscription lets each instance hold
    // its own pending entries, which its close releases. Created now, so it shows at once.
    const consumer = `${this.#group}-${randomUUID()}`;
    await this.#client.call('XGROUP', 'CREATECONSUMER', topic, this.#group, consumer);
    const limit = handlerLimit(this.#options.concurrency, request);
    const blockMs = this.#options.readTimeout > 0 ? this.#options.readTimeout : DEFAULT_BLOCK_MS;
    const blocking = this.#client.duplicate(blockingOptions(this.#options, blockMs));
    blocking.on('error', () => {
      // The read loop logs each failed read and retries; the event itself needs no handling.
    });
    try {
      await blocking.connect();
      signal.throwIfAborted();
      this.#checkOpen();
    } catch (error) {
      blocking.disconnect();
      await this.#client
        .call('XGROUP', 'DELCONSUMER', topic, this.#group, consumer)
        .catch(() => {});
      throw error;
    }
    const subscription: RedisStreamSubscription = new RedisStreamSubscription(
      {
        topic,
        group: this.#group,
        consumer,
        queueDepth: this.#options.queueDepth,
        blockMs,
        processingTimeout: this.#options.processingTimeout,
        redeliverInterval: this.#options.redeliverInterval,
      },
      {
        client: this.#client,
        writer: this.#writer,
        blocking,
        // The component's workers are shared, as Dapr's; a bulk subscription needing more
        // gets its own, so its batches can fill.
        slots: limit > this.#options.concurrency ? new WorkerSlots(limit) : this.#slots,
        logger: this.#logger,
        onClosed: () => this.#subscriptions.delete(subscription),
      },
      handler,
    );
    this.#subscriptions.add(subscription);
    subscription.start();
    return subscription;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await Promise.allSettled([...this.#subscriptions].map((subscription) => subscription.close()));
    await closeRedisClient(this.#client);
  }

  #checkOpen(): void {
    if (this.#closed) throw new Error('redis streams: component is closed');
  }
}
