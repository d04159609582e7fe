import { delay } from '../../kernel/abort.js';
import type { Logger } from '../../kernel/logger.js';
import { errorText } from '../../kernel/tapr-error.js';
import type { PubSubHandler, PubSubSubscription } from '../contracts/pubsub.js';
import type { IncomingMessage, MqttConnection } from './mqtt3-connection.js';
import type { TopicFilter } from './mqtt3-topic-filter.js';

/**
 * When a refused message is handed to the handler again: after 500 ms, doubling up to 30 s.
 * MQTT has no negative acknowledgement; a broker resends an unacknowledged message only when
 * the session reconnects, so the component redelivers it itself while keeping it unacknowledged.
 */
export const MQTT_REDELIVERY = { initialMs: 500, maxMs: 30_000 } as const;

/** The wait before redelivery attempt `attempt` (1 for the first redelivery). */
export function redeliveryDelay(attempt: number): number {
  return Math.min(MQTT_REDELIVERY.maxMs, MQTT_REDELIVERY.initialMs * 2 ** (attempt - 1));
}

/** What a subscription needs from its component. */
export interface MqttSubscriptionParams {
  readonly filter: TopicFilter;
  readonly connection: MqttConnection;
  readonly handler: PubSubHandler;
  readonly logger: Logger;
  /**
   * Called once when the subscription closed, with the messages it took but never had handled
   * successfully: they are still unacknowledged, so the component keeps them for a later
   * subscription (the broker resends them when the session reconnects anyway).
   */
  readonly onClosed: (
    subscription: MqttSubscription,
    unhandled: IncomingMessage[],
  ) => Promise<void>;
}

/**
 * One topic filter's subscription. Every message it accepts goes to the handler at once (as
 * Dapr's component handles messages concurrently; the broker's in-flight window bounds how many
 * QoS 1 messages are out); it is acknowledged after the handler resolved and handed to the
 * handler again after `redeliveryDelay` when it rejected, until it succeeds.
 */
export class MqttSubscription implements PubSubSubscription {
  readonly filter: TopicFilter;
  readonly #params: MqttSubscriptionParams;
  readonly #stop = new AbortController();
  readonly #inflight = new Set<Promise<void>>();
  readonly #unhandled: IncomingMessage[] = [];
  #closing: Promise<void> | undefined;

  constructor(params: MqttSubscriptionParams) {
    this.filter = params.filter;
    this.#params = params;
  }

  /** Takes a message for the handler; false once closing (the caller keeps it). */
  accept(message: IncomingMessage): boolean {
    if (this.#stop.signal.aborted) return false;
    const work = this.#deliver(message);
    this.#inflight.add(work);
    void work.finally(() => this.#inflight.delete(work));
    return true;
  }

  /** Stops taking messages, waits for handler calls in flight, then reports what stays unhandled. */
  close(): Promise<void> {
    this.#closing ??= this.#shutdown();
    return this.#closing;
  }

  async #shutdown(): Promise<void> {
    this.#stop.abort(new Error('mqtt pub/sub: subscription closed'));
    while (this.#inflight.size > 0) await Promise.allSettled([...this.#inflight]);
    await this.#params.onClosed(this, this.#unhandled.splice(0));
  }

  async #deliver(message: IncomingMessage): Promise<void> {
    const { connection, handler, logger } = this.#params;
    for (let attempt = 1; ; attempt++) {
      // The broker resends it on the resumed session; this copy would be a duplicate.
      if (connection.superseded(message)) return;
      try {
        await handler({
          topic: message.topic,
          data: message.payload,
          metadata: { retained: String(message.retained) },
        });
        connection.ack(message);
        return;
      } catch (error) {
        logger.error(`mqtt pub/sub: failed processing message on ${message.topic}`, {
          messageId: message.messageId,
          attempt,
          error: errorText(error),
        });
      }
      if (this.#stop.signal.aborted) break;
      try {
        await delay(redeliveryDelay(attempt), this.#stop.signal);
      } catch {
        break;
      }
    }
    if (!connection.superseded(message)) this.#unhandled.push(message);
  }
}
