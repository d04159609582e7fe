import {
  type ComponentContext,
  defineComponent,
  type KindedDefinition,
} from '../contracts/component.js';
import {
  consumerGroupOf,
  handlerLimit,
  type PublishRequest,
  type PubSub,
  PubSubFeature,
  type PubSubHandler,
  type PubSubSubscription,
  type SubscribeRequest,
} from '../contracts/pubsub.js';
import { type InMemoryPubSubOptions, inMemoryPubSubMetadata } from './in-memory.metadata.js';
import { Consumer, type InMemoryBus, InMemoryHub } from './in-memory-bus.js';

/**
 * Makes the `pubsub.in-memory` definition. Messages live in the process: the instances of a
 * component with the same name made from one definition share its topics, which is how two
 * subscriptions (or a test's two instances) of one sidecar meet. Call it once per registry;
 * there is no process-wide state.
 */
export function inMemoryPubSub(): KindedDefinition<'pubsub', InMemoryPubSubOptions> {
  const hub = new InMemoryHub();
  return defineComponent({
    kind: 'pubsub',
    type: 'pubsub.in-memory',
    version: 'v1',
    features: [PubSubFeature.SUBSCRIBE_WILDCARDS],
    metadataSchema: inMemoryPubSubMetadata,
    async create(options, context) {
      return new InMemoryPubSub(hub, options, context);
    },
  });
}

/**
 * Dapr's `pubsub.in-memory`, with consumer groups: each group subscribed to a topic gets every
 * message, the subscriptions of one group compete for them, and a rejected message is offered
 * again after `redeliverInterval`. Nothing survives the process.
 */
export class InMemoryPubSub implements PubSub {
  readonly #hub: InMemoryHub;
  readonly #name: string;
  readonly #bus: InMemoryBus;
  readonly #options: InMemoryPubSubOptions;
  readonly #appId: string;
  readonly #subscriptions = new Set<InMemorySubscription>();
  #closed: Promise<void> | undefined;

  constructor(hub: InMemoryHub, options: InMemoryPubSubOptions, context: ComponentContext) {
    this.#hub = hub;
    this.#name = context.name;
    this.#bus = hub.acquire(context.name);
    this.#options = options;
    this.#appId = context.appId;
  }

  async publish(request: PublishRequest, signal: AbortSignal): Promise<void> {
    signal.throwIfAborted();
    if (this.#closed) throw new Error('component is closed');
    this.#bus.publish({
      topic: request.topic,
      // The caller may reuse its buffer once the publish resolved.
      data: request.data.slice(),
      ...(request.contentType === undefined ? {} : { contentType: request.contentType }),
      metadata: { ...request.metadata },
    });
  }

  async subscribe(
    request: SubscribeRequest,
    handler: PubSubHandler,
    signal: AbortSignal,
  ): Promise<PubSubSubscription> {
    signal.throwIfAborted();
    if (this.#closed) throw new Error('component is closed');
    const group = consumerGroupOf(
      { consumerID: this.#options.consumerID, ...request.metadata },
      this.#appId,
    );
    const queue = this.#bus.queue(group, request.topic, this.#options.redeliverInterval);
    const consumer = new Consumer(handler, handlerLimit(this.#options.concurrency, request));
    const subscription = new InMemorySubscription(async () => {
      queue.remove(consumer);
      await consumer.close();
      this.#subscriptions.delete(subscription);
    });
    this.#subscriptions.add(subscription);
    queue.add(consumer);
    return subscription;
  }

  /** Closes every subscription (waiting for handler calls in flight), then gives the bus back. */
  close(): Promise<void> {
    this.#closed ??= (async () => {
      await Promise.all([...this.#subscriptions].map((subscription) => subscription.close()));
      this.#hub.release(this.#name);
    })();
    return this.#closed;
  }
}

/** A subscription whose `close` runs once. */
class InMemorySubscription implements PubSubSubscription {
  readonly #stop: () => Promise<void>;
  #closed: Promise<void> | undefined;

  constructor(stop: () => Promise<void>) {
    this.#stop = stop;
  }

  close(): Promise<void> {
    this.#closed ??= this.#stop();
    return this.#closed;
  }
}
