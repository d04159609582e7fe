// A scripted pub/sub component and app channel for the subscriber's unit tests.
import type {
  PublishRequest,
  PubSub,
  PubSubHandler,
  PubSubMessage,
  PubSubSubscription,
  SubscribeRequest,
} from '../../../../src/components/contracts/pubsub.js';
import type { PubSubEntry } from '../../../../src/core/pubsub/pubsub-types.js';
import type {
  BulkDeliveryOutcome,
  BulkTopicEventDelivery,
  DeliveryOutcome,
  SubscriberAppChannel,
  TopicEventDelivery,
} from '../../../../src/core/pubsub/subscriptions/delivery-port.js';
import type { SubscriptionSpec } from '../../../../src/core/pubsub/subscriptions/subscription-types.js';
import { compileRetry, PolicyRunner } from '../../../../src/resiliency/index.js';
import type { SubscriptionResource } from '../../../../src/resources/types.js';

/** A component that records subscriptions and publishes; tests push messages through it. */
export class FakePubSub implements PubSub {
  readonly handlers = new Map<string, PubSubHandler>();
  readonly subscribed: SubscribeRequest[] = [];
  readonly published: PublishRequest[] = [];
  closedTopics: string[] = [];
  refuse = 0;

  async publish(request: PublishRequest): Promise<void> {
    this.published.push(request);
  }

  async subscribe(request: SubscribeRequest, handler: PubSubHandler): Promise<PubSubSubscription> {
    if (this.refuse > 0) {
      this.refuse--;
      throw new Error('broker refused');
    }
    this.subscribed.push(request);
    this.handlers.set(request.topic, handler);
    return {
      close: async () => {
        this.handlers.delete(request.topic);
        this.closedTopics.push(request.topic);
      },
    };
  }

  /** Hands a message to the topic's handler: resolves 'ack' or 'nack' as the broker would see. */
  async deliver(
    topic: string,
    message: Partial<PubSubMessage> & { data: Uint8Array },
  ): Promise<'ack' | 'nack'> {
    const handler = this.handlers.get(topic);
    if (handler === undefined) throw new Error(`nobody subscribed to ${topic}`);
    try {
      await handler({ topic, metadata: {}, ...message });
      return 'ack';
    } catch {
      return 'nack';
    }
  }

  async close(): Promise<void> {}
}

/** A registry entry for a fake component. */
export function entryOf(
  name: string,
  pubsub: PubSub,
  extra: Partial<PubSubEntry> = {},
): PubSubEntry {
  return {
    name,
    pubsub,
    features: [],
    metadata: {},
    scopes: {
      allowedTopics: [],
      protectedTopics: [],
      publishingScopes: [],
      subscriptionScopes: [],
    },
    namespaceScoped: false,
    ...extra,
  };
}

/** An app channel answering deliveries with a scripted function. */
export class FakeAppChannel implements SubscriberAppChannel {
  readonly events: TopicEventDelivery[] = [];
  readonly batches: BulkTopicEventDelivery[] = [];
  listed: SubscriptionSpec[] = [];
  answer: (
    event: TopicEventDelivery,
    signal: AbortSignal,
  ) => DeliveryOutcome | Promise<DeliveryOutcome> = () => ({
    status: 'SUCCESS',
  });
  bulkAnswer: (batch: BulkTopicEventDelivery) => BulkDeliveryOutcome = (batch) =>
    new Map(batch.entries.map((entry) => [entry.entryId, { status: 'SUCCESS' } as const]));

  async listSubscriptions(): Promise<SubscriptionSpec[]> {
    return this.listed;
  }

  async deliver(event: TopicEventDelivery, signal: AbortSignal): Promise<DeliveryOutcome> {
    this.events.push(event);
    return this.answer(event, signal);
  }

  async deliverBulk(batch: BulkTopicEventDelivery): Promise<BulkDeliveryOutcome> {
    this.batches.push(batch);
    return this.bulkAnswer(batch);
  }
}

/** A runner retrying `retries` times without waiting. */
export function retrying(retries: number): PolicyRunner {
  return new PolicyRunner({
    name: 'inbound',
    retry: compileRetry(
      'r',
      {
        policy: 'constant',
        durationMs: 1,
        initialIntervalMs: 500,
        multiplier: 1.5,
        randomizationFactor: 0.5,
        maxIntervalMs: 60_000,
        maxElapsedMs: 15 * 60_000,
        maxRetries: retries,
      },
      () => 0.5,
    ),
    sleep: async () => {},
  });
}

/** A runner that applies no policy. */
export const noPolicy = new PolicyRunner({ name: 'none' });

/** A v2 Subscription resource as the loader returns it. */
export function subscriptionResource(
  name: string,
  topic: string,
  extra: Partial<SubscriptionResource> = {},
): SubscriptionResource {
  return {
    kind: 'Subscription',
    apiVersion: 'dapr.io/v2alpha1',
    name,
    scopes: [],
    source: { file: `/resources/${name}.yaml` },
    pubsubName: 'pubsub',
    topic,
    routes: { rules: [], default: `/${topic}` },
    metadata: {},
    ...extra,
  };
}

/** A CloudEvent's JSON bytes. */
export function cloudEvent(fields: Record<string, unknown>): Uint8Array {
  return new TextEncoder().encode(
    JSON.stringify({ specversion: '1.0', id: 'e1', source: 'a', type: 't', ...fields }),
  );
}
