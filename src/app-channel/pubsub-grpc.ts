// Pub/sub delivery to a gRPC app, as Dapr's gRPC postman does it: `OnTopicEvent` per event,
// `OnBulkTopicEvent` (falling back to `OnBulkTopicEventAlpha1`) per batch, and
// `ListTopicSubscriptions` for the app's own subscriptions.

import type { MessageInitShape } from '@bufbuild/protobuf';
import { Code, ConnectError } from '@connectrpc/connect';
import {
  type BulkDeliveryOutcome,
  type BulkTopicEventDelivery,
  type DeliveryOutcome,
  type SubscriberAppChannel,
  type TopicEventDelivery,
  wholeBatch,
} from '../core/pubsub/subscriptions/delivery-port.js';
import type {
  RouteRule,
  SubscriptionSpec,
} from '../core/pubsub/subscriptions/subscription-types.js';
import { topicEventFields } from '../core/pubsub/subscriptions/topic-event.js';
import {
  TopicEventResponse_TopicEventResponseStatus as Status,
  type TopicEventBulkRequestEntrySchema,
  type TopicEventBulkRequestSchema,
  type TopicEventBulkResponse,
  type TopicRoutes,
  type TopicSubscription,
} from '../gen/dapr/proto/runtime/v1/appcallback_pb.js';
import { errorText } from '../kernel/tapr-error.js';
import type { AppCallbackClients } from './grpc-app-channel.js';
import { grpcMetadataOf } from './pubsub-metadata.js';

/** The subscriber's view of a gRPC app, on top of the app channel's callback clients. */
export class GrpcSubscriberChannel implements SubscriberAppChannel {
  readonly #clients: () => AppCallbackClients;

  /** `clients` is read on every call, so the channel may build its clients lazily. */
  constructor(clients: () => AppCallbackClients) {
    this.#clients = clients;
  }

  /** `ListTopicSubscriptions`; an app that does not implement it has none. */
  async listSubscriptions(_appId: string, signal: AbortSignal): Promise<SubscriptionSpec[]> {
    try {
      const response = await this.#clients().appCallback.listTopicSubscriptions({}, { signal });
      return response.subscriptions.map(specOf);
    } catch (error) {
      if (ConnectError.from(error).code === Code.Unimplemented) return [];
      throw error;
    }
  }

  /** `OnTopicEvent` with the event's fields and the message metadata. */
  async deliver(event: TopicEventDelivery, signal: AbortSignal): Promise<DeliveryOutcome> {
    const id = String(event.cloudEvent.id ?? '');
    let fields: ReturnType<typeof topicEventFields>;
    try {
      fields = topicEventFields(event.cloudEvent);
    } catch (error) {
      return { status: 'RETRY', reason: errorText(error) };
    }
    try {
      const response = await this.#clients().appCallback.onTopicEvent(
        { ...fields, topic: event.topic, pubsubName: event.pubsubName, path: event.path },
        { headers: grpcMetadataOf(event.metadata, event.cloudEvent), signal },
      );
      return outcomeOf(response.status, `pub/sub event ${id}`);
    } catch (error) {
      if (signal.aborted) throw error;
      return failureOf(ConnectError.from(error), `pub/sub event ${id}`);
    }
  }

  /** `OnBulkTopicEvent`, or `OnBulkTopicEventAlpha1` for apps (like the JS SDK's) without it. */
  async deliverBulk(
    batch: BulkTopicEventDelivery,
    signal: AbortSignal,
  ): Promise<BulkDeliveryOutcome> {
    const outcomes = new Map<string, DeliveryOutcome>();
    const entries: MessageInitShape<typeof TopicEventBulkRequestEntrySchema>[] = [];
    for (const entry of batch.entries) {
      if (entry.event instanceof Uint8Array) {
        entries.push({
          entryId: entry.entryId,
          event: { case: 'bytes', value: entry.event },
          contentType: entry.contentType,
          metadata: { ...entry.metadata },
        });
        continue;
      }
      try {
        const fields = topicEventFields(entry.event);
        entries.push({
          entryId: entry.entryId,
          event: { case: 'cloudEvent', value: fields },
          contentType: entry.contentType,
          metadata: { ...entry.metadata },
        });
      } catch (error) {
        outcomes.set(entry.entryId, { status: 'RETRY', reason: errorText(error) });
      }
    }
    if (entries.length === 0) return outcomes;
    const request: MessageInitShape<typeof TopicEventBulkRequestSchema> = {
      id: batch.id,
      entries,
      metadata: { ...batch.metadata },
      topic: batch.topic,
      pubsubName: batch.pubsubName,
      type: 'com.dapr.event.sent.bulk',
      path: batch.path,
    };
    const options = { headers: grpcMetadataOf(batch.metadata, undefined), signal };
    let response: TopicEventBulkResponse;
    try {
      try {
        response = await this.#clients().appCallback.onBulkTopicEvent(request, options);
      } catch (error) {
        if (ConnectError.from(error).code !== Code.Unimplemented) throw error;
        response = await this.#clients().appCallbackAlpha.onBulkTopicEventAlpha1(request, options);
      }
    } catch (error) {
      if (signal.aborted) throw error;
      return wholeBatch(batch, failureOf(ConnectError.from(error), 'bulk pub/sub event'));
    }
    for (const status of response.statuses) {
      outcomes.set(status.entryId, outcomeOf(status.status, `bulk entry ${status.entryId}`));
    }
    return outcomes;
  }
}

