import type { Redis } from 'ioredis';
import { createComponent } from '../../../src/components/contracts/component.js';
import type {
  PubSub,
  PubSubHandler,
  PubSubMessage,
  PubSubSubscription,
} from '../../../src/components/contracts/pubsub.js';
import { redisPubSub } from '../../../src/components/pubsub/redis.js';
import { silentLogger } from '../../../src/kernel/logger.js';
import { probeServer, REDIS_SERVER } from '../../helpers/test-servers.js';
import type { IsolatedBroker } from './broker.js';
import { isolateRedis, redisTestClient } from './brokers/redis.js';
import { APP_ID, never } from './harness.js';

/** How long a redis-specific case waits for deliveries. */
export const LIMIT_MS = 30_000;

/** The run's streams, a raw client to write and inspect them, and everything to close. */
export class RedisFixture {
  readonly raw: Redis = redisTestClient();
  #isolated: IsolatedBroker | undefined;
  #failure: Error | undefined;
  readonly #closers: (() => Promise<void>)[] = [];

  async open(): Promise<void> {
    this.#failure = await probeServer(REDIS_SERVER);
    if (this.#failure) return;
    await this.raw.connect();
    this.#isolated = await isolateRedis();
  }

  get isolated(): IsolatedBroker {
    if (this.#failure) throw this.#failure;
    if (!this.#isolated) throw new Error('fixture not opened');
    return this.#isolated;
  }

  /** A component instance in `group`, with extra metadata over the short test settings. */
  async pubsub(group: string, extra: Record<string, string> = {}): Promise<PubSub> {
    const { instance } = await createComponent(
      redisPubSub,
      { ...this.isolated.metadata(group), ...extra },
      { name: 'redis-pubsub', appId: APP_ID, logger: silentLogger, signal: never },
    );
    this.#closers.push(() => instance.close());
    return instance;
  }

  async subscribe(
    pubsub: PubSub,
    topic: string,
    handler: PubSubHandler,
  ): Promise<PubSubSubscription> {
    const subscription = await pubsub.subscribe({ topic, metadata: {} }, handler, never);
    this.#closers.push(() => subscription.close());
    return subscription;
  }

  /** Entries pending in `group` (the XPENDING summary count). */
  async pendingCount(topic: string, group: string): Promise<number> {
    const summary = (await this.raw.xpending(topic, group)) as [number, ...unknown[]];
    return Number(summary[0]);
  }

  async close(): Promise<void> {
    for (const close of this.#closers.reverse()) await close().catch(() => {});
    if (this.#isolated) await this.#isolated.cleanup();
    this.raw.disconnect();
  }
}

/** Collects deliveries and lets a test await the n-th one. */
export class Inbox {
  readonly messages: PubSubMessage[] = [];
  #waiters: { count: number; done: () => void }[] = [];

  readonly handler: PubSubHandler = async (message) => {
    this.record(message);
  };

  record(message: PubSubMessage): void {
    this.messages.push(message);
    this.#waiters = this.#waiters.filter((waiter) => {
      if (this.messages.length < waiter.count) return true;
      waiter.done();
      return false;
    });
  }

  /** Resolves once `count` messages arrived; fails after LIMIT_MS naming how many did. */
  until(count: number): Promise<void> {
    if (this.messages.length >= count) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`${this.messages.length} of ${count} messages arrived`)),
        LIMIT_MS,
      );
      this.#waiters.push({
        count,
        done: () => {
          clearTimeout(timer);
          resolve();
        },
      });
    });
  }

  texts(): string[] {
    return this.messages.map((message) => Buffer.from(message.data).toString('utf8'));
  }
}

/** An XRANGE entry's fields as a map of name to raw bytes. */
export function fieldMap(fields: Buffer[]): Map<string, Buffer> {
  const map = new Map<string, Buffer>();
  for (let index = 0; index + 1 < fields.length; index += 2) {
    map.set(String(fields[index]), fields[index + 1] as Buffer);
  }
  return map;
}
