import type { ResiliencyPolicies } from '../../../resiliency/index.js';
import { brokerTopic, type PubSubRegistry } from '../pubsub-types.js';
import { isPublishAllowed } from '../topic-scopes.js';
import type { DeadLetterPublisher } from './delivery-context.js';

/**
 * The dead-letter publisher Dapr's subscriptions use (its pub/sub adapter's `Publish`): the
 * original message bytes, content type and metadata go to the dead-letter topic of the same
 * component, unwrapped, if this app may publish there, under the component's outbound policy.
 */
export function deadLetterPublisher(
  pubsubs: PubSubRegistry,
  namespace: string,
  resiliency: Pick<ResiliencyPolicies, 'forComponentOutbound'>,
): DeadLetterPublisher {
  return async (message, signal) => {
    const entry = pubsubs.get(message.pubsubName);
    if (entry === undefined) throw new Error(`pubsub ${message.pubsubName} is not found`);
    if (!isPublishAllowed(entry.scopes, message.topic)) {
      throw new Error(`topic ${message.topic} is not allowed for publishing`);
    }
    const request = {
      topic: brokerTopic(entry, namespace, message.topic),
      data: message.data,
      metadata: message.metadata,
      ...(message.contentType === undefined ? {} : { contentType: message.contentType }),
    };
    const runner = resiliency.forComponentOutbound(message.pubsubName, 'pubsub');
    await runner.run((attempt) => entry.pubsub.publish(request, attempt), { signal });
  };
}
