// The baselines' consumers, run in the subscriber process: each broker's own client reading
// from its own queue and acknowledging, as an app without a sidecar would. They mirror what the
// Tapr components ask of the broker (a stream consumer group with XACK; a durable fanout
// exchange and queue with manual acks), and hand each payload to the same `deliver` as the
// HTTP route taprd posts to.
import type { ConsumeMessage } from 'amqplib';
import { Redis } from 'ioredis';

/** A consumer that can be stopped. */
export interface DirectConsumer {
  close(): Promise<void>;
}

/** Where the Redis baseline reads: `topic` is the stream, `group` its consumer group. */
export interface RedisConsumerSettings {
  readonly host: string;
  readonly port: number;
  readonly topic: string;
  readonly group: string;
}

/** Entries per XREADGROUP: the `queueDepth` default of Dapr's Redis pub/sub. */
const READ_COUNT = 100;
/** How long one XREADGROUP blocks; short, so close() does not wait long. */
const BLOCK_MS = 1000;

/** The `data` field of each entry in an XREADGROUP reply read with `call` (strings). */
function entriesOf(reply: unknown): { id: string; data: string | undefined }[] {
  if (!Array.isArray(reply)) return [];
  const out: { id: string; data: string | undefined }[] = [];
  for (const stream of reply) {
    const entries: unknown = Array.isArray(stream) ? stream[1] : undefined;
    if (!Array.isArray(entries)) continue;
    for (const entry of entries) {
      if (!Array.isArray(entry) || typeof entry[0] !== 'string') continue;
      const fields: unknown = entry[1];
      let data: string | undefined;
      if (Array.isArray(fields)) {
        for (let i = 0; i + 1 < fields.length; i += 2) {
          if (fields[i] === 'data' && typeof fields[i + 1] === 'string') data = fields[i + 1];
        }
      }
      out.push({ id: entry[0], data });
    }
  }
  return out;
}

/**
 * Reads the stream as one consumer of `group` (created at the stream's start) with XREADGROUP on
 * a connection of its own, hands each entry's `data` to `deliver`, then acknowledges the batch
 * with one XACK on a second connection, without waiting for it before the next read.
 */
export async function startRedisConsumer(
  settings: RedisConsumerSettings,
  deliver: (text: string) => void,
  onError: (error: unknown) => void,
): Promise<DirectConsumer> {
  const options = { host: settings.host, port: settings.port, lazyConnect: true };
  const reader = new Redis(options);
  const acker = new Redis(options);
  reader.on('error', onError);
  acker.on('error', onError);
  await Promise.all([reader.connect(), acker.connect()]);
  try {
    await acker.call('XGROUP', 'CREATE', settings.topic, settings.group, '0', 'MKSTREAM');
  } catch (error) {
    if (!String(error).includes('BUSYGROUP')) throw error;
  }
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      let reply: unknown;
      try {
        reply = await reader.call(
          'XREADGROUP',
          'GROUP',
          settings.group,
          'direct',
          'COUNT',
          READ_COUNT,
          'BLOCK',
          BLOCK_MS,
          'STREAMS',
          settings.topic,
          '>',
        );
      } catch (error) {
        if (!stopped) onError(error);
        return;
      }
      const entries = entriesOf(reply);
      if (entries.length === 0) continue;
      for (const entry of entries) if (entry.data !== undefined) deliver(entry.data);
      acker
        .call('XACK', settings.topic, settings.group, ...entries.map((entry) => entry.id))
        .catch(onError);
    }
  })();
  return {
    async close() {
      stopped = true;
      await loop;
      await Promise.allSettled([reader.quit(), acker.quit()]);
    },
  };
}

/** Where the RabbitMQ baseline reads: the topic's exchange and the group's queue. */
export interface RabbitConsumerSettings {
  readonly url: string;
  readonly exchange: string;
  readonly queue: string;
}

/**
 * The exchange and queue as `pubsub.rabbitmq` declares them by default (durable, deleted when
 * unused, fanout), so both paths cost the broker the same.
 */
export const RABBIT_EXCHANGE_OPTIONS = { durable: true, autoDelete: true } as const;

/**
 * Socket options of both baseline connections. amqplib leaves Nagle's algorithm on unless told;
 * `pubsub.rabbitmq` turns it off, and so does the baseline, or small frames would wait for
 * delayed ACKs.
 */
export const RABBIT_SOCKET_OPTIONS = { noDelay: true } as const;

/**
 * Declares the fanout exchange, the queue and its binding, and consumes with manual acks and no
 * prefetch limit (the component's defaults), acking each message after `deliver` returned.
 */
export async function startRabbitConsumer(
  settings: RabbitConsumerSettings,
  deliver: (text: string) => void,
  onError: (error: unknown) => void,
): Promise<DirectConsumer> {
  const amqp = await import('amqplib');
  const connection = await amqp.connect(settings.url, RABBIT_SOCKET_OPTIONS);
  connection.on('error', onError);
  const channel = await connection.createChannel();
  channel.on('error', onError);
  await channel.assertExchange(settings.exchange, 'fanout', RABBIT_EXCHANGE_OPTIONS);
  await channel.assertQueue(settings.queue, RABBIT_EXCHANGE_OPTIONS);
  await channel.bindQueue(settings.queue, settings.exchange, '');
  await channel.consume(
    settings.queue,
    (message: ConsumeMessage | null) => {
      if (message === null) return;
      deliver(message.content.toString('utf8'));
      channel.ack(message);
    },
    { noAck: false },
  );
  return {
    async close() {
      await channel.close().catch(() => undefined);
      await connection.close().catch(() => undefined);
    },
  };
}
