import type { JetStreamClient, JetStreamManager, PubAck } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import type { Logger } from '../../kernel/logger.js';
import { errorText } from '../../kernel/tapr-error.js';
import { defineComponent } from '../contracts/component.js';
import type {
  PublishRequest,
  PubSub,
  PubSubHandler,
  PubSubSubscription,
  SubscribeRequest,
} from '../contracts/pubsub.js';
import { type JetStreamOptions, jetstreamMetadata } from './jetstream.metadata.js';
import { connectNats, type NatsDriver } from './jetstream-connection.js';
import { ensureConsumer } from './jetstream-consumer.js';
import { JetStreamSubscription } from './jetstream-subscription.js';

/**
 * `pubsub.jetstream`: Dapr's NATS JetStream pub/sub. Topics are subjects of a stream that must
 * exist already (`streamName`, or the stream whose subjects hold the topic); each subscription
 * is a push consumer filtered on its topic, durable when `durableName` is set and shared by the
 * instances of `queueGroupName`. As in Dapr, `consumerID` plays no part, and no feature is
 * declared (no native TTL, bulk publish or wildcard subscriptions).
 */
export const jetstreamPubSub = defineComponent({
  kind: 'pubsub',
  type: 'pubsub.jetstream',
  version: 'v1',
  features: [],
  metadataSchema: jetstreamMetadata,
  async create(options, context) {
    const transport = await import('@nats-io/transport-node');
    const { jetstream, jetstreamManager } = await import('@nats-io/jetstream');
    const driver: NatsDriver = transport;
    const nc = await connectNats(driver, options, context.signal);
    try {
      const jsOptions = {
        ...(options.domain === '' ? {} : { domain: options.domain }),
        ...(options.apiPrefix === '' ? {} : { apiPrefix: options.apiPrefix }),
      };
      // The manager checks that JetStream answers, so a server without it fails start-up.
      const jsm = await jetstreamManager(nc, jsOptions);
      const js = jetstream(nc, jsOptions);
      return new JetStreamPubSub(nc, js, jsm, options, context.logger, transport.createInbox);
    } catch (error) {
      await nc.close();
      throw new Error(`jetstream pub/sub: JetStream is not available: ${errorText(error)}`, {
        cause: error,
      });
    }
  },
});

class JetStreamPubSub implements PubSub {
  readonly #nc: NatsConnection;
  readonly #js: JetStreamClient;
  readonly #jsm: JetStreamManager;
  readonly #options: JetStreamOptions;
  readonly #logger: Logger;
  readonly #newInbox: () => string;
  readonly #subscriptions = new Set<JetStreamSubscription>();
  /** The topic each durable consumer (`stream/durable`) filters on in this instance. */
  readonly #durables = new Map<string, string>();
  #closing: Promise<void> | undefined;

  constructor(
    nc: NatsConnection,
    js: JetStreamClient,
    jsm: JetStreamManager,
    options: JetStreamOptions,
    logger: Logger,
    newInbox: () => string,
  ) {
    this.#nc = nc;
    this.#js = js;
    this.#jsm = jsm;
    this.#options = options;
    this.#logger = logger;
    this.#newInbox = newInbox;
  }

