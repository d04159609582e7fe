import { randomUUID } from 'node:crypto';
import type { Channel, ChannelModel, ConsumeMessage } from 'amqplib';
import { delay } from '../../kernel/abort.js';
import type { Logger } from '../../kernel/logger.js';
import { errorText } from '../../kernel/tapr-error.js';
import type { PubSubHandler, PubSubSubscription } from '../contracts/pubsub.js';
import type { RabbitmqOptions } from './rabbitmq.metadata.js';
import type { RabbitConnection } from './rabbitmq-connection.js';
import { deliveredMetadata } from './rabbitmq-message.js';
import { declareSubscription, type SubscriptionTopology } from './rabbitmq-topology.js';

/** AMQP 0-9-1 limits consumer tags to a short string of 255 bytes. */
const MAX_CONSUMER_TAG = 255;

/**
 * A unique consumer tag `<queue>-<uuid>`, cut from the left when too long so the unique part
 * stays (as Dapr does, so a re-subscription never reuses a tag).
 */
export function consumerTagFor(queue: string): string {
  const tag = `${queue}-${randomUUID()}`;
  const bytes = Buffer.from(tag, 'utf8');
  if (bytes.byteLength <= MAX_CONSUMER_TAG) return tag;
  // Cutting bytes could split a character; drop any partial one left at the start.
  return bytes
    .subarray(bytes.byteLength - MAX_CONSUMER_TAG)
    .toString('utf8')
    .replace(/^\uFFFD+/, '');
}

/** What a subscription needs from its component. */
export interface SubscriptionParams {
  readonly connection: RabbitConnection;
  readonly options: RabbitmqOptions;
  readonly topology: SubscriptionTopology;
  readonly handler: PubSubHandler;
  readonly logger: Logger;
  /** Called once the subscription has closed, so the component forgets it. */
  readonly onClosed: (subscription: RabbitSubscription) => void;
}

/** The channel and consumer of the subscription's current attempt. */
interface Consumer {
  readonly channel: Channel;
  readonly tag: string;
  /** False once the channel closed: its unacknowledged deliveries are back on the broker. */
  live: boolean;
}

/**
 * One topic subscription: its own channel (so `prefetchCount` and acknowledgements are its own
 * and a channel error elsewhere cannot stop it) consuming the group's queue. A message is acked
 * after the handler resolved and nacked with `requeueInFailure` after it rejected; a lost channel
 * or connection is re-established, declarations included, every `reconnectWaitSeconds`.
 */
export class RabbitSubscription implements PubSubSubscription {
  readonly #params: SubscriptionParams;
  readonly #stop = new AbortController();
  readonly #inflight = new Set<Promise<void>>();
  #consumer: Consumer | undefined;
  /** The end of the chain of deliveries in `single` concurrency mode. */
  #serial: Promise<void> = Promise.resolve();
  #recovering: Promise<void> | undefined;
  #closing: Promise<void> | undefined;

  private constructor(params: SubscriptionParams) {
    this.#params = params;
  }

