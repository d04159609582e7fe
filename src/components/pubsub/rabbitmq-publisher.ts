import type { Channel, ChannelModel, ConfirmChannel } from 'amqplib';
import { delay } from '../../kernel/abort.js';
import type { Logger } from '../../kernel/logger.js';
import { errorText } from '../../kernel/tapr-error.js';
import type { RabbitmqOptions } from './rabbitmq.metadata.js';
import { NotConnectedError, type RabbitConnection } from './rabbitmq-connection.js';
import type { OutgoingMessage } from './rabbitmq-message.js';
import { declareTopicExchange } from './rabbitmq-topology.js';

/** Dapr's publish attempts before the error reaches the caller. */
const PUBLISH_ATTEMPTS = 3;
/** Dapr's wait between publish attempts that failed on an open connection. */
const PUBLISH_RETRY_WAIT_MS = 2000;

/** Time beyond `reconnectWaitSeconds` a publish waits for the reconnect (the dial itself). */
const RECONNECT_GRACE_MS = 5000;

/** The publishing channel and the exchanges already declared on its connection. */
interface PublishChannel {
  readonly model: ChannelModel;
  readonly channel: Channel | ConfirmChannel;
  readonly exchanges: Map<string, Promise<void>>;
  /** Resolves when the channel's write buffer drains; set while publishes are held back. */
  draining: Promise<void> | undefined;
  closed: boolean;
}

/**
 * Publishes on one channel of the component's connection (a confirm channel with
 * `publisherConfirm`), declaring each topic's exchange the first time it is used. Retries as
 * Dapr does: three attempts, waiting for the reconnect after a lost connection and two seconds
 * after other failures.
 */
export class RabbitPublisher {
  readonly #connection: RabbitConnection;
  readonly #options: RabbitmqOptions;
  readonly #logger: Logger;
  #current: PublishChannel | undefined;
  #opening: Promise<PublishChannel> | undefined;

  constructor(connection: RabbitConnection, options: RabbitmqOptions, logger: Logger) {
    this.#connection = connection;
    this.#options = options;
    this.#logger = logger;
  }

  /** Sends one message to the topic's exchange; with `publisherConfirm`, waits for the broker's ack. */
  async publish(
    topic: string,
    data: Uint8Array,
    message: OutgoingMessage,
    signal: AbortSignal,
  ): Promise<void> {
    const content = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
    for (let attempt = 1; ; attempt++) {
      signal.throwIfAborted();
      try {
        await this.#send(topic, content, message);
        return;
      } catch (error) {
        if (attempt >= PUBLISH_ATTEMPTS) {
          throw new Error(`rabbitmq pub/sub: publishing to ${topic} failed: ${errorText(error)}`, {
            cause: error,
          });
        }
        this.#logger.warn(`rabbitmq pub/sub: publishing attempt ${attempt} failed`, {
          topic,
          error: errorText(error),
        });
        await this.#pause(error, signal);
      }
    }
  }

  /** Closes the publishing channel; the connection is closed by its owner. */
  async close(): Promise<void> {
    const current = this.#current;
    this.#current = undefined;
    if (!current || current.closed) return;
    current.closed = true;
    await current.channel.close().catch(() => undefined);
  }

  async #send(topic: string, content: Buffer, message: OutgoingMessage): Promise<void> {
    const current = await this.#channel();
    await this.#exchange(current, topic);
    const { channel } = current;
    if (this.#options.publisherConfirm) {
      await new Promise<void>((resolve, reject) => {
        (channel as ConfirmChannel).publish(
          topic,
          message.routingKey,
          content,
          message.properties,
          (error: unknown) => {
            if (error) {
              reject(new Error(`did not receive confirmation of publishing: ${errorText(error)}`));
            } else resolve();
          },
        );
      });
      return;
    }
    if (!channel.publish(topic, message.routingKey, content, message.properties)) {
      // The message is buffered; wait until the socket drains before taking more (back-pressure).
      await this.#drained(current);
    }
  }

  /** One wait for the channel's `drain` (or `close`) shared by every publish that filled it. */
  #drained(current: PublishChannel): Promise<void> {
    current.draining ??= new Promise<void>((resolve) => {
      const { channel } = current;
      const done = (): void => {
        channel.off('drain', done);
        channel.off('close', done);
        current.draining = undefined;
        resolve();
      };
      channel.on('drain', done);
      channel.on('close', done);
    });
    return current.draining;
  }

  /** The open publishing channel of the current connection, opening one when needed. */
  #channel(): Promise<PublishChannel> {
    const model = this.#connection.current();
    if (!model) return Promise.reject(new NotConnectedError(this.#connection.where));
    const current = this.#current;
    if (current && !current.closed && current.model === model) return Promise.resolve(current);
    // Concurrent publishes share one opening, so the connection gets a single channel.
    this.#opening ??= this.#open(model).finally(() => {
      this.#opening = undefined;
    });
    return this.#opening;
  }

  async #open(model: ChannelModel): Promise<PublishChannel> {
    const channel = this.#options.publisherConfirm
      ? await model.createConfirmChannel()
      : await model.createChannel();
    const opened: PublishChannel = {
      model,
      channel,
      exchanges: new Map(),
      draining: undefined,
      closed: false,
    };
    channel.on('error', (error: unknown) => {
      this.#logger.warn('rabbitmq pub/sub: publishing channel error', { error: errorText(error) });
    });
    channel.on('close', () => {
      opened.closed = true;
      if (this.#current === opened) this.#current = undefined;
    });
    this.#current = opened;
    return opened;
  }

  /** Declares the topic's exchange once per channel; concurrent publishes share the declaration. */
  #exchange(current: PublishChannel, topic: string): Promise<void> {
    let declared = current.exchanges.get(topic);
    if (!declared) {
      declared = declareTopicExchange(current.channel, this.#options, topic);
      current.exchanges.set(topic, declared);
      declared.catch(() => current.exchanges.delete(topic));
    }
    return declared;
  }

  /** Waits before the next attempt: for the reconnect, or Dapr's fixed pause. */
  async #pause(error: unknown, signal: AbortSignal): Promise<void> {
    if (!this.#connection.current() || error instanceof NotConnectedError) {
      await this.#readyWithin(this.#options.reconnectWaitSeconds + RECONNECT_GRACE_MS, signal);
      return;
    }
    // A channel the broker closed (a vanished exchange) is replaced at once.
    if (this.#current === undefined) return;
    await delay(PUBLISH_RETRY_WAIT_MS, signal);
  }

  async #readyWithin(limitMs: number, signal: AbortSignal): Promise<void> {
    const limit = AbortSignal.any([signal, AbortSignal.timeout(Math.max(limitMs, 1))]);
    try {
      await this.#connection.ready(limit);
    } catch (error) {
      signal.throwIfAborted();
      if (!limit.aborted) throw error;
    }
  }
}
