import type { PubSubHandler, PubSubSubscription } from '../../../components/contracts/pubsub.js';
import type { Logger } from '../../../kernel/logger.js';
import type { PolicyRunner } from '../../../resiliency/index.js';
import { brokerTopic, type PubSubEntry } from '../pubsub-types.js';
import { type BulkDeliverer, bulkHandler } from './bulk-handler.js';
import type { DeadLetterPublisher, DeliveryContext } from './delivery-context.js';
import { type EventDeliverer, eventHandler } from './event-handler.js';
import { rawPayloadOf } from './incoming-event.js';
import type { RouteTable } from './route-table.js';
import type { SubscriptionSpec } from './subscription-types.js';

/** Everything one subscription needs to run. */
export interface RunningSubscriptionOptions {
  readonly spec: SubscriptionSpec;
  readonly routes: RouteTable;
  readonly entry: PubSubEntry;
  readonly namespace: string;
  readonly target: EventDeliverer & Partial<BulkDeliverer>;
  readonly policy: PolicyRunner;
  readonly deadLetters: DeadLetterPublisher;
  readonly logger: Logger;
}

// Once a drain has run out of time, how long stuck handlers get to notice the cancellation.
const CANCEL_SETTLE_MS = 5_000;

/**
 * One subscription on its component: the handler (single or bulk), the component's
 * subscription, and the drain that stops it. Deliveries in flight when `close` is called may
 * finish within the drain time; after that they are cancelled and their messages redelivered.
 */
export class RunningSubscription {
  readonly spec: SubscriptionSpec;
  readonly #options: RunningSubscriptionOptions;
  readonly #cancel = new AbortController();
  readonly #handler: PubSubHandler;
  readonly #closeHandler: () => Promise<void>;
  /** A bulk subscription's batch size: the component must let that many messages through. */
  readonly #minInFlight: number | undefined;
  #subscription: PubSubSubscription | undefined;
  #closing = false;
  #closed: Promise<void> | undefined;

  constructor(options: RunningSubscriptionOptions) {
    this.spec = options.spec;
    this.#options = options;
    const { spec, entry, namespace } = options;
    const context: DeliveryContext = {
      spec,
      routes: options.routes,
      rawPayload: rawPayloadOf(spec.metadata),
      // Dapr removes the namespace from the topic before the app sees it.
      appTopic: (topic) => (entry.namespaceScoped ? topic.replace(namespace, '') : topic),
      policy: options.policy,
      deadLetters: options.deadLetters,
      logger: options.logger,
      signal: this.#cancel.signal,
      closing: () => this.#closing,
    };
    const deliverBulk = options.target.deliverBulk;
    if (spec.bulkSubscribe?.enabled && deliverBulk !== undefined) {
      const bulk = bulkHandler(context, { deliverBulk: deliverBulk.bind(options.target) });
      this.#handler = bulk.handler;
      // Two batches: the next one fills while the previous one is with the app.
      this.#minInFlight = 2 * bulk.batchSize;
      this.#closeHandler = () => bulk.close();
    } else {
      this.#handler = eventHandler(context, options.target);
      this.#closeHandler = async () => {};
      this.#minInFlight = undefined;
    }
  }

  /** True once `close` was called. */
  get closing(): boolean {
    return this.#closing;
  }

  /** Subscribes on the component; resolves once the broker subscription is established. */
  async start(signal: AbortSignal): Promise<void> {
    const { spec, entry, namespace } = this.#options;
    const handler: PubSubHandler = async (message) => {
      // Messages arriving while stopping go back to the broker untouched.
      if (this.#closing) throw new Error('the subscription is closing');
      await this.#handler(message);
    };
    this.#subscription = await entry.pubsub.subscribe(
      {
        topic: brokerTopic(entry, namespace, spec.topic),
        metadata: spec.metadata,
        ...(this.#minInFlight === undefined ? {} : { minInFlight: this.#minInFlight }),
      },
      handler,
      signal,
    );
    // Closed while the broker was still subscribing: undo it at once.
    if (this.#closing) await this.#subscription.close();
  }

  /** Stops intake and drains in-flight deliveries for at most `drainMs`. Idempotent. */
  close(drainMs: number): Promise<void> {
    this.#closed ??= this.#close(drainMs);
    return this.#closed;
  }

  /** Cancels deliveries in flight now (their messages are redelivered). */
  cancel(): void {
    this.#cancel.abort(new Error('the subscription was stopped'));
  }

  async #close(drainMs: number): Promise<void> {
    this.#closing = true;
    const done = Promise.allSettled([this.#subscription?.close(), this.#closeHandler()]);
    if (!(await settlesWithin(done, drainMs))) {
      this.#options.logger.warn(
        `draining the subscription to topic ${this.spec.topic} took longer than ${drainMs}ms; cancelling in-flight deliveries`,
      );
      this.cancel();
      await settlesWithin(done, CANCEL_SETTLE_MS);
    }
    this.cancel();
  }
}

async function settlesWithin(work: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), Math.max(0, ms));
  });
  try {
    return await Promise.race([work.then(() => true), timedOut]);
  } finally {
    clearTimeout(timer);
  }
}
