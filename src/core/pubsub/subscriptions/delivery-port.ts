// The port through which the subscriber reaches the app; src/app-channel implements it for
// HTTP apps (POST to the route) and gRPC apps (AppCallback OnTopicEvent).
import type { CloudEventMap } from './incoming-event.js';
import type { SubscriptionSpec } from './subscription-types.js';

/**
 * How the app handled one event, as Dapr reads the answer. `RETRY` carries the HTTP status
 * or gRPC code when there was one, so a resiliency retry policy can match on it.
 */
export type DeliveryOutcome =
  | { readonly status: 'SUCCESS' }
  | { readonly status: 'DROP'; readonly reason: string }
  | {
      readonly status: 'RETRY';
      readonly reason: string;
      readonly httpStatus?: number;
      readonly grpcCode?: number;
    };

/** One event on its way to the app. */
export interface TopicEventDelivery {
  /** The CloudEvent as parsed (or synthesized for raw payloads). */
  readonly cloudEvent: CloudEventMap;
  /**
   * The bytes an HTTP app receives: the broker's CloudEvent JSON unchanged, or the CloudEvent
   * Dapr synthesizes for a raw payload.
   */
  readonly body: Uint8Array;
  readonly pubsubName: string;
  /** The topic as the app subscribed to it (without a namespace prefix). */
  readonly topic: string;
  /** The route the rules selected. */
  readonly path: string;
  /** The message's metadata plus `pubsubName`, sent as HTTP headers or gRPC metadata. */
  readonly metadata: Readonly<Record<string, string>>;
}

/** One entry of a bulk delivery. */
export interface BulkEntryDelivery {
  readonly entryId: string;
  /** The parsed CloudEvent, or the raw bytes for raw-payload subscriptions. */
  readonly event: CloudEventMap | Uint8Array;
  /**
   * The JSON bytes `event` was parsed from, unchanged: what an HTTP app receives, so the
   * envelope is spliced from them instead of serialising every event again.
   */
  readonly eventJson?: Uint8Array;
  readonly contentType: string;
  readonly metadata: Readonly<Record<string, string>>;
}

/** A batch of events for one route (Dapr's bulk subscribe envelope). */
export interface BulkTopicEventDelivery {
  readonly id: string;
  readonly pubsubName: string;
  readonly topic: string;
  readonly path: string;
  /** Metadata of the batch: `pubsubName`. */
  readonly metadata: Readonly<Record<string, string>>;
  readonly entries: readonly BulkEntryDelivery[];
}

/**
 * The app's answer to a batch: one outcome per entry it answered for. Entries it left out
 * are retried, as Dapr does.
 */
export type BulkDeliveryOutcome = ReadonlyMap<string, DeliveryOutcome>;

/** The app as the subscriber needs it. */
export interface SubscriberAppChannel {
  /**
   * The app's programmatic subscriptions (`GET /dapr/subscribe` or `ListTopicSubscriptions`),
   * with routes already normalised the way Dapr does for the protocol. Resolves empty when
   * the app has none (404, UNIMPLEMENTED); throws when asking failed.
   */
  listSubscriptions(appId: string, signal: AbortSignal): Promise<SubscriptionSpec[]>;
  /** Delivers one event; transport failures resolve as `RETRY`, only an abort throws. */
  deliver(event: TopicEventDelivery, signal: AbortSignal): Promise<DeliveryOutcome>;
  /**
   * Delivers a batch; a failure of the whole call (transport, status) is the same outcome
   * for every entry. Only an abort throws.
   */
  deliverBulk(batch: BulkTopicEventDelivery, signal: AbortSignal): Promise<BulkDeliveryOutcome>;
}

/**
 * The app answered its subscription list with something Dapr cannot decode; asking again
 * will not help, so the initialization retries stop on it.
 */
export class InvalidSubscriptionListError extends Error {
  constructor(reason: string) {
    super(`error getting topics from app: ${reason}`);
    this.name = 'InvalidSubscriptionListError';
  }
}

/** The same outcome for every entry of a batch. */
export function wholeBatch(
  batch: BulkTopicEventDelivery,
  outcome: DeliveryOutcome,
): BulkDeliveryOutcome {
  return new Map(batch.entries.map((entry) => [entry.entryId, outcome]));
}
