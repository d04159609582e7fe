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
import { DATA_FIELD, METADATA_FIELD, metadataJson, payloadOf } from './redis-stream-entry.js';
import { ensureGroup, RedisStreamSubscription } from './redis-subscription.js';
import { RedisTurnWriter } from './redis-turn-writer.js';
import { WorkerSlots } from './redis-worker-slots.js';

/** How long one XREADGROUP blocks when `readTimeout` does not say (Dapr blocks forever). */
const DEFAULT_BLOCK_MS = 5000;

/**
 * `pubsub.redis`: Dapr's Redis Streams pub/sub. A topic is a stream, a consumer group is a
 * stream group (created at the stream's start), each subscription is a consumer of its own;
 * entries keep Dapr's `data`/`metadata` layout so Dapr and Tapr sidecars share streams.
 * Bulk publish sends every XADD in one socket write.
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
  /** `maxLenApprox` as the text ioredis would make of it for every XADD. */
  readonly #maxLenText: string;
  #closed = false;

  constructor(client: Redis, options: RedisPubSubOptions, group: string, logger: Logger) {
    this.#client = client;
    this.#options = options;
    this.#group = group;
    this.#logger = logger;
    this.#slots = new WorkerSlots(options.concurrency);
    this.#writer = new RedisTurnWriter(client);
    this.#maxLenText = String(options.maxLenApprox);
  }

  async publish(request: PublishRequest, signal: AbortSignal): Promise<void> {
    this.#checkOpen();
    signal.throwIfAborted();
    // The commands of one event-loop turn leave in one socket write.
    this.#writer.hold();
    try {
      await this.#xadd(request.topic, payloadOf(request), request.metadata);
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
    // Every XADD leaves in this turn's one socket write (with XACKs waiting for one). An ioredis
    // pipeline, which first joins the batch into one string or buffer, cost more (bench/pubsub).
    this.#writer.hold();
    const replies: Promise<unknown>[] = new Array(entries.length);
    for (let index = 0; index < entries.length; index += 1) {
      const entry = entries[index] as BulkPublishEntry;
      // Dapr's default bulk publisher sends each entry with its own metadata only.
      replies[index] = this.#xadd(topic, payloadOf(entry), entry.metadata);
    }
    const results = await Promise.allSettled(replies);
    const failures: BulkPublishFailure[] = [];
    for (let index = 0; index < results.length; index += 1) {
      const result = results[index] as PromiseSettledResult<unknown>;
      if (result.status === 'rejected') {
        const { entryId } = entries[index] as BulkPublishEntry;
        failures.push({ entryId, error: errorText(result.reason) });
      }
    }
    return failures;
  }

  /**
   * XADD with Dapr's trimming (`MAXLEN ~` else `MINID ~`) and entry layout. The reply (the new
   * entry's id) is not read, so it is left as bytes rather than decoded.
   */
  #xadd(topic: string, payload: string | Buffer, metadata: MetadataRecord): Promise<unknown> {
    const { maxLenApprox, streamTTL } = this.#options;
    const client = this.#client;
    const meta = metadataJson(metadata);
    if (maxLenApprox > 0) {
      return client.callBuffer(
        'XADD',
        topic,
        'MAXLEN',
        '~',
        this.#maxLenText,
        '*',
        DATA_FIELD,
        payload,
        METADATA_FIELD,
        meta,
      );
    }
    if (streamTTL > 0) {
      const minId = `${Date.now() - streamTTL}-1`;
      return client.callBuffer(
        'XADD',
        topic,
        'MINID',
        '~',
        minId,
        '*',
        DATA_FIELD,
        payload,
        METADATA_FIELD,
        meta,
      );
    }
    return client.callBuffer('XADD', topic, '*', DATA_FIELD, payload, METADATA_FIELD, meta);
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
