// The broker leg of the bench's floor relay (http-relay.ts): how the relay hands a published
// event to a broker and gets it back, with the least a sidecar can do. One leg per broker with a
// direct baseline, plus none at all (the event goes straight to delivery).
import * as amqp from 'amqplib';
import { Redis } from 'ioredis';
import { parseRedisHost } from '../harness/redis-driver.js';
import { RABBIT_EXCHANGE_OPTIONS, RABBIT_SOCKET_OPTIONS } from './direct-consumers.js';

/** An event read back from the broker; `done` acknowledges it there once delivered. */
export interface Arrival {
  readonly text: string;
  readonly done: () => void;
}

/** How many more events the relay takes now, and a wait until it takes any. */
export interface Capacity {
  free(): number;
  whenFree(): Promise<void>;
}

/** Where a leg puts what it read. */
export type Inbox = (arrivals: readonly Arrival[]) => void;

/** A broker as the relay uses it. */
export interface RelayLeg {
  /** Declares the topic's group or queue and starts reading it into `inbox`. */
  open(topic: string, inbox: Inbox, capacity: Capacity): Promise<void>;
  /** Resolves once the broker took every event (as the components answer a publish). */
  publish(topic: string, events: readonly string[]): Promise<void>;
  close(): Promise<void>;
}

const NO_ACK = (): void => {};

/** No broker: a published event goes straight to delivery, with nothing to acknowledge. */
export function noBrokerLeg(): RelayLeg {
  const inboxes = new Map<string, Inbox>();
  return {
    async open(topic, inbox) {
      inboxes.set(topic, inbox);
    },
    async publish(topic, events) {
      inboxes.get(topic)?.(events.map((text) => ({ text, done: NO_ACK })));
    },
    async close() {},
  };
}

const GROUP = 'relay';
const BLOCK_MS = 1000;

/**
 * Redis streams: XADD with the event as the only field, one XREADGROUP per free batch of the
 * relay, and the XACKs of one event-loop turn in one command. ioredis pipelines each turn's
 * commands into one write.
 */
export function redisLeg(host: string): RelayLeg {
  const options = { ...parseRedisHost(host), enableAutoPipelining: true };
  const client = new Redis(options);
  const readers: Redis[] = [];
  let closed = false;
  const pendingAcks = new Map<string, string[]>();
  let ackScheduled = false;
  const flushAcks = (): void => {
    ackScheduled = false;
    for (const [topic, ids] of pendingAcks) void client.xack(topic, GROUP, ...ids);
    pendingAcks.clear();
  };
  const ack = (topic: string, id: string): void => {
    const ids = pendingAcks.get(topic);
    if (ids === undefined) pendingAcks.set(topic, [id]);
    else ids.push(id);
    if (!ackScheduled) {
      ackScheduled = true;
      setImmediate(flushAcks);
    }
  };
  const readLoop = async (
    reader: Redis,
    topic: string,
    inbox: Inbox,
    capacity: Capacity,
  ): Promise<void> => {
    while (!closed) {
      await capacity.whenFree();
      const reply = (await reader.xreadgroup(
        'GROUP',
        GROUP,
        'relay',
        'COUNT',
        capacity.free(),
        'BLOCK',
        BLOCK_MS,
        'STREAMS',
        topic,
        '>',
      )) as [string, [string, string[]][]][] | null;
      const entries = reply?.[0]?.[1] ?? [];
      if (entries.length === 0) continue;
      inbox(entries.map(([id, fields]) => ({ text: fields[1] ?? '', done: () => ack(topic, id) })));
    }
  };
  return {
    async open(topic, inbox, capacity) {
      await client.xgroup('CREATE', topic, GROUP, '0', 'MKSTREAM').catch((error: unknown) => {
        if (!String(error).includes('BUSYGROUP')) throw error;
      });
      const reader = new Redis(options);
      readers.push(reader);
      readLoop(reader, topic, inbox, capacity).catch((error: unknown) => {
        if (!closed) console.error(`relay: redis read failed: ${String(error)}`);
      });
    },
    async publish(topic, events) {
      await Promise.all(events.map((text) => client.xadd(topic, '*', 'data', text)));
    },
    async close() {
      closed = true;
      for (const reader of readers) reader.disconnect();
      client.disconnect();
    },
  };
}

/**
 * RabbitMQ as the baseline declares it: a fanout exchange per topic bound to one queue,
 * publishes without confirms, a consumer with no prefetch limit and a manual ack per message
 * (the component's defaults).
 */
export async function rabbitmqLeg(url: string): Promise<RelayLeg> {
  const connection = await amqp.connect(url, RABBIT_SOCKET_OPTIONS);
  const channel = await connection.createChannel();
  return {
    async open(topic, inbox) {
      await channel.assertExchange(topic, 'fanout', RABBIT_EXCHANGE_OPTIONS);
      const { queue } = await channel.assertQueue(`relay-${topic}`, RABBIT_EXCHANGE_OPTIONS);
      await channel.bindQueue(queue, topic, '');
      await channel.consume(queue, (message) => {
        if (message === null) return;
        inbox([{ text: message.content.toString('utf8'), done: () => channel.ack(message) }]);
      });
    },
    async publish(topic, events) {
      let room = true;
      for (const text of events) room = channel.publish(topic, '', Buffer.from(text));
      if (!room) await new Promise((resolve) => channel.once('drain', resolve));
    },
    async close() {
      await connection.close().catch(() => {});
    },
  };
}
