// The subscribe side of the pub/sub block: which subscriptions exist (declarative, the app's
// own, streaming), starting them on their components once the app is ready, and stopping
// them with a drain at shutdown. Dapr's counterpart is pkg/runtime/processor/subscriber.
import { delay, errorText, type Logger } from '../../../kernel/index.js';
import type { PolicyRunner } from '../../../resiliency/index.js';
import type { SubscriptionResource } from '../../../resources/types.js';
import { streamPubsubNotFound } from '../pubsub-errors.js';
import type { PubSubRegistry } from '../pubsub-types.js';
import { isSubscribeAllowed } from '../topic-scopes.js';
import { declarativeSpec, mergeSubscriptions } from './declarative.js';
import type { DeadLetterPublisher } from './delivery-context.js';
import { InvalidSubscriptionListError, type SubscriberAppChannel } from './delivery-port.js';
import { EventStream } from './event-stream.js';
import { RouteCompileError, RouteTable } from './route-table.js';
import { RunningSubscription, type RunningSubscriptionOptions } from './running-subscription.js';
import type { ActiveSubscription, SubscriptionSpec } from './subscription-types.js';

/** A declarative subscription that cannot start: names the resource, its file and the rule. */
export class SubscriptionConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SubscriptionConfigError';
  }
}

/** What the subscriber is built from; the runtime provides it. */
export interface SubscriberOptions {
  readonly appId: string;
  readonly namespace: string;
  readonly pubsubs: PubSubRegistry;
  /** The Subscription resources loaded for this app (scopes already applied). */
  readonly declarative: readonly SubscriptionResource[];
  /** The inbound policy of a component (`targets.components.<name>.inbound`). */
  readonly inboundPolicy: (pubsubName: string) => PolicyRunner;
  /** Retries around asking the app for its subscriptions (`DaprBuiltInInitializationRetries`). */
  readonly initRetries: PolicyRunner;
  readonly deadLetters: DeadLetterPublisher;
  readonly logger: Logger;
}

/** The opening message of a streaming subscription. */
export interface StreamRequest {
  readonly pubsubName: string;
  readonly topic: string;
  readonly metadata: Readonly<Record<string, string>>;
  readonly deadLetterTopic?: string;
}

/** A live streaming subscription: its events, and how to end it. */
export interface StreamSubscription {
  readonly stream: EventStream;
  /** Unsubscribes; deliveries still waiting for an answer are redelivered later. */
  close(): Promise<void>;
}

// How long stopping the app's subscriptions (app unhealthy) may drain, as Dapr's Stop bounds it.
const STOP_DRAIN_MS = 30_000;
// Retry pacing when a component refuses a subscription (Dapr retries with exponential backoff).
const RESUBSCRIBE_FIRST_MS = 500;
const RESUBSCRIBE_MAX_MS = 30_000;

/** Runs every subscription of one sidecar. */
export class Subscriber {
  readonly #options: SubscriberOptions;
  readonly #declarative: readonly SubscriptionSpec[];
  readonly #routes = new WeakMap<SubscriptionSpec, RouteTable>();
  readonly #stop = new AbortController();
  readonly #app: RunningSubscription[] = [];
  readonly #streams = new Map<RunningSubscription, EventStream>();
  #programmatic: SubscriptionSpec[] | undefined;
  #appActive = false;
  #closed = false;

