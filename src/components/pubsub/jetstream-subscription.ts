import type { ConsumerMessages, JsMsg, PushConsumer } from '@nats-io/jetstream';
import type { Logger } from '../../kernel/logger.js';
import { errorText } from '../../kernel/tapr-error.js';
import type { PubSubHandler, PubSubSubscription } from '../contracts/pubsub.js';
import type { JetStreamOptions } from './jetstream.metadata.js';

/** What a subscription needs from its component. */
export interface JetStreamSubscriptionParams {
  readonly topic: string;
  readonly consumer: PushConsumer;
  readonly options: JetStreamOptions;
  readonly handler: PubSubHandler;
  readonly logger: Logger;
  /** Called once the subscription has closed, so the component forgets it. */
  readonly onClosed: (subscription: JetStreamSubscription) => void;
}

/**
 * One topic's subscription on its push consumer. `concurrencyMode: single` (Dapr's default)
 * hands messages to the handler one after another, `parallel` all at once. A message is acked
 * after the handler resolved and nakked after it rejected, with `ackWait` as the nak's delay
 * when set, as Dapr's component does (`ackPolicy: none` settles nothing).
 */
export class JetStreamSubscription implements PubSubSubscription {
  readonly #params: JetStreamSubscriptionParams;
  readonly #inflight = new Set<Promise<void>>();
  #messages: ConsumerMessages | undefined;
  #serial: Promise<void> = Promise.resolve();
  #stopped = false;
  #closing: Promise<void> | undefined;

  private constructor(params: JetStreamSubscriptionParams) {
    this.#params = params;
  }

  /** Starts consuming; resolves once the server knows the subscription's interest. */
  static async start(
    params: JetStreamSubscriptionParams,
    flush: () => Promise<void>,
  ): Promise<JetStreamSubscription> {
    const subscription = new JetStreamSubscription(params);
    subscription.#messages = await params.consumer.consume({
      callback: (message) => subscription.#receive(message),
    });
    await flush();
    return subscription;
  }

  /** Stops intake, lets handlers in flight settle (and ack or nak), naks what was not handed over. */
  close(): Promise<void> {
    this.#closing ??= this.#shutdown();
    return this.#closing;
  }

  async #shutdown(): Promise<void> {
    this.#stopped = true;
    try {
      await this.#messages?.close();
    } catch (error) {
      this.#params.logger.warn('jetstream pub/sub: error while unsubscribing', {
        topic: this.#params.topic,
        error: errorText(error),
      });
    }
    while (this.#inflight.size > 0) await Promise.allSettled([...this.#inflight]);
    this.#params.onClosed(this);
  }

  /** The consumer's callback: must not throw, or the library stops the subscription. */
  #receive(message: JsMsg): void {
    let work: Promise<void>;
    if (this.#params.options.concurrencyMode === 'single') {
      work = this.#serial.then(() => this.#handle(message));
      this.#serial = work;
    } else {
      work = this.#handle(message);
    }
    this.#inflight.add(work);
    void work.finally(() => this.#inflight.delete(work));
  }

  async #handle(message: JsMsg): Promise<void> {
    const { topic, handler, logger, options } = this.#params;
    if (this.#stopped) {
      // Received but never handed over: back to the server for another subscriber.
      this.#settle(message, 'nak-now');
      return;
    }
    try {
      await handler({ topic, data: message.data, metadata: { Topic: message.subject } });
    } catch (error) {
      logger.error(
        `jetstream pub/sub: error processing message ${message.subject}/${message.seq}`,
        { error: errorText(error) },
      );
      this.#settle(message, options.ackWait > 0 ? 'nak-delayed' : 'nak-now');
      return;
    }
    this.#settle(message, 'ack');
  }

  #settle(message: JsMsg, how: 'ack' | 'nak-now' | 'nak-delayed'): void {
    const { options, logger } = this.#params;
    if (options.ackPolicy === 'none') return;
    try {
      if (how === 'ack') message.ack();
      else if (how === 'nak-delayed') message.nak(options.ackWait);
      else message.nak();
    } catch (error) {
      // The connection is gone; the server redelivers after ackWait.
      logger.warn(
        `jetstream pub/sub: error while settling message ${message.subject}/${message.seq}`,
        {
          error: errorText(error),
        },
      );
    }
  }
}