  /**
   * Publishes to the topic's subject and waits for the stream's acknowledgement. A CloudEvent's
   * `id` becomes the `Nats-Msg-Id`, so the stream drops a repeated publish, as in Dapr; a
   * dropped one is logged as a warning.
   */
  async publish(request: PublishRequest, signal: AbortSignal): Promise<void> {
    this.#assertOpen();
    signal.throwIfAborted();
    const msgID = cloudEventId(request.data);
    if (msgID === undefined) {
      this.#logger.debug('jetstream pub/sub: empty message ID, deduplication will not be possible');
    }
    let ack: PubAck;
    try {
      ack = await abortable(
        this.#js.publish(request.topic, request.data, msgID === undefined ? {} : { msgID }),
        signal,
      );
    } catch (error) {
      throw new Error(
        `jetstream pub/sub: publishing to ${request.topic} failed: ${errorText(error)}`,
        {
          cause: error,
        },
      );
    }
    if (ack.duplicate) {
      // The caller sees a success, yet the stream kept nothing new: say so, since a dead letter
      // (the same CloudEvent again) to a topic in the same stream is lost exactly this way.
      this.#logger.warn(
        `jetstream pub/sub: stream ${ack.stream} dropped the message published to ${request.topic} as a duplicate of Nats-Msg-Id ${msgID ?? ''} within its duplicate window`,
        { topic: request.topic, stream: ack.stream, msgID },
      );
    }
  }

  async subscribe(
    request: SubscribeRequest,
    handler: PubSubHandler,
    signal: AbortSignal,
  ): Promise<PubSubSubscription> {
    this.#assertOpen();
    const { topic } = request;
    const stream = await abortable(this.#streamOf(topic), signal);
    const durableKey = `${stream}/${this.#options.durableName}`;
    const claimed = this.#options.durableName !== '' ? this.#durables.get(durableKey) : undefined;
    if (claimed !== undefined && claimed !== topic) {
      // Dapr moves the one consumer to the new topic, silently ending the first subscription.
      throw new Error(
        `jetstream pub/sub: durable consumer ${this.#options.durableName} on stream ${stream} already consumes topic ${claimed}; a durable consumer filters one subject, so subscribe to ${topic} with another component (its own durableName) or without durableName`,
      );
    }
    if (this.#options.durableName !== '') this.#durables.set(durableKey, topic);
    try {
      const info = await abortable(
        ensureConsumer(this.#options, {
          jsm: this.#jsm,
          stream,
          topic,
          newInbox: this.#newInbox,
        }),
        signal,
      );
      const consumer = await this.#js.consumers.getPushConsumer(stream, info.name);
      const subscription = await JetStreamSubscription.start(
        {
          topic,
          consumer,
          options: this.#options,
          // The server fills in its default when `ackWait` is unset.
          ackWaitMs: (info.config.ack_wait ?? 0) / 1_000_000,
          handler,
          logger: this.#logger,
          onClosed: (closed) => {
            this.#subscriptions.delete(closed);
            if (this.#durables.get(durableKey) === topic) this.#durables.delete(durableKey);
          },
        },
        () => this.#nc.flush(),
      );
      this.#subscriptions.add(subscription);
      this.#logger.debug(
        `jetstream pub/sub: subscribed to subject ${topic}${this.#options.queueGroupName ? ` with queue group ${this.#options.queueGroupName}` : ''}`,
      );
      if (this.#closing) {
        await subscription.close();
        throw new Error('jetstream pub/sub: component is closed');
      }
      return subscription;
    } catch (error) {
      if (this.#durables.get(durableKey) === topic && claimed === undefined) {
        this.#durables.delete(durableKey);
      }
      throw new Error(`jetstream pub/sub: subscribing to ${topic} failed: ${errorText(error)}`, {
        cause: error,
      });
    }
  }

  /** Closes every subscription (handlers in flight settle), then drains the connection. */
  close(): Promise<void> {
    this.#closing ??= this.#shutdown();
    return this.#closing;
  }

  async #shutdown(): Promise<void> {
    await Promise.allSettled([...this.#subscriptions].map((subscription) => subscription.close()));
    try {
      await this.#nc.drain();
    } catch {
      await this.#nc.close();
    }
  }

  /** `streamName`, else the stream whose subjects hold the topic. */
  async #streamOf(topic: string): Promise<string> {
    if (this.#options.streamName !== '') return this.#options.streamName;
    try {
      return await this.#jsm.streams.find(topic);
    } catch (error) {
      throw new Error(
        `no stream holds subject ${topic} (${errorText(error)}); create one, or set streamName`,
        {
          cause: error,
        },
      );
    }
  }

  #assertOpen(): void {
    if (this.#closing) throw new Error('jetstream pub/sub: component is closed');
  }
}

/** The `id` of a CloudEvent in JSON, or undefined when the payload is not one. */
function cloudEventId(data: Uint8Array): string | undefined {
  // Only an object can be a CloudEvent; skip decoding anything else.
  let index = 0;
  while (
    index < data.length &&
    (data[index] === 0x20 || data[index] === 0x0a || data[index] === 0x0d || data[index] === 0x09)
  ) {
    index++;
  }
  if (data[index] !== 0x7b) return undefined;
  try {
    const parsed: unknown = JSON.parse(new TextDecoder().decode(data));
    if (typeof parsed !== 'object' || parsed === null) return undefined;
    const id = (parsed as { id?: unknown }).id;
    return typeof id === 'string' && id !== '' ? id : undefined;
  } catch {
    return undefined;
  }
}

/** Awaits `work`, rejecting with the signal's reason when it aborts first. */
async function abortable<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  signal.throwIfAborted();
  // A signal of its own: callers share one signal across many concurrent publishes, and
  // listeners on it would pile up past Node's leak warning.
  const own = AbortSignal.any([signal]);
  let onAbort: () => void = () => {};
  const aborted = new Promise<never>((_, reject) => {
    onAbort = () => reject(own.reason);
    own.addEventListener('abort', onAbort, { once: true });
  });
  try {
    return await Promise.race([work, aborted]);
  } finally {
    own.removeEventListener('abort', onAbort);
  }
}