  /** Compiles every declarative rule; throws `SubscriptionConfigError` naming a bad one. */
  constructor(options: SubscriberOptions) {
    this.#options = options;
    this.#declarative = options.declarative.map((resource) => {
      const spec = declarativeSpec(resource);
      try {
        this.#routes.set(spec, new RouteTable(spec.rules));
      } catch (error) {
        if (!(error instanceof RouteCompileError)) throw error;
        throw new SubscriptionConfigError(
          `${resource.source.file}: Subscription "${resource.name}": ${error.message}`,
        );
      }
      return spec;
    });
  }

  /** Every known subscription, as the metadata API lists them. */
  list(): ActiveSubscription[] {
    const merged = mergeSubscriptions(this.#declarative, this.#programmatic ?? []);
    const streams = [...this.#streams.keys()].map((running) => running.spec);
    return [...merged, ...streams].map((spec) => ({
      type: spec.type,
      pubsubName: spec.pubsubName,
      topic: spec.topic,
      metadata: spec.metadata,
      rules: spec.rules,
      deadLetterTopic: spec.deadLetterTopic ?? '',
    }));
  }

  /**
   * Starts the app's subscriptions: asks the app for its own (once per sidecar), merges them
   * with the declarative ones and subscribes to each topic. Problems with one subscription
   * are logged and do not stop the others.
   */
  async startApp(channel: SubscriberAppChannel): Promise<void> {
    if (this.#appActive || this.#closed) return;
    this.#appActive = true;
    if (this.#programmatic === undefined && this.#options.pubsubs.size > 0) {
      this.#programmatic = await this.#askApp(channel);
    }
    // Stopped (or closed) while the app was being asked.
    if (!this.#appActive) return;
    const specs = mergeSubscriptions(this.#declarative, this.#programmatic ?? []);
    await Promise.all(specs.map((spec) => this.#startAppSubscription(spec, channel)));
    this.#options.logger.info('App subscriptions started', {
      topics: this.#app.map((running) => `${running.spec.pubsubName}/${running.spec.topic}`),
    });
  }

  /** Stops the app's subscriptions (the app turned unhealthy); `startApp` resumes them. */
  async stopApp(): Promise<void> {
    if (!this.#appActive) return;
    this.#appActive = false;
    const running = this.#app.splice(0);
    await Promise.all(running.map((subscription) => subscription.close(STOP_DRAIN_MS)));
    this.#options.logger.info('App subscriptions stopped');
  }

  /**
   * Opens a streaming subscription. Throws ERR_PUBSUB_NOT_FOUND for an unknown component and
   * an error when the app may not subscribe to the topic or the component refuses.
   */
  async openStream(request: StreamRequest, signal: AbortSignal): Promise<StreamSubscription> {
    if (this.#closed) throw new Error('subscriber is closed');
    const entry = this.#options.pubsubs.get(request.pubsubName);
    if (entry === undefined) throw streamPubsubNotFound(request.pubsubName);
    const spec: SubscriptionSpec = {
      type: 'STREAMING',
      pubsubName: request.pubsubName,
      topic: request.topic,
      metadata: request.metadata,
      // Dapr gives every streaming subscription the single route `/`.
      rules: [{ match: '', path: '/' }],
      ...(request.deadLetterTopic ? { deadLetterTopic: request.deadLetterTopic } : {}),
    };
    if (!isSubscribeAllowed(entry.scopes, spec.topic)) {
      throw new Error(
        `failed to create subscription for ${spec.pubsubName}: subscription to topic '${spec.topic}' on pubsub '${spec.pubsubName}' is not allowed`,
      );
    }
    const stream = new EventStream();
    const running = this.#running(spec, new RouteTable(spec.rules), stream);
    await running.start(signal);
    if (this.#closed) {
      await running.close(0);
      throw new Error('subscriber is closed');
    }
    this.#streams.set(running, stream);
    this.#options.logger.info(
      `Subscribing to pubsub '${spec.pubsubName}' topic '${spec.topic}' (streaming)`,
    );
    return {
      stream,
      close: async () => {
        if (!this.#streams.delete(running)) return;
        stream.close();
        running.cancel();
        await running.close(0);
        this.#options.logger.info(
          `Unsubscribed from pubsub '${spec.pubsubName}' topic '${spec.topic}'`,
        );
      },
    };
  }

  /**
   * Stops every subscription: no new messages are taken, deliveries in flight get `graceMs`
   * to finish, then they are cancelled (and redelivered by their brokers later).
   */
  async close(graceMs: number): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#appActive = false;
    this.#stop.abort(new Error('the subscriber is closing'));
    // Streams end at once (their clients answer nothing more); app deliveries may drain.
    for (const [subscription, stream] of this.#streams) {
      stream.close();
      subscription.cancel();
    }
    const running = [...this.#app.splice(0), ...this.#streams.keys()];
    this.#streams.clear();
    await Promise.all(running.map((subscription) => subscription.close(graceMs)));
  }

  async #askApp(channel: SubscriberAppChannel): Promise<SubscriptionSpec[]> {
    const { logger, appId } = this.#options;
    let listed: SubscriptionSpec[];
    try {
      listed = await this.#options.initRetries.run(
        (signal) => channel.listSubscriptions(appId, signal),
        {
          signal: this.#stop.signal,
          classify: (result) =>
            result.ok
              ? 'success'
              : result.error instanceof InvalidSubscriptionListError
                ? 'fail'
                : 'retry',
        },
      );
    } catch (error) {
      logger.error(`error getting topic list from app: ${errorText(error)}`);
      return [];
    }
    const usable: SubscriptionSpec[] = [];
    const topics = new Map<string, string[]>();
    for (const spec of listed) {
      if (spec.rules.length === 0) {
        logger.warn(`topic ${spec.topic} has an empty routes. removing from subscriptions list`);
        continue;
      }
      try {
        this.#routes.set(spec, new RouteTable(spec.rules));
      } catch (error) {
        // Dapr refuses the whole list; Tapr drops only the subscription with the bad rule.
        logger.error(
          `the app's subscription to topic ${spec.topic} on pubsub ${spec.pubsubName} is ignored: ${errorText(error)}`,
        );
        continue;
      }
      usable.push(spec);
      topics.set(spec.pubsubName, [...(topics.get(spec.pubsubName) ?? []), spec.topic]);
    }
    for (const [pubsubName, names] of topics) {
      logger.info(
        `app is subscribed to the following topics: [${names.join(' ')}] through pubsub=${pubsubName}`,
      );
    }
    return usable;
  }

  async #startAppSubscription(
    spec: SubscriptionSpec,
    channel: SubscriberAppChannel,
  ): Promise<void> {
    const { logger } = this.#options;
    if (!this.#appActive) return;
    const entry = this.#options.pubsubs.get(spec.pubsubName);
    if (entry === undefined) {
      logger.warn(
        `subscription to topic ${spec.topic} names pubsub ${spec.pubsubName}, which is not loaded`,
      );
      return;
    }
    if (!isSubscribeAllowed(entry.scopes, spec.topic)) {
      logger.warn(
        `subscription to topic '${spec.topic}' on pubsub '${spec.pubsubName}' is not allowed for app ${this.#options.appId}`,
      );
      return;
    }
    const routes = this.#routes.get(spec) ?? new RouteTable(spec.rules);
    const running = this.#running(spec, routes, channel);
    this.#app.push(running);
    if (await this.#tryStart(running, RESUBSCRIBE_FIRST_MS)) return;
    // Dapr keeps retrying a refused subscription in the background until it is stopped.
    void this.#retryStart(running);
  }

  async #tryStart(running: RunningSubscription, retryInMs: number): Promise<boolean> {
    const { spec } = running;
    try {
      await running.start(this.#stop.signal);
      this.#options.logger.debug(`subscribed to topic ${spec.topic} on pubsub ${spec.pubsubName}`);
      return true;
    } catch (error) {
      if (!running.closing && !this.#stop.signal.aborted) {
        this.#options.logger.error(
          `failed to subscribe to topic ${spec.topic} on pubsub ${spec.pubsubName}; retrying in ${retryInMs}ms`,
          { error: errorText(error) },
        );
      }
      return false;
    }
  }

  async #retryStart(running: RunningSubscription): Promise<void> {
    for (let wait = RESUBSCRIBE_FIRST_MS; ; wait = Math.min(wait * 2, RESUBSCRIBE_MAX_MS)) {
      try {
        await delay(wait, this.#stop.signal);
      } catch {
        return;
      }
      if (running.closing) return;
      if (await this.#tryStart(running, Math.min(wait * 2, RESUBSCRIBE_MAX_MS))) {
        this.#options.logger.info(
          `Successfully started subscription after retry for pubsub ${running.spec.pubsubName}, topic ${running.spec.topic}`,
        );
        return;
      }
    }
  }

  #running(
    spec: SubscriptionSpec,
    routes: RouteTable,
    target: RunningSubscriptionOptions['target'],
  ): RunningSubscription {
    const entry = this.#options.pubsubs.get(spec.pubsubName)!;
    return new RunningSubscription({
      spec,
      routes,
      entry,
      namespace: this.#options.namespace,
      target,
      policy: this.#options.inboundPolicy(spec.pubsubName),
      deadLetters: this.#options.deadLetters,
      logger: this.#options.logger,
    });
  }
}
