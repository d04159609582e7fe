import { isTruthy, parseGoBool } from '../../kernel/go-bool.js';
import type { Logger } from '../../kernel/logger.js';
import { errorText } from '../../kernel/tapr-error.js';
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
import { type Mqtt3Options, type MqttQos, mqtt3Metadata } from './mqtt3.metadata.js';
import { type IncomingMessage, MqttConnection, type MqttDriver } from './mqtt3-connection.js';
import { MqttSubscription } from './mqtt3-subscription.js';
import { TopicFilter } from './mqtt3-topic-filter.js';

/** Messages kept for a subscription that does not exist yet; beyond this the oldest are let go. */
const MAX_PARKED = 10_000;

/**
 * `pubsub.mqtt3`: Dapr's MQTT 3.1.1 pub/sub. One connection per component whose client id is
 * `consumerID` (the app id by default), with the session kept between connections
 * (`cleanSession: false`), so the broker holds a subscriber's messages while it is down. MQTT
 * has no consumer groups: two instances with one client id take the session from each other,
 * so each instance needs its own `consumerID`, and competing consumers are only possible with
 * the broker's shared subscriptions (`$share/<group>/<topic>` as the topic). Topic wildcards
 * (`+`, `#`) are supported, as Dapr declares.
 */
export const mqtt3PubSub = defineComponent({
  kind: 'pubsub',
  type: 'pubsub.mqtt3',
  version: 'v1',
  features: [PubSubFeature.SUBSCRIBE_WILDCARDS],
  metadataSchema: mqtt3Metadata,
  async create(options, context) {
    const imported = await import('mqtt');
    const driver: MqttDriver = imported.default ?? imported;
    for (const deprecated of ['backOffMaxRetries', 'maxRetriableErrorsPerSec'] as const) {
      if (options[deprecated] !== '') {
        context.logger.warn(
          `mqtt pub/sub: metadata property '${deprecated}' is deprecated and will be ignored`,
        );
      }
    }
    const clientId = consumerGroupOf({ consumerID: options.consumerID }, context.appId);
    const connection = await MqttConnection.open(
      driver,
      options,
      clientId,
      context.logger,
      context.signal,
    );
    return new Mqtt3PubSub(connection, options, context.logger);
  },
});

class Mqtt3PubSub implements PubSub {
  readonly #connection: MqttConnection;
  readonly #options: Mqtt3Options;
  readonly #logger: Logger;
  /** Subscriptions by the filter as subscribed; a later one for the same filter replaces it. */
  readonly #subscriptions = new Map<string, MqttSubscription>();
  /** Unacknowledged messages no subscription has taken (yet). */
  #parked: IncomingMessage[] = [];
  #closing: Promise<void> | undefined;

  constructor(connection: MqttConnection, options: Mqtt3Options, logger: Logger) {
    this.#connection = connection;
    this.#options = options;
    this.#logger = logger;
    connection.receive(
      (message) => this.#route(message),
      () => this.#dropSuperseded(),
    );
  }