  /**
   * Declares the topology and starts consuming; resolves once the broker registered the
   * consumer. Waits for a reconnect in progress; a broker error (bad arguments) rejects.
   */
  static async start(params: SubscriptionParams, signal: AbortSignal): Promise<RabbitSubscription> {
    const subscription = new RabbitSubscription(params);
    const limit = AbortSignal.any([signal, subscription.#stop.signal]);
    try {
      const model = await params.connection.ready(limit);
      await subscription.#consume(model);
      limit.throwIfAborted();
    } catch (error) {
      await subscription.close();
      throw error;
    }
    return subscription;
  }

  /** Stops intake, lets in-flight handlers settle and ack or nack, then closes the channel. */
  close(): Promise<void> {
    this.#closing ??= this.#shutdown();
    return this.#closing;
  }

  async #shutdown(): Promise<void> {
    this.#stop.abort(new Error('rabbitmq pub/sub: subscription closed'));
    const consumer = this.#consumer;
    if (consumer) {
      try {
        await consumer.channel.cancel(consumer.tag);
      } catch {
        // The channel is gone already; the broker dropped the consumer with it.
      }
    }
    await this.#settled();
    await this.#recovering?.catch(() => undefined);
    this.#consumer = undefined;
    if (consumer) await consumer.channel.close().catch(() => undefined);
    this.#params.onClosed(this);
  }

  /** Resolves when the serial chain and every parallel handler call have settled. */
  async #settled(): Promise<void> {
    while (this.#inflight.size > 0) await Promise.allSettled([...this.#inflight]);
  }

  async #consume(model: ChannelModel): Promise<void> {
    const { options, topology, logger } = this.#params;
    const channel = await model.createChannel();
    channel.on('error', (error: unknown) => {
      logger.warn('rabbitmq pub/sub: subscription channel error', {
        queue: topology.queue,
        error: errorText(error),
      });
    });
    try {
      await declareSubscription(channel, options, topology);
      if (options.prefetchCount > 0) await channel.prefetch(options.prefetchCount, false);
      const tag = consumerTagFor(topology.queue);
      const consumer: Consumer = { channel, tag, live: true };
      channel.on('close', () => this.#lost(consumer));
      // Current before the consume-ok: deliveries and a close may follow it in the same read.
      this.#consumer = consumer;
      try {
        await channel.consume(topology.queue, (message) => this.#deliver(consumer, message), {
          consumerTag: tag,
          noAck: options.autoAck,
        });
      } catch (error) {
        consumer.live = false;
        if (this.#consumer === consumer) this.#consumer = undefined;
        throw error;
      }
      logger.debug('rabbitmq pub/sub: consuming', { queue: topology.queue, consumerTag: tag });
    } catch (error) {
      await channel.close().catch(() => undefined);
      throw new Error(
        `rabbitmq pub/sub: subscribing to topic ${topology.topic} (queue ${topology.queue}) failed: ${errorText(error)}`,
        { cause: error },
      );
    }
  }

  /** A delivery, or `null` when the broker cancelled the consumer (its queue was deleted). */
  #deliver(consumer: Consumer, message: ConsumeMessage | null): void {
    if (message === null) {
      this.#params.logger.warn('rabbitmq pub/sub: the broker cancelled the consumer', {
        queue: this.#params.topology.queue,
      });
      // Closing the channel starts the recovery, which declares the queue again.
      consumer.channel.close().catch(() => undefined);
      return;
    }
    let work: Promise<void>;
    if (this.#params.options.concurrencyMode === 'single') {
      work = this.#serial.then(() => this.#handle(consumer, message));
      this.#serial = work;
    } else {
      work = this.#handle(consumer, message);
    }
    this.#inflight.add(work);
    void work.finally(() => this.#inflight.delete(work));
  }

  async #handle(consumer: Consumer, message: ConsumeMessage): Promise<void> {
    const { options, topology, handler, logger } = this.#params;
    // Queued behind a delivery (single mode) when the channel closed: the broker requeued it
    // already, so handing it over now would only make a duplicate.
    if (!consumer.live) return;
    if (this.#stop.signal.aborted) {
      // Fetched but never handed over: give it back for another consumer.
      this.#settle(consumer, message, false, true);
      return;
    }
    let ok = true;
    try {
      await handler({
        topic: topology.topic,
        data: message.content,
        metadata: deliveredMetadata(message, options.publishMessagePropertiesToMetadata),
      });
    } catch (error) {
      ok = false;
      logger.debug('rabbitmq pub/sub: handler failed', {
        topic: topology.topic,
        requeue: options.requeueInFailure,
        error: errorText(error),
      });
    }
    this.#settle(consumer, message, ok, options.requeueInFailure);
  }

  #settle(consumer: Consumer, message: ConsumeMessage, ok: boolean, requeue: boolean): void {
    if (this.#params.options.autoAck) return;
    try {
      if (ok) consumer.channel.ack(message);
      else consumer.channel.nack(message, false, requeue);
    } catch (error) {
      // The channel closed under the handler; the broker redelivers the message.
      this.#params.logger.debug('rabbitmq pub/sub: could not settle a delivery', {
        error: errorText(error),
      });
    }
  }

  /** The consumer's channel closed: unless closing, subscribe again once the broker is back. */
  #lost(consumer: Consumer): void {
    consumer.live = false;
    if (this.#consumer !== consumer) return;
    this.#consumer = undefined;
    if (this.#stop.signal.aborted) return;
    this.#params.logger.warn('rabbitmq pub/sub: subscription channel closed; resubscribing', {
      queue: this.#params.topology.queue,
    });
    this.#recovering ??= this.#recover().finally(() => {
      this.#recovering = undefined;
    });
  }

  async #recover(): Promise<void> {
    const signal = this.#stop.signal;
    const waitMs = this.#params.options.reconnectWaitSeconds;
    while (!signal.aborted) {
      try {
        await delay(waitMs, signal);
        const model = await this.#params.connection.ready(signal);
        await this.#consume(model);
        if (signal.aborted) {
          const consumer = this.#consumer;
          this.#consumer = undefined;
          await consumer?.channel.close().catch(() => undefined);
        } else {
          this.#params.logger.info('rabbitmq pub/sub: resubscribed', {
            queue: this.#params.topology.queue,
          });
        }
        return;
      } catch (error) {
        if (signal.aborted) return;
        this.#params.logger.warn('rabbitmq pub/sub: resubscribing failed; retrying', {
          queue: this.#params.topology.queue,
          error: errorText(error),
        });
      }
    }
  }
}
