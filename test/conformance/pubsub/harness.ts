import { createHash } from 'node:crypto';
import {
  type CreatedComponent,
  createComponent,
  type MetadataRecord,
} from '../../../src/components/contracts/component.js';
import type {
  PubSub,
  PubSubHandler,
  PubSubMessage,
  PubSubSubscription,
  SubscribeRequest,
} from '../../../src/components/contracts/pubsub.js';
import { silentLogger } from '../../../src/kernel/logger.js';
import { BrokerSpace } from './broker-space.js';

/** The app id every conformance instance runs as; consumer groups are named explicitly. */
export const APP_ID = 'pubsub-conformance';

/** A signal that never aborts. */
export const never = new AbortController().signal;

const encoder = new TextEncoder();

/** UTF-8 bytes of a string. */
export function utf8(text: string): Uint8Array {
  return encoder.encode(text);
}

/** A digest naming a payload, so deliveries can be matched to publishes whatever the bytes. */
export function digest(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/**
 * One broker's run: the isolated space, and every component instance and subscription the
 * cases open, all closed at the end even when a case fails half-way.
 */
export class BrokerRun extends BrokerSpace {
  readonly #instances: PubSub[] = [];
  readonly #subscriptions: PubSubSubscription[] = [];

  /** A new component instance in consumer group `group`, closed when the run ends. */
  async instance(group: string): Promise<CreatedComponent<PubSub>> {
    const metadata: MetadataRecord = this.isolated.metadata(group);
    const created = await createComponent(this.broker.definition, metadata, {
      name: 'pubsub',
      appId: APP_ID,
      logger: silentLogger,
      signal: never,
    });
    this.#instances.push(created.instance);
    return created;
  }

  /** Subscribes and remembers the subscription for clean-up. */
  async subscribe(
    pubsub: PubSub,
    topic: string,
    handler: PubSubHandler,
    request: Partial<SubscribeRequest> = {},
  ): Promise<PubSubSubscription> {
    const subscription = await pubsub.subscribe(
      { topic, metadata: {}, ...request },
      handler,
      never,
    );
    this.#subscriptions.push(subscription);
    return subscription;
  }

  /** Closes every subscription and instance, then removes the run's space. */
  async close(): Promise<void> {
    await Promise.allSettled(this.#subscriptions.map((subscription) => subscription.close()));
    await Promise.allSettled(this.#instances.map((instance) => instance.close()));
    await this.removeSpace();
  }
}

/** Publishes payloads with at most `parallel` publishes in flight. */
export async function publishAll(
  pubsub: PubSub,
  topic: string,
  payloads: readonly Uint8Array[],
  parallel = 32,
): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < payloads.length) {
      const data = payloads[next++] as Uint8Array;
      await pubsub.publish({ topic, data, metadata: {} }, never);
    }
  };
  await Promise.all(Array.from({ length: Math.min(parallel, payloads.length) }, worker));
}

/**
 * Records what a handler acknowledged, by payload digest, and lets a case await the moment a
 * set of payloads has been acknowledged at least once.
 */
export class Receipts {
  /** Acknowledged deliveries per digest (more than one is a duplicate). */
  readonly acked = new Map<string, number>();
  /** Every delivery, acknowledged or not, in arrival order. */
  readonly deliveries: PubSubMessage[] = [];
  #waiters: { readonly want: ReadonlySet<string>; readonly done: () => void }[] = [];

  /** Records an acknowledged delivery and wakes cases whose payloads have all arrived. */
  ack(message: PubSubMessage): void {
    const key = digest(message.data);
    this.acked.set(key, (this.acked.get(key) ?? 0) + 1);
    this.#waiters = this.#waiters.filter((waiter) => {
      if (!this.#hasAll(waiter.want)) return true;
      waiter.done();
      return false;
    });
  }

  /** Deliveries beyond the first, over every payload. */
  get duplicates(): number {
    let extra = 0;
    for (const count of this.acked.values()) extra += count - 1;
    return extra;
  }

  /** Resolves when every payload has been acknowledged; rejects with what is missing after `limitMs`. */
  waitFor(payloads: readonly Uint8Array[], limitMs: number): Promise<void> {
    const want = new Set(payloads.map(digest));
    if (this.#hasAll(want)) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        const missing = [...want].filter((key) => !this.acked.has(key)).length;
        reject(new Error(`${missing} of ${want.size} messages not delivered within ${limitMs} ms`));
      }, limitMs);
      this.#waiters.push({
        want,
        done: () => {
          clearTimeout(timer);
          resolve();
        },
      });
    });
  }

  #hasAll(want: ReadonlySet<string>): boolean {
    for (const key of want) if (!this.acked.has(key)) return false;
    return true;
  }
}

/** A handler that acknowledges every delivery into `receipts`. */
export function acking(receipts: Receipts): PubSubHandler {
  return async (message) => {
    receipts.deliveries.push(message);
    receipts.ack(message);
  };
}

/** `count` distinct text payloads tagged with `label`. */
export function numbered(label: string, count: number): Uint8Array[] {
  return Array.from({ length: count }, (_, index) => utf8(`${label}-${index}`));
}
