import type { Logger } from '../../kernel/logger.js';
import { defineComponent } from '../contracts/component.js';
import {
  consumerGroupOf,
  type PublishRequest,
  type PubSub,
  PubSubFeature,
  type PubSubHandler,
  type PubSubSubscription,
  type SubscribeRequest,
} from '../contracts/pubsub.js';
import { type RabbitmqOptions, rabbitmqMetadata } from './rabbitmq.metadata.js';
import { type AmqpDriver, connectTarget, RabbitConnection } from './rabbitmq-connection.js';
import { outgoingMessage } from './rabbitmq-message.js';
import { RabbitPublisher } from './rabbitmq-publisher.js';
import { RabbitSubscription } from './rabbitmq-subscription.js';
import { subscriptionTopology } from './rabbitmq-topology.js';

/**
 * `pubsub.rabbitmq`: Dapr's RabbitMQ pub/sub. Each topic is an exchange (`exchangeKind`,
 * fanout by default); each consumer group has a queue `<consumerID>-<topic>` bound to it, which
 * the group's instances consume as competing consumers. Declares `MESSAGE_TTL` only, as Dapr
 * does: there is no native bulk publish, so the runtime publishes bulk entries one by one.
 */
export const rabbitmqPubSub = defineComponent({
  kind: 'pubsub',
  type: 'pubsub.rabbitmq',
  version: 'v1',
  features: [PubSubFeature.MESSAGE_TTL],
  metadataSchema: rabbitmqMetadata,
  async create(options, context) {
    const driver: AmqpDriver = await import('amqplib');
    const connection = await RabbitConnection.open(
      driver,
      connectTarget(options, driver),
      options.reconnectWaitSeconds,
      context.logger,
      context.signal,
    );
    const consumerGroup = consumerGroupOf({ consumerID: options.consumerID }, context.appId);
    return new RabbitPubSub(connection, options, consumerGroup, context.logger);
  },
});

class RabbitPubSub implements PubSub {
  readonly #connection: RabbitConnection;
  readonly #options: RabbitmqOptions;
  readonly #consumerGroup: string;
  readonly #logger: Logger;
  readonly #publisher: RabbitPublisher;
  readonly #subscriptions = new Set<RabbitSubscription>();
  #closing: Promise<void> | undefined;

  constructor(
    connection: RabbitConnection,
    options: RabbitmqOptions,
    consumerGroup: string,
    logger: Logger,
  ) {
    this.#connection = connection;
    this.#options = options;
    this.#consumerGroup = consumerGroup;
    this.#logger = logger;
    this.#publisher = new RabbitPublisher(connection, options, logger);
  }

  async publish(request: PublishRequest, signal: AbortSignal): Promise<void> {
    this.#assertOpen();
    const message = outgoingMessage(this.#options, request.metadata, request.ttlSeconds);
    for (const warning of message.warnings) {
      this.#logger.warn(`rabbitmq pub/sub: publishing to ${request.topic}: ${warning}`);
    }
    await this.#publisher.publish(request.topic, request.data, message, signal);
  }

  async subscribe(
    request: SubscribeRequest,
    handler: PubSubHandler,
    signal: AbortSignal,
  ): Promise<PubSubSubscription> {
    this.#assertOpen();
    if (this.#consumerGroup === '' && !request.metadata.queueName) {
      throw new Error(
        "rabbitmq pub/sub: consumerID is required for subscriptions that don't specify a queue name",
      );
    }
    // As in Dapr, the group is the component's; a subscription may only name its own queue.
    const topology = subscriptionTopology(
      this.#options,
      this.#consumerGroup,
      request.topic,
      request.metadata,
    );
    this.#logger.info(
      `rabbitmq pub/sub: subscribing to topic/queue '${request.topic}/${topology.queue}'`,
    );
    const subscription = await RabbitSubscription.start(
      {
        connection: this.#connection,
        options: this.#options,
        topology,
        handler,
        logger: this.#logger,
        onClosed: (closed) => this.#subscriptions.delete(closed),
      },
      signal,
    );
    if (this.#closing) {
      await subscription.close();
      throw new Error('rabbitmq pub/sub: component is closed');
    }
    this.#subscriptions.add(subscription);
    return subscription;
  }

  /** Cancels every consumer, waits for handlers in flight, then closes channels and connection. */
  close(): Promise<void> {
    this.#closing ??= this.#shutdown();
    return this.#closing;
  }

  async #shutdown(): Promise<void> {
    await Promise.allSettled([...this.#subscriptions].map((subscription) => subscription.close()));
    await this.#publisher.close();
    await this.#connection.close();
  }

  #assertOpen(): void {
    if (this.#closing) throw new Error('rabbitmq pub/sub: component is closed');
  }
}
