// Pub/sub delivery to an HTTP app, as Dapr's HTTP postman does it: a POST of the CloudEvent to
// the route with the message metadata as headers, the answer read as `{"status": ...}`.

import type { AppChannel } from '../core/ports/app-channel.js';
import {
  type BulkDeliveryOutcome,
  type BulkTopicEventDelivery,
  type DeliveryOutcome,
  type SubscriberAppChannel,
  type TopicEventDelivery,
  wholeBatch,
} from '../core/pubsub/subscriptions/delivery-port.js';
import type { SubscriptionSpec } from '../core/pubsub/subscriptions/subscription-types.js';
import { errorText } from '../kernel/tapr-error.js';
import { bulkEnvelopeBytes } from './bulk-envelope.js';
import { outcomeOfAnswer, outcomesOfBulkAnswer, parseSubscribeList } from './pubsub-http-json.js';
import { headersOfMetadata } from './pubsub-metadata.js';

const CLOUDEVENT_CONTENT_TYPE = 'application/cloudevents+json';

/** The subscriber's view of an HTTP app, on top of its app channel. */
export class HttpSubscriberChannel implements SubscriberAppChannel {
  readonly #channel: AppChannel;

  constructor(channel: AppChannel) {
    this.#channel = channel;
  }

  /** `GET /dapr/subscribe` with `dapr-app-id`; a 404 or any other non-200 means none. */
  async listSubscriptions(appId: string, signal: AbortSignal): Promise<SubscriptionSpec[]> {
    const response = await this.#channel.invoke({
      method: 'GET',
      path: 'dapr/subscribe',
      headers: { 'dapr-app-id': appId },
      contentType: 'application/json',
      signal,
    });
    // Dapr logs other statuses and carries on without programmatic subscriptions.
    if (response.status !== 200) return [];
    return parseSubscribeList(response.body);
  }

  /** POSTs the CloudEvent to the route and maps the answer. */
  async deliver(event: TopicEventDelivery, signal: AbortSignal): Promise<DeliveryOutcome> {
    const id = String(event.cloudEvent.id ?? '');
    let response: Awaited<ReturnType<AppChannel['invoke']>>;
    try {
      response = await this.#channel.invoke({
        method: 'POST',
        path: event.path,
        headers: headersOfMetadata(event.metadata, event.cloudEvent),
        body: event.body,
        contentType: CLOUDEVENT_CONTENT_TYPE,
        signal,
      });
    } catch (error) {
      if (signal.aborted) throw error;
      return {
        status: 'RETRY',
        reason: `error returned from app channel while sending pub/sub event to app: ${errorText(error)}`,
      };
    }
    if (response.status >= 200 && response.status <= 299) return outcomeOfAnswer(response.body, id);
    const body = Buffer.from(response.body).toString('utf8');
    if (response.status === 404) {
      return {
        status: 'DROP',
        reason: `non-retriable error returned from app while processing pub/sub event ${id}: ${body}. status code returned: 404`,
      };
    }
    return {
      status: 'RETRY',
      reason: `retriable error returned from app while processing pub/sub event ${id}, topic: ${event.topic}, body: ${body}. status code returned: ${response.status}`,
      httpStatus: response.status,
    };
  }

  /** POSTs Dapr's bulk envelope to the route and maps the per-entry statuses. */
  async deliverBulk(
    batch: BulkTopicEventDelivery,
    signal: AbortSignal,
  ): Promise<BulkDeliveryOutcome> {
    let response: Awaited<ReturnType<AppChannel['invoke']>>;
    try {
      response = await this.#channel.invoke({
        method: 'POST',
        path: batch.path,
        headers: headersOfMetadata(batch.metadata, undefined),
        body: bulkEnvelopeBytes(batch),
        contentType: 'application/json',
        signal,
      });
    } catch (error) {
      if (signal.aborted) throw error;
      return wholeBatch(batch, {
        status: 'RETRY',
        reason: `error from app channel while sending pub/sub event to app: ${errorText(error)}`,
      });
    }
    if (response.status >= 200 && response.status <= 299) {
      try {
        return outcomesOfBulkAnswer(response.body);
      } catch (error) {
        return wholeBatch(batch, {
          status: 'RETRY',
          reason: `failed unmarshalling app response for bulk subscribe: ${errorText(error)}`,
        });
      }
    }
    if (response.status === 404) {
      return wholeBatch(batch, {
        status: 'DROP',
        reason:
          'non-retriable error returned from app while processing bulk pub/sub event. status code returned: 404',
      });
    }
    return wholeBatch(batch, {
      status: 'RETRY',
      reason: `Retriable error returned from app while processing bulk pub/sub event, topic: ${batch.topic}. status code returned: ${response.status}`,
      httpStatus: response.status,
    });
  }
}
