import { createServer, connect as netConnect, type Server, type Socket } from 'node:net';
import type { Channel, ChannelModel, GetMessage } from 'amqplib';
import { createComponent } from '../../../src/components/contracts/component.js';
import type {
  PubSub,
  PubSubHandler,
  PubSubMessage,
  PubSubSubscription,
} from '../../../src/components/contracts/pubsub.js';
import { rabbitmqPubSub } from '../../../src/components/pubsub/rabbitmq.js';
import { silentLogger } from '../../../src/kernel/logger.js';
import { probeServer, RABBITMQ_SERVER, uniqueName } from '../../helpers/test-servers.js';
import { RabbitNames, rabbitmqTestConnection } from './brokers/rabbitmq.js';
import { APP_ID, never } from './harness.js';

/** How long a rabbitmq-specific case waits for deliveries. */
export const LIMIT_MS = 30_000;

/**
 * A run's topics and groups on the shared RabbitMQ, a raw connection to inspect them, and
 * everything the cases open, closed (and deleted) at the end.
 */
export class RabbitFixture {
  readonly names = new RabbitNames();
  readonly #prefix = uniqueName('pubsub');
  #raw: ChannelModel | undefined;
  #failure: Error | undefined;
  readonly #closers: (() => Promise<void>)[] = [];
  readonly #groups = new Map<PubSub, string>();

  async open(): Promise<void> {
    this.#failure = await probeServer(RABBITMQ_SERVER);
    if (!this.#failure) this.#raw = await rabbitmqTestConnection();
  }

  /** A topic (exchange) name unique to the run. */
  topic(label: string): string {
    if (this.#failure) throw this.#failure;
    const topic = `${this.#prefix}.${label}`;
    this.names.exchanges.add(topic);
    return topic;
  }

  /** A component instance in consumer group `group`; `metadata` is the whole spec.metadata. */
  async pubsub(group: string, metadata: Record<string, string>): Promise<PubSub> {
    if (this.#failure) throw this.#failure;
    const { instance } = await createComponent(
      rabbitmqPubSub,
      { consumerID: group, ...metadata },
      { name: 'rabbitmq-pubsub', appId: APP_ID, logger: silentLogger, signal: never },
    );
    this.#closers.push(() => instance.close());
    this.#groups.set(instance, group);
    return instance;
  }

  async subscribe(
    pubsub: PubSub,
    topic: string,
    handler: PubSubHandler,
    metadata: Record<string, string> = {},
  ): Promise<PubSubSubscription> {
    if (metadata.queueName) this.names.queue(metadata.queueName);
    else this.names.pair(this.#groups.get(pubsub) ?? '', topic);
    const subscription = await pubsub.subscribe({ topic, metadata }, handler, never);
    this.#closers.push(() => subscription.close());
    return subscription;
  }

  /** Runs `check` on a fresh raw channel: a failed passive check closes the channel it ran on. */
  async onChannel<T>(check: (channel: Channel) => Promise<T>): Promise<T> {
    if (this.#failure) throw this.#failure;
    if (!this.#raw) throw new Error('fixture not opened');
    const channel = await this.#raw.createChannel();
    channel.on('error', () => {});
    try {
      return await check(channel);
    } finally {
      await channel.close().catch(() => {});
    }
  }

  /** Whether a queue exists. */
  queueExists(queue: string): Promise<boolean> {
    return this.onChannel((channel) =>
      channel.checkQueue(queue).then(
        () => true,
        () => false,
      ),
    );
  }

  /** Takes one message off a queue (acknowledged at once), or false when it is empty. */
  take(queue: string): Promise<GetMessage | false> {
    return this.onChannel((channel) => channel.get(queue, { noAck: true }));
  }

  /** Messages ready in a queue (not counting those delivered and not yet acknowledged). */
  readyCount(queue: string): Promise<number> {
    return this.onChannel(async (channel) => (await channel.checkQueue(queue)).messageCount);
  }

  async close(): Promise<void> {
    for (const close of this.#closers.reverse()) await close().catch(() => {});
    if (this.#raw) {
      await this.names.cleanup();
      await this.#raw.close().catch(() => {});
    }
  }
}

/** Collects deliveries and lets a test await the n-th one. */
export class Inbox {
  readonly messages: PubSubMessage[] = [];
  #waiters: { count: number; done: () => void }[] = [];

  readonly handler: PubSubHandler = async (message) => {
    this.record(message);
  };

  /** Records a delivery and wakes the waiters it satisfies. */
  record(message: PubSubMessage): void {
    this.messages.push(message);
    this.#waiters = this.#waiters.filter((waiter) => {
      if (this.messages.length < waiter.count) return true;
      waiter.done();
      return false;
    });
  }

  /** Resolves once `count` deliveries arrived; fails after `LIMIT_MS`. */
  until(count: number): Promise<void> {
    if (this.messages.length >= count) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () =>
          reject(new Error(`${this.messages.length} of ${count} deliveries within ${LIMIT_MS} ms`)),
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

  /** The deliveries' payloads as text. */
  texts(): string[] {
    return this.messages.map((message) => Buffer.from(message.data).toString('utf8'));
  }
}

/**
 * A TCP proxy in front of RabbitMQ, so a case can cut the component's connection the way a
 * network failure or broker restart does, without touching other users of the shared server.
 */
export class CuttableProxy {
  readonly #server: Server;
  readonly #sockets = new Set<Socket>();
  /** Connections accepted so far. */
  accepted = 0;

  private constructor(server: Server) {
    this.#server = server;
  }

  static async start(): Promise<CuttableProxy> {
    const server = createServer();
    const proxy = new CuttableProxy(server);
    server.on('connection', (client) => proxy.#pipe(client));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return proxy;
  }

  /** An AMQP URL through the proxy. */
  get url(): string {
    const address = this.#server.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    return `amqp://guest:guest@127.0.0.1:${port}`;
  }

  /** Drops every proxied connection at once. */
  cut(): void {
    for (const socket of this.#sockets) socket.destroy();
    this.#sockets.clear();
  }

  async close(): Promise<void> {
    this.cut();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  #pipe(client: Socket): void {
    this.accepted += 1;
    const upstream = netConnect({ host: RABBITMQ_SERVER.host, port: RABBITMQ_SERVER.port });
    for (const socket of [client, upstream]) {
      this.#sockets.add(socket);
      socket.on('error', () => {});
      socket.on('close', () => {
        this.#sockets.delete(socket);
        client.destroy();
        upstream.destroy();
      });
    }
    client.pipe(upstream);
    upstream.pipe(client);
  }
}
