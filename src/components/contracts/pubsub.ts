import type { Component, MetadataRecord } from './component.js';

/** Pub/sub component features, spelled as Dapr reports them in the metadata API. */
export const PubSubFeature = {
  /** The broker expires messages itself; otherwise the runtime drops expired CloudEvents. */
  MESSAGE_TTL: 'MESSAGE_TTL',
  SUBSCRIBE_WILDCARDS: 'SUBSCRIBE_WILDCARDS',
  /** Native bulk publish (Dapr's spelling); otherwise the runtime publishes entries one by one. */
  BULK_PUBLISH: 'BULK_PUBSUB',
} as const;

/** A pub/sub feature name. */
export type PubSubFeature = (typeof PubSubFeature)[keyof typeof PubSubFeature];

/** One message to publish. `data` is the exact payload (a CloudEvent's JSON, or raw bytes). */
export interface PublishRequest {
  readonly topic: string;
  /**
   * The payload. It may be a getter that encodes `dataText` on first read: read it from the
   * request itself, never from a spread copy of it.
   */
  readonly data: Uint8Array;
  /**
   * The same payload as text, when the runtime built it as text (a CloudEvent envelope): a
   * component whose client sends strings uses it and spares encoding it.
   */
  readonly dataText?: string;
  readonly contentType?: string;
  /** The request's metadata (`metadata.*` query parameters or gRPC metadata map). */
  readonly metadata: MetadataRecord;
  /**
   * `metadata.ttlInSeconds` parsed by the runtime, set only for components declaring
   * `MESSAGE_TTL`; the component makes the broker expire the message after that long.
   */
  readonly ttlSeconds?: number;
}

/** One entry of a bulk publish. */
export interface BulkPublishEntry {
  readonly entryId: string;
  /** As `PublishRequest.data`. */
  readonly data: Uint8Array;
  /** As `PublishRequest.dataText`. */
  readonly dataText?: string;
  readonly contentType?: string;
  readonly metadata: MetadataRecord;
}

/** An entry the broker refused, with why. */
export interface BulkPublishFailure {
  readonly entryId: string;
  readonly error: string;
}

/** A message received from the broker. */
export interface PubSubMessage {
  /** The topic the message was published to (the concrete one, also under wildcards). */
  readonly topic: string;
  readonly data: Uint8Array;
  readonly contentType?: string;
  /** Broker-specific metadata (message id, delivery count, ...) passed on to the app. */
  readonly metadata: MetadataRecord;
}

/**
 * Delivers one message to the runtime. Resolving acknowledges the message; rejecting leaves it
 * unacknowledged so the broker redelivers it under the component's own rules (redeliver
 * interval, requeue, ackWait, visibility timeout). Never called again for a message before
 * the previous call for it settled.
 */
export type PubSubHandler = (message: PubSubMessage) => Promise<void>;

/** What to subscribe to. */
export interface SubscribeRequest {
  readonly topic: string;
  /** The subscription's metadata (Subscription `spec.metadata` or the app's). */
  readonly metadata: MetadataRecord;
  /**
   * The fewest handler calls a component that caps them (`concurrency`) lets run at once for
   * this subscription. A bulk subscription holds each call until its batch fills or times out,
   * so a lower cap would hold every batch to the cap (as in Dapr, whose batches never exceed
   * the component's concurrency) and make each wait out the full await time; it asks for two
   * batches, so one fills while the other is delivered.
   */
  readonly minInFlight?: number;
}

/** How many handler calls a component capped at `concurrency` runs at once for `request`. */
export function handlerLimit(concurrency: number, request: SubscribeRequest): number {
  return Math.max(concurrency, request.minInFlight ?? 0);
}

/** A live subscription. */
export interface PubSubSubscription {
  /**
   * Stops taking new messages and waits for handler calls in flight to settle (their results
   * are acked or nacked as usual). Messages fetched but not handed to the handler go back to
   * the broker. Idempotent.
   */
  close(): Promise<void>;
}

/**
 * A pub/sub component (`pubsub.*`). Delivery is at least once: a message is acknowledged to the
 * broker only after the handler resolved. Subscribers of one consumer group (the component's
 * `consumerID` metadata, defaulting to the app id) share a topic's messages where the broker
 * supports it; each group gets every message.
 */
export interface PubSub extends Component {
  /** Resolves once the broker has accepted (persisted, where it can) the message. */
  publish(request: PublishRequest, signal: AbortSignal): Promise<void>;
  /**
   * Starts delivering a topic's messages to `handler`; resolves once the subscription is
   * established on the broker (messages published after that are delivered).
   */
  subscribe(
    request: SubscribeRequest,
    handler: PubSubHandler,
    signal: AbortSignal,
  ): Promise<PubSubSubscription>;
}

/** A pub/sub that publishes many messages at once (feature `BULK_PUBSUB`). */
export interface BulkPublisher extends PubSub {
  /** Publishes every entry; resolves with those that failed (empty when all were accepted). */
  bulkPublish(
    topic: string,
    entries: readonly BulkPublishEntry[],
    metadata: MetadataRecord,
    signal: AbortSignal,
  ): Promise<BulkPublishFailure[]>;
}

/** Whether a pub/sub can publish in bulk natively: both the method and the declared feature. */
export function isBulkPublisher(
  pubsub: PubSub,
  features: readonly string[],
): pubsub is BulkPublisher {
  return (
    features.includes(PubSubFeature.BULK_PUBLISH) &&
    typeof (pubsub as Partial<BulkPublisher>).bulkPublish === 'function'
  );
}

/**
 * The consumer group a component uses: its `consumerID` metadata, else the app id, as Dapr's
 * runtime fills it in for every pub/sub component.
 */
export function consumerGroupOf(metadata: MetadataRecord, appId: string): string {
  const given = metadata.consumerID ?? metadata.consumerId;
  return given !== undefined && given !== '' ? given : appId;
}
