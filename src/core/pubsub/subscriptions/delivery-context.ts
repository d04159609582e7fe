import type { MetadataRecord } from '../../../components/contracts/component.js';
import type { Logger } from '../../../kernel/logger.js';
import { errorText } from '../../../kernel/tapr-error.js';
import type { PolicyRunner } from '../../../resiliency/index.js';
import type { RouteTable } from './route-table.js';
import type { SubscriptionSpec } from './subscription-types.js';

/** A message to put on a dead-letter topic: the original bytes, unchanged. */
export interface DeadLetterMessage {
  readonly pubsubName: string;
  readonly topic: string;
  readonly data: Uint8Array;
  readonly contentType?: string;
  readonly metadata: MetadataRecord;
}

/**
 * Publishes to a dead-letter topic on the same component, without CloudEvent wrapping, under
 * the component's outbound policy and this app's publishing scopes (Dapr's adapter publish).
 */
export type DeadLetterPublisher = (
  message: DeadLetterMessage,
  signal: AbortSignal,
) => Promise<void>;

/** What a running subscription's message handlers share. */
export interface DeliveryContext {
  readonly spec: SubscriptionSpec;
  readonly routes: RouteTable;
  /** The subscription's `rawPayload` metadata, or why it is unreadable. */
  readonly rawPayload: boolean | Error;
  /** The topic the app subscribed to, for a topic as the broker names it (namespace removed). */
  readonly appTopic: (brokerTopic: string) => string;
  /** The component's inbound policy (`targets.components.<name>.inbound`). */
  readonly policy: PolicyRunner;
  readonly deadLetters: DeadLetterPublisher;
  readonly logger: Logger;
  /** Aborts deliveries still running when shutdown's grace period is over. */
  readonly signal: AbortSignal;
  /** True once the subscription is stopping: failures are then redelivered, not dead-lettered. */
  readonly closing: () => boolean;
}

/** How long a dead-letter publish may take at most (Dapr's `deadLetterPublishTimeout`). */
export const DEAD_LETTER_TIMEOUT_MS = 30_000;

/**
 * Publishes `message` to the subscription's dead-letter topic; resolves true when it was
 * accepted, false when there is no such topic, it is shutting down, or the publish failed.
 */
export async function sendToDeadLetter(
  context: DeliveryContext,
  message: Omit<DeadLetterMessage, 'pubsubName' | 'topic'>,
): Promise<boolean> {
  const topic = context.spec.deadLetterTopic;
  if (topic === undefined || topic === '') return false;
  // Skipped while stopping, as Dapr skips it once the runtime's context is cancelled.
  if (context.signal.aborted) return false;
  // Its own deadline: the delivery's time may already have been spent by the inbound policy.
  const signal = AbortSignal.any([context.signal, AbortSignal.timeout(DEAD_LETTER_TIMEOUT_MS)]);
  try {
    await context.deadLetters({ ...message, pubsubName: context.spec.pubsubName, topic }, signal);
    return true;
  } catch (error) {
    context.logger.error('error sending message to dead letter', {
      topic: context.spec.topic,
      deadLetterTopic: topic,
      error: errorText(error),
    });
    return false;
  }
}