/** Dapr's reading of `TopicEventResponse.status`; unknown values are retried. */
function outcomeOf(status: Status, subject: string): DeliveryOutcome {
  switch (status) {
    case Status.SUCCESS:
      return { status: 'SUCCESS' };
    case Status.RETRY:
      return {
        status: 'RETRY',
        reason: `RETRY status returned from app while processing ${subject}`,
      };
    case Status.DROP:
      return {
        status: 'DROP',
        reason: `DROP status returned from app while processing ${subject}`,
      };
    default:
      return {
        status: 'RETRY',
        reason: `unknown status returned from app while processing ${subject}, status: ${status}`,
      };
  }
}

/** An app that does not implement the callback drops the event; any other error retries. */
function failureOf(error: ConnectError, subject: string): DeliveryOutcome {
  if (error.code === Code.Unimplemented) {
    return {
      status: 'DROP',
      reason: `non-retriable error returned from app while processing ${subject}: ${error.message}`,
    };
  }
  return {
    status: 'RETRY',
    reason: `error returned from app while processing ${subject}: ${error.message}`,
    grpcCode: error.code,
  };
}

/** A `TopicSubscription` as a spec, routes normalised as Dapr's `parseRoutingRulesGRPC`. */
function specOf(subscription: TopicSubscription): SubscriptionSpec {
  const bulk = subscription.bulkSubscribe;
  return {
    type: 'PROGRAMMATIC',
    pubsubName: subscription.pubsubName,
    topic: subscription.topic,
    metadata: { ...subscription.metadata },
    rules: rulesOf(subscription.routes),
    ...(subscription.deadLetterTopic === ''
      ? {}
      : { deadLetterTopic: subscription.deadLetterTopic }),
    ...(bulk === undefined
      ? {}
      : {
          bulkSubscribe: {
            enabled: bulk.enabled,
            ...(bulk.maxMessagesCount > 0 ? { maxMessagesCount: bulk.maxMessagesCount } : {}),
            ...(bulk.maxAwaitDurationMs > 0 ? { maxAwaitDurationMs: bulk.maxAwaitDurationMs } : {}),
          },
        }),
  };
}

// gRPC apps get a default route of "" when they name none, unlike HTTP apps.
function rulesOf(routes: TopicRoutes | undefined): RouteRule[] {
  if (routes === undefined) return [{ match: '', path: '' }];
  const rules: RouteRule[] = routes.rules.map((rule) => ({ match: rule.match, path: rule.path }));
  if (routes.default !== '') rules.push({ match: '', path: routes.default });
  if (rules.length === 0) rules.push({ match: '', path: '' });
  return rules;
}
