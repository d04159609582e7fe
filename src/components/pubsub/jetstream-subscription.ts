import type { ConsumerMessages, JsMsg, PushConsumer } from '@nats-io/jetstream';
import type { Logger } from '../../kernel/logger.js';
import { errorText } from '../../kernel/tapr-error.js';
import type { PubSubHandler, PubSubSubscription } from '../contracts/pubsub.js';
import type { JetStreamOptions } from './jetstream.metadata.js';

/** The shortest interval between two reports that waiting messages are in progress. */
const KEEP_ALIVE_MIN_MS = 50;

/** What a subscription needs from its component. */
export interface JetStreamSubscriptionParams {
  readonly topic: string;
  readonly consumer: PushConsumer;
  readonly options: JetStreamOptions;
  readonly handler: PubSubHandler;
  readonly logger: Logger;
  /** The consumer's ack wait in milliseconds (the server's default when `ackWait` is unset). */
  readonly ackWaitMs: number;
  /** Called once the subscription has closed, so the component forgets it. */
  readonly onClosed: (subscription: JetStreamSubscription) => void;
}

/** A message held by the subscription: the newest copy the server sent, and whether it started. */
interface Held {
  latest: JsMsg;
  started: boolean;
}

/**
 * One topic's subscription on its push consumer. `concurrencyMode: single` (Dapr's default)
 * hands messages to the handler one after another, `parallel` all at once. A message is acked
 * after the handler resolved and nakked after it rejected, with `ackWait` as the nak's delay
 * when set, as Dapr's component does (`ackPolicy: none` settles nothing).
 *
 * Messages waiting their turn are reported as in progress (`working`) every third of the ack
 * wait, so the server does not redeliver them while they wait. A copy the server redelivers
 * while its message is still waiting or being handled here is folded into it (the newest copy
 * is the one settled), never handed to the handler a second time at once.
 */
export class JetStreamSubscription implements PubSubSubscription {
  readonly #params: JetStreamSubscriptionParams;
  readonly #inflight = new Set<Promise<void>>();
  /** Messages received and not yet settled, by stream sequence. */
  readonly #held = new Map<number, Held>();
  readonly #keepAlive: NodeJS.Timeout | undefined;
  #messages: ConsumerMessages | undefined;
  #serial: Promise<void> = Promise.resolve();
  #stopped = false;
  #closing: Promise<void> | undefined;

  private constructor(params: JetStreamSubscriptionParams) {
    this.#params = params;
    if (params.options.ackPolicy !== 'none' && params.ackWaitMs > 0) {
      const every = Math.max(KEEP_ALIVE_MIN_MS, Math.floor(params.ackWaitMs / 3));
      this.#keepAlive = setInterval(() => this.#reportWaiting(), every);
      // Never the reason the process stays up; close() clears it.
      this.#keepAlive.unref();
    }
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
    clearInterval(this.#keepAlive);
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
    const held = this.#held.get(message.seq);
    if (held !== undefined) {
      // A redelivery of a message still here: settling the newest copy settles both.
      held.latest = message;
      return;
    }
    const entry: Held = { latest: message, started: false };
    this.#held.set(message.seq, entry);
    let work: Promise<void>;
    if (this.#params.options.concurrencyMode === 'single') {
      work = this.#serial.then(() => this.#handle(message.seq, entry));
      this.#serial = work;
    } else {
      work = this.#handle(message.seq, entry);
    }
    this.#inflight.add(work);
    void work.finally(() => this.#inflight.delete(work));
  }

  async #handle(seq: number, entry: Held): Promise<void> {
    const { topic, handler, logger, options } = this.#params;
    entry.started = true;
    if (this.#stopped) {
      // Received but never handed over: back to the server for another subscriber.
      this.#finish(seq, entry, 'nak-now');
      return;
    }
    const message = entry.latest;
    try {
      await handler({ topic, data: message.data, metadata: { Topic: message.subject } });
    } catch (error) {
      logger.error(
        `jetstream pub/sub: error processing message ${message.subject}/${message.seq}`,
        { error: errorText(error) },
      );
      this.#finish(seq, entry, options.ackWait > 0 ? 'nak-delayed' : 'nak-now');
      return;
    }
    this.#finish(seq, entry, 'ack');
  }

  #finish(seq: number, entry: Held, how: 'ack' | 'nak-now' | 'nak-delayed'): void {
    this.#held.delete(seq);
    this.#settle(entry.latest, how);
  }

  /** Resets the ack wait of every message still waiting for the handler. */
  #reportWaiting(): void {
    for (const entry of this.#held.values()) {
      if (entry.started) continue;
      try {
        entry.latest.working();
      } catch {
        // The connection is gone; the server redelivers after ackWait, folded in on arrival.
      }
    }
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
