import type { Channel } from 'amqplib';
import { isTruthy } from '../../kernel/go-bool.js';
import type { MetadataRecord } from '../contracts/component.js';
import type { RabbitmqOptions } from './rabbitmq.metadata.js';

/** Dapr's names for a queue's dead-letter exchange and queue (`dlx-%s`, `dlq-%s`). */
export function deadLetterNames(queue: string): { exchange: string; queue: string } {
  return { exchange: `dlx-${queue}`, queue: `dlq-${queue}` };
}

/** Dapr's queue name for a consumer group on a topic when the subscription names none. */
export function queueNameOf(consumerGroup: string, topic: string): string {
  return `${consumerGroup}-${topic}`;
}

/** Everything declared on the broker for one subscription. */
export interface SubscriptionTopology {
  readonly topic: string;
  readonly queue: string;
  /** Binding keys of the queue on the topic's exchange (`[""]` when none is given). */
  readonly routingKeys: readonly string[];
  readonly queueArguments: Readonly<Record<string, unknown>>;
  readonly deadLetter?: {
    readonly exchange: string;
    readonly queue: string;
    readonly queueArguments: Readonly<Record<string, unknown>>;
  };
}

/** A subscription's metadata is unusable (bad `queueType`, `maxPriority`, ...). */
export class SubscriptionMetadataError extends Error {
  constructor(message: string) {
    super(`rabbitmq pub/sub: ${message}`);
    this.name = 'SubscriptionMetadataError';
  }
}

/** Go's `strconv.ParseUint(value, 10, 0)`, which Dapr uses for subscription numbers. */
function parseUnsigned(key: string, value: string): number {
  if (!/^\d+$/.test(value)) {
    throw new SubscriptionMetadataError(`${key} "${value}" is not an unsigned integer`);
  }
  const parsed = Number(value);
  if (!Number.isSafeInteger(parsed)) {
    throw new SubscriptionMetadataError(`${key} "${value}" is out of range`);
  }
  return parsed;
}

/** The queue-length arguments every queue of the component gets (`maxLen`, `maxLenBytes`). */
function lengthArguments(options: RabbitmqOptions): Record<string, unknown> {
  const args: Record<string, unknown> = {};
  if (options.maxLen > 0) args['x-max-length'] = options.maxLen;
  if (options.maxLenBytes > 0) args['x-max-length-bytes'] = options.maxLenBytes;
  return args;
}

/**
 * Works out the queue, bindings and arguments of a subscription from the component options and
 * the subscription's metadata, with Dapr's keys (read case-sensitively, as Dapr does): `queueName`,
 * `routingKey` (comma-separated), `maxPriority`, `queueType`, `singleActiveConsumer`, `maxLen`,
 * `maxLenBytes`. Throws `SubscriptionMetadataError` on a bad value, before touching the broker.
 */
export function subscriptionTopology(
  options: RabbitmqOptions,
  consumerGroup: string,
  topic: string,
  metadata: MetadataRecord,
): SubscriptionTopology {
  const queue =
    metadata.queueName !== undefined && metadata.queueName !== ''
      ? metadata.queueName
      : queueNameOf(consumerGroup, topic);
  const queueArguments: Record<string, unknown> = {};
  let deadLetter: SubscriptionTopology['deadLetter'];
  if (options.enableDeadLetter) {
    const names = deadLetterNames(queue);
    // Dapr keeps the dead-letter queue lazy: as much as possible on disk.
    deadLetter = {
      ...names,
      queueArguments: { ...lengthArguments(options), 'x-queue-mode': 'lazy' },
    };
    queueArguments['x-dead-letter-exchange'] = names.exchange;
  }
  Object.assign(queueArguments, lengthArguments(options));
  const maxPriority = metadata.maxPriority;
  if (maxPriority !== undefined && maxPriority !== '') {
    queueArguments['x-max-priority'] = Math.min(255, parseUnsigned('maxPriority', maxPriority));
  }
  const queueType = metadata.queueType;
  if (queueType !== undefined && queueType !== '') {
    if (queueType !== 'classic' && queueType !== 'quorum') {
      throw new SubscriptionMetadataError(
        `invalid queue type ${queueType}. Valid types are classic and quorum`,
      );
    }
    queueArguments['x-queue-type'] = queueType;
  } else {
    queueArguments['x-queue-type'] = 'classic';
  }
  if (isTruthy(metadata.singleActiveConsumer)) queueArguments['x-single-active-consumer'] = true;
  const maxLenBytes = metadata.maxLenBytes;
  if (maxLenBytes !== undefined && maxLenBytes !== '') {
    queueArguments['x-max-length-bytes'] = parseUnsigned('maxLenBytes', maxLenBytes);
  }
  const maxLen = metadata.maxLen;
  if (maxLen !== undefined && maxLen !== '') {
    queueArguments['x-max-length'] = parseUnsigned('maxLen', maxLen);
  }
  const routingKeys = (metadata.routingKey ?? '').split(',');
  return {
    topic,
    queue,
    routingKeys,
    queueArguments,
    ...(deadLetter ? { deadLetter } : {}),
  };
}

/** Declares the topic's exchange with the component's kind, durability and auto-delete. */
export async function declareTopicExchange(
  channel: Channel,
  options: RabbitmqOptions,
  topic: string,
): Promise<void> {
  await channel.assertExchange(topic, options.exchangeKind, {
    durable: options.durable,
    autoDelete: options.deletedWhenUnused,
  });
}

/**
 * Declares a subscription's exchange, dead-letter exchange and queue, its queue and bindings,
 * in Dapr's order. The dead-letter exchange is a durable fanout and its queue durable, as in Dapr.
 */
export async function declareSubscription(
  channel: Channel,
  options: RabbitmqOptions,
  topology: SubscriptionTopology,
): Promise<void> {
  await declareTopicExchange(channel, options, topology.topic);
  const deadLetter = topology.deadLetter;
  if (deadLetter) {
    await channel.assertExchange(deadLetter.exchange, 'fanout', {
      durable: true,
      autoDelete: options.deletedWhenUnused,
    });
    await channel.assertQueue(deadLetter.queue, {
      durable: true,
      autoDelete: options.deletedWhenUnused,
      arguments: deadLetter.queueArguments,
    });
    await channel.bindQueue(deadLetter.queue, deadLetter.exchange, '');
  }
  await channel.assertQueue(topology.queue, {
    durable: options.durable,
    autoDelete: options.deletedWhenUnused,
    arguments: topology.queueArguments,
  });
  for (const key of topology.routingKeys) {
    await channel.bindQueue(topology.queue, topology.topic, key);
  }
}
