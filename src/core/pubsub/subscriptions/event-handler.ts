// One subscription's message handler: reads the event, drops expired ones, routes, delivers
// under the inbound policy and turns the outcome into an ack (resolve) or a redelivery
// (reject), with the dead-letter topic in between, as Dapr's subscription handler does.

import type { PubSubHandler, PubSubMessage } from '../../../components/contracts/pubsub.js';
import { errorText } from '../../../kernel/tapr-error.js';
import { isCloudEventExpired } from '../cloudevent-read.js';
import { type DeliveryContext, sendToDeadLetter } from './delivery-context.js';
import type { DeliveryOutcome, SubscriberAppChannel } from './delivery-port.js';
import { readIncomingEvent } from './incoming-event.js';
import { classifyDelivery, retryOutcome } from './outcome.js';

/** Whatever receives single events: the app channel, or a streaming subscription. */
export type EventDeliverer = Pick<SubscriberAppChannel, 'deliver'>;

/** A message the runtime could not deliver; rejecting with it makes the broker redeliver. */
export class DeliveryFailedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DeliveryFailedError';
  }
}

/** Builds the component handler delivering each message of a subscription to `target`. */
export function eventHandler(context: DeliveryContext, target: EventDeliverer): PubSubHandler {
  return (message) => handleMessage(context, target, message);
}

async function handleMessage(
  context: DeliveryContext,
  target: EventDeliverer,
  message: PubSubMessage,
): Promise<void> {
  const { spec, logger } = context;
  const topic = context.appTopic(message.topic);
  const original = { data: message.data, metadata: message.metadata };
  const withType =
    message.contentType === undefined
      ? original
      : { ...original, contentType: message.contentType };
  const failed = async (reason: string): Promise<void> => {
    // A dead-letter topic takes what cannot be delivered; without one the broker redelivers.
    if (!context.closing() && (await sendToDeadLetter(context, withType))) return;
    throw new DeliveryFailedError(reason);
  };

  if (context.rawPayload instanceof Error) {
    logger.error('error deserializing pubsub metadata', { error: context.rawPayload.message });
    return failed(context.rawPayload.message);
  }
  const incoming = readIncomingEvent(message, {
    pubsubName: spec.pubsubName,
    topic,
    rawPayload: context.rawPayload,
  });
  if (!incoming.ok) {
    logger.error(
      `error deserializing cloud event in pubsub ${spec.pubsubName} and topic ${topic}`,
      {
        error: incoming.reason,
      },
    );
    return failed(incoming.reason);
  }
  const { cloudEvent } = incoming;
  if (isCloudEventExpired(cloudEvent)) {
    logger.warn(
      `dropping expired pub/sub event ${String(cloudEvent.id)} as of ${String(cloudEvent.expiration)}`,
    );
    await sendToDeadLetter(context, withType);
    return;
  }
  let path: string | undefined;
  try {
    path = context.routes.select(cloudEvent);
  } catch (error) {
    const reason = errorText(error);
    logger.error(
      `error finding matching route for event ${String(cloudEvent.id)} in pubsub ${spec.pubsubName} and topic ${topic}`,
      { error: reason },
    );
    return failed(reason);
  }
  if (path === undefined) {
    // No rule matched: the event is not for this app; acked (and dead-lettered if set).
    logger.debug(
      `no matching route for event ${String(cloudEvent.id)} in pubsub ${spec.pubsubName} and topic ${topic}; skipping`,
    );
    await sendToDeadLetter(context, withType);
    return;
  }

  const event = {
    cloudEvent,
    body: incoming.body,
    pubsubName: spec.pubsubName,
    topic,
    path,
    metadata: incoming.metadata,
  };
  let outcome: DeliveryOutcome;
  try {
    outcome = await context.policy.run(
      async (signal) => {
        try {
          return await target.deliver(event, signal);
        } catch (error) {
          if (signal.aborted) throw error;
          return retryOutcome(errorText(error));
        }
      },
      { signal: context.signal, classify: classifyDelivery },
    );
  } catch (error) {
    // A timeout, an open circuit breaker or the shutdown deadline.
    outcome = retryOutcome(errorText(error));
  }
  switch (outcome.status) {
    case 'SUCCESS':
      return;
    case 'DROP':
      logger.warn(outcome.reason, { id: cloudEvent.id, topic });
      // Dapr redelivers a dropped message whose dead-letter publish failed.
      if (spec.deadLetterTopic && !(await sendToDeadLetter(context, withType))) {
        throw new DeliveryFailedError(`${outcome.reason}; the dead-letter publish failed`);
      }
      return;
    case 'RETRY':
      logger.warn(
        `retriable error while delivering pub/sub event ${String(cloudEvent.id)} to topic ${topic}`,
        {
          error: outcome.reason,
        },
      );
      return failed(outcome.reason);
  }
}