  async publish(request: PublishRequest, signal: AbortSignal): Promise<void> {
    this.#assertOpen();
    if (request.topic === '') throw new Error('mqtt pub/sub: topic name is empty');
    let retain = this.#options.retain;
    const given = request.metadata.retain;
    if (given !== undefined && given !== '') {
      // Dapr's component reads `retain` with Go's strconv.ParseBool.
      const parsed = parseGoBool(given);
      if (parsed === undefined) throw new Error(`mqtt pub/sub: invalid retain ${given}`);
      retain = parsed;
    }
    try {
      await this.#connection.publish(
        request.topic,
        request.data,
        this.#options.qos,
        retain,
        signal,
      );
    } catch (error) {
      throw new Error(`mqtt pub/sub: failed to publish: ${errorText(error)}`, { cause: error });
    }
  }

  /**
   * Registers the handler, then subscribes on the broker with the component's QoS capped at 1:
   * a QoS 2 delivery is acknowledged (PUBREC) by mqtt.js before any handler ran, which would
   * lose it in a crash, while QoS 1 is acknowledged here only after the handler resolved.
   * Messages the session delivered before this subscription existed are handed over at once.
   */
  async subscribe(
    request: SubscribeRequest,
    handler: PubSubHandler,
    signal: AbortSignal,
  ): Promise<PubSubSubscription> {
    this.#assertOpen();
    if (request.topic === '') throw new Error('mqtt pub/sub: topic name is empty');
    const unsubscribeOnClose = isTruthy(request.metadata.unsubscribeOnClose);
    const subscription: MqttSubscription = new MqttSubscription({
      filter: new TopicFilter(request.topic),
      connection: this.#connection,
      handler,
      logger: this.#logger,
      onClosed: (closed, unhandled) => this.#closed(closed, unhandled, unsubscribeOnClose),
    });
    this.#subscriptions.set(request.topic, subscription);
    const qos = Math.min(this.#options.qos, 1) as MqttQos;
    try {
      await this.#connection.subscribe(request.topic, qos, signal);
    } catch (error) {
      if (this.#subscriptions.get(request.topic) === subscription) {
        this.#subscriptions.delete(request.topic);
      }
      await subscription.close();
      throw new Error(`mqtt pub/sub: error from subscribe: ${errorText(error)}`, {
        cause: error,
      });
    }
    this.#logger.info(`mqtt pub/sub: subscribed to topic ${request.topic} (qos: ${qos})`);
    const waiting = this.#parked;
    this.#parked = [];
    for (const message of waiting) this.#route(message);
    return subscription;
  }

  /** Closes the subscriptions (handlers in flight settle), then disconnects; the session stays. */
  close(): Promise<void> {
    this.#closing ??= this.#shutdown();
    return this.#closing;
  }

  async #shutdown(): Promise<void> {
    const open = [...this.#subscriptions.values()];
    this.#subscriptions.clear();
    await Promise.allSettled(open.map((subscription) => subscription.close()));
    this.#parked = [];
    await this.#connection.close();
  }

  /**
   * Finds the handler of a message's topic as Dapr's component does: the subscription of that
   * exact topic, else the first whose filter matches. Without one (the session's subscription
   * from before, or a closed subscription) the message stays unacknowledged and waits here.
   */
  #route(message: IncomingMessage): void {
    const exact = this.#subscriptions.get(message.topic);
    if (exact?.accept(message)) return;
    for (const subscription of this.#subscriptions.values()) {
      if (subscription !== exact && subscription.filter.matches(message.topic)) {
        if (subscription.accept(message)) return;
      }
    }
    if (this.#closing) return;
    this.#logger.debug(`mqtt pub/sub: no handler for a message on topic ${message.topic} yet`);
    this.#parked.push(message);
    if (this.#parked.length > MAX_PARKED) this.#parked.shift();
  }

  /** After a resumed session the broker resends unacknowledged messages; drop the old copies. */
  #dropSuperseded(): void {
    this.#parked = this.#parked.filter((message) => !this.#connection.superseded(message));
  }

  async #closed(
    subscription: MqttSubscription,
    unhandled: IncomingMessage[],
    unsubscribeOnClose: boolean,
  ): Promise<void> {
    const topic = subscription.filter.subscribed;
    const current = this.#subscriptions.get(topic) === subscription;
    if (current) this.#subscriptions.delete(topic);
    for (const message of unhandled) this.#route(message);
    // As Dapr: unsubscribing makes the broker drop the session's messages for the topic, so
    // only a clean session or an explicit `unsubscribeOnClose` does it.
    if (!current || this.#closing) return;
    if (!this.#options.cleanSession && !unsubscribeOnClose) return;
    try {
      await this.#connection.unsubscribe(topic);
    } catch (error) {
      this.#logger.warn(`mqtt pub/sub: failed to unsubscribe from topic ${topic}`, {
        error: errorText(error),
      });
    }
  }

  #assertOpen(): void {
    if (this.#closing) throw new Error('mqtt pub/sub: component is closed');
  }
}
