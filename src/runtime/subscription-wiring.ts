import type { AppChannel } from '../core/ports/app-channel.js';
import type { PubSubRegistry } from '../core/pubsub/pubsub-types.js';
import { deadLetterPublisher } from '../core/pubsub/subscriptions/dead-letter.js';
import type { SubscriberAppChannel } from '../core/pubsub/subscriptions/delivery-port.js';
import { Subscriber, SubscriptionConfigError } from '../core/pubsub/subscriptions/subscriber.js';
import type { ActiveSubscription } from '../core/pubsub/subscriptions/subscription-types.js';
import type { Logger } from '../kernel/logger.js';
import { errorText } from '../kernel/tapr-error.js';
import type { ResiliencyPolicies } from '../resiliency/policies.js';
import type { SubscriptionResource } from '../resources/types.js';
import { StartupError } from './startup-error.js';

/** What the subscribe side needs from the sidecar. */
export interface SubscriptionWiringOptions {
  readonly appId: string;
  /** `NAMESPACE`; Dapr's "default" when unset. */
  readonly namespace: string | undefined;
  readonly pubsubs: PubSubRegistry;
  readonly declarative: readonly SubscriptionResource[];
  readonly resiliency: ResiliencyPolicies;
  readonly logger: Logger;
}

/**
 * The sidecar's subscriptions: built with the components (a declarative rule that does not
 * compile stops start-up), started once the app is reachable (or healthy, with app health
 * checks), paused while the app is unhealthy, and drained at shutdown before components close.
 * Without an app channel only streaming subscriptions run, as in Dapr.
 */
export class Subscriptions {
  readonly subscriber: Subscriber;
  readonly #logger: Logger;
  #channel: SubscriberAppChannel | undefined;

  /** Throws `StartupError` naming a declarative subscription whose rule does not compile. */
  constructor(options: SubscriptionWiringOptions) {
    this.#logger = options.logger;
    const namespace = options.namespace ?? 'default';
    try {
      this.subscriber = new Subscriber({
        appId: options.appId,
        namespace,
        pubsubs: options.pubsubs,
        declarative: options.declarative,
        inboundPolicy: (name) => options.resiliency.forComponentInbound(name, 'pubsub'),
        initRetries: options.resiliency.builtIn('DaprBuiltInInitializationRetries'),
        deadLetters: deadLetterPublisher(options.pubsubs, namespace, options.resiliency),
        logger: options.logger,
      });
    } catch (error) {
      if (error instanceof SubscriptionConfigError) throw new StartupError(error.message);
      throw error;
    }
  }

  /** Every subscription for the metadata API. */
  list(): ActiveSubscription[] {
    return this.subscriber.list();
  }

  /** The app is ready (reachable, or healthy): ask it for its subscriptions and start them all. */
  async startApp(channel: AppChannel): Promise<void> {
    try {
      this.#channel ??= await subscriberChannel(channel);
      await this.subscriber.startApp(this.#channel);
    } catch (error) {
      this.#logger.warn(`failed to subscribe to topics: ${errorText(error)}`);
    }
  }

  /** The app turned unhealthy: stop taking messages for it until it is healthy again. */
  async stopApp(): Promise<void> {
    await this.subscriber.stopApp();
  }

  /** Stops every subscription; deliveries in flight get `graceMs` to finish. */
  close(graceMs: number): Promise<void> {
    return this.subscriber.close(graceMs);
  }
}

async function subscriberChannel(channel: AppChannel): Promise<SubscriberAppChannel> {
  // Loaded with the app channel only: the pub/sub delivery code is not needed without an app.
  const { createSubscriberChannel } = await import('../app-channel/pubsub-channel.js');
  return createSubscriberChannel(channel);
}
