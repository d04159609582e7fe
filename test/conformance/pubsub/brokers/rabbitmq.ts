import { type ChannelModel, connect } from 'amqplib';
import { PubSubFeature } from '../../../../src/components/contracts/pubsub.js';
import { rabbitmqPubSub } from '../../../../src/components/pubsub/rabbitmq.js';
import { RABBITMQ_SERVER, RABBITMQ_URL, uniqueName } from '../../../helpers/test-servers.js';
import type { BrokerUnderTest, IsolatedBroker } from '../broker.js';

/**
 * Settings the suite runs with: queues outlive their consumers (Dapr's default auto-delete would
 * drop the messages of a killed subscriber), a refused message goes straight back to the queue,
 * publishes wait for the broker's confirmation and reconnects come after a second.
 */
export const RABBITMQ_TEST_SETTINGS = {
  deletedWhenUnused: 'false',
  requeueInFailure: 'true',
  publisherConfirm: 'true',
  deliveryMode: '2',
  reconnectWaitSeconds: '1',
} as const;

/** A connection to the test server for declaring, inspecting and deleting directly. */
export function rabbitmqTestConnection(): Promise<ChannelModel> {
  return connect(RABBITMQ_URL);
}

/** Names a run created on the broker, so cleanup can delete exactly those. */
export class RabbitNames {
  readonly queues = new Set<string>();
  readonly exchanges = new Set<string>();
  readonly #groups = new Set<string>();
  readonly #topics = new Set<string>();

  /** Remembers a consumer group; its queues (and dead-letter ones) on every topic get deleted. */
  group(name: string): void {
    this.#groups.add(name);
  }

  /** Remembers the queue (and dead-letter names) of one group on one topic. */
  pair(group: string, topic: string): void {
    this.exchanges.add(topic);
    this.queue(`${group}-${topic}`);
  }

  /** Remembers a queue with its dead-letter exchange and queue. */
  queue(name: string): void {
    this.queues.add(name);
    this.queues.add(`dlq-${name}`);
    this.exchanges.add(`dlx-${name}`);
  }

  /** Remembers a topic; its exchange and the groups' queues on it get deleted. */
  topic(name: string): void {
    this.#topics.add(name);
  }

  /** Deletes every queue and exchange the run may have made (deleting a missing one is fine). */
  async cleanup(): Promise<void> {
    const queues = new Set(this.queues);
    const exchanges = new Set(this.exchanges);
    for (const topic of this.#topics) {
      exchanges.add(topic);
      for (const group of this.#groups) {
        const queue = `${group}-${topic}`;
        queues.add(queue);
        queues.add(`dlq-${queue}`);
        exchanges.add(`dlx-${queue}`);
      }
    }
    const connection = await rabbitmqTestConnection();
    try {
      const channel = await connection.createChannel();
      // The channel sends them one after another; issuing them together saves the awaits.
      await Promise.all([...queues].map((queue) => channel.deleteQueue(queue)));
      await Promise.all([...exchanges].map((exchange) => channel.deleteExchange(exchange)));
      await channel.close();
    } finally {
      await connection.close();
    }
  }
}

/** A run on the shared RabbitMQ: topics carry a prefix unique to the run. */
export async function isolateRabbitmq(): Promise<IsolatedBroker> {
  const prefix = uniqueName('pubsub');
  const names = new RabbitNames();
  return {
    metadata: (consumerID) => {
      names.group(consumerID);
      return { connectionString: RABBITMQ_URL, consumerID, ...RABBITMQ_TEST_SETTINGS };
    },
    topic: (label) => {
      const topic = `${prefix}.${label}`;
      names.topic(topic);
      return topic;
    },
    cleanup: () => names.cleanup(),
  };
}

/** `pubsub.rabbitmq` against the machine's RabbitMQ server. */
export const rabbitmqBroker: BrokerUnderTest = {
  id: 'rabbitmq',
  definition: rabbitmqPubSub,
  server: RABBITMQ_SERVER,
  features: [PubSubFeature.MESSAGE_TTL],
  competingConsumers: true,
  durable: true,
  ordered: true,
  isolate: isolateRabbitmq,
};
