// Drivers of the pub/sub bench, loaded by the load generator by name. Each `op()` publishes one
// 1 KiB message stamped with its key, a sequence number and the time, and resolves only once the
// subscriber reported its delivery: a closed loop then measures delivered messages per second,
// and an open loop cannot leave a backlog behind. The publish goes through taprd (HTTP or gRPC
// publish API) or straight to the broker with its own client (the baselines). The bulk drivers
// publish a batch of messages per op (taprd's bulk publish API; a Redis pipeline; a turn's worth
// of AMQP publishes) and resolve when every message of the batch was delivered.
import { create, toBinary } from '@bufbuild/protobuf';
import * as grpc from '@grpc/grpc-js';
import type { Channel, ChannelModel } from 'amqplib';
import { Pool } from 'undici';
import { PublishEventRequestSchema } from '../../src/gen/dapr/proto/runtime/v1/pubsub_pb.js';
import { openLeanUnaryChannel } from '../harness/grpc-lean-driver.js';
import { numberParam, stringParam } from '../harness/params.js';
import { connectRedis, parseRedisHost } from '../harness/redis-driver.js';
import type { Driver, JsonObject } from '../harness/types.js';
import { RABBIT_EXCHANGE_OPTIONS, RABBIT_SOCKET_OPTIONS } from './direct-consumers.js';
import { bulkPublishBody, encodeMessage, monotonicMs } from './message.js';
import { DeliveryWaiter } from './notify-channel.js';

const PUBLISH_EVENT = '/dapr.proto.runtime.v1.Dapr/PublishEvent';
const GRPC_DEADLINE_MS = 10_000;

/** Sends one message; resolves when the publisher's API or broker accepted it. */
type Publish = (payload: string) => Promise<void>;

/** Sends a batch of messages; resolves when the publisher's API or broker accepted them all. */
type PublishBatch = (payloads: readonly string[]) => Promise<void>;

/** The driver's delivery waiter, releasing the publisher's connections if it cannot connect. */
async function connectWaiter(
  params: JsonObject,
  release: () => Promise<void>,
): Promise<DeliveryWaiter> {
  try {
    return await DeliveryWaiter.connect(
      numberParam(params, 'notifyPort'),
      stringParam(params, 'key'),
    );
  } catch (error) {
    await release();
    throw error;
  }
}

/**
 * A driver around `publishBatch`: each op takes the next `batchSize` sequence numbers, registers
 * a wait for each delivery report before publishing, stamps and publishes them in one
 * `publishBatch`, gives up the waits if the publish failed, and resolves when every one of them
 * was reported delivered.
 */
async function batchDriver(
  params: JsonObject,
  batchSize: number,
  publishBatch: PublishBatch,
  release: () => Promise<void>,
): Promise<Driver> {
  const key = stringParam(params, 'key');
  const waiter = await connectWaiter(params, release);
  let seq = 0;
  return {
    async op() {
      const first = seq + 1;
      seq += batchSize;
      const waits: Promise<void>[] = [];
      const payloads: string[] = [];
      for (let mine = first; mine <= seq; mine += 1) {
        waits.push(waiter.expect(mine));
        payloads.push(encodeMessage(key, mine, monotonicMs()));
      }
      const delivered = Promise.all(waits);
      // Settled before it is awaited when the channel fails during a slow publish.
      delivered.catch(() => {});
      try {
        await publishBatch(payloads);
      } catch (error) {
        for (let mine = first; mine <= seq; mine += 1) waiter.forget(mine);
        throw error;
      }
      await delivered;
    },
    async close() {
      waiter.close();
      await release();
    },
  };
}

/** One message per op through `publish`. */
function deliveredDriver(
  params: JsonObject,
  publish: Publish,
  release: () => Promise<void>,
): Promise<Driver> {
  return batchDriver(params, 1, ([payload]) => publish(payload as string), release);
}

/** `batchSize` (param) messages per op through `publishBatch`. */
function deliveredBatchDriver(
  params: JsonObject,
  publishBatch: PublishBatch,
  release: () => Promise<void>,
): Promise<Driver> {
  const batchSize = numberParam(params, 'batchSize');
  if (!Number.isInteger(batchSize) || batchSize < 1) {
    throw new Error(`driver parameter "batchSize" must be a positive integer, got ${batchSize}`);
  }
  return batchDriver(params, batchSize, publishBatch, release);
}

function localOrigin(params: JsonObject): string {
  const origin = stringParam(params, 'origin');
  if (!/^http:\/\/127\.0\.0\.1:\d+$/.test(origin)) {
    throw new Error(`the bench only targets http://127.0.0.1:<port>, got ${origin}`);
  }
  return origin;
}

/**
 * `POST /v1.0/publish/{pubsub}/{topic}` on taprd with an undici Pool (keep-alive), expecting
 * 204. Params: `key`, `notifyPort`, `origin`, `pubsub`, `topic`.
 */
export async function viaTaprdHttp(params: JsonObject): Promise<Driver> {
  const origin = localOrigin(params);
  const path = `/v1.0/publish/${stringParam(params, 'pubsub')}/${stringParam(params, 'topic')}`;
  const pool = new Pool(origin, { connections: 64, pipelining: 1, keepAliveTimeout: 60_000 });
  const headers = { 'content-type': 'application/json' };
  return deliveredDriver(
    params,
    async (payload) => {
      const response = await pool.request({ origin, path, method: 'POST', headers, body: payload });
      const text = await response.body.text();
      if (response.statusCode !== 204) {
        throw new Error(`publish: HTTP ${response.statusCode}: ${text.slice(0, 300)}`);
      }
    },
    () => pool.close(),
  );
}

/**
 * `POST /v1.0-alpha1/publish/bulk/{pubsub}/{topic}` on taprd with an undici Pool, one batch per
 * op, expecting 204. Params: `key`, `notifyPort`, `origin`, `pubsub`, `topic`, `batchSize`.
 */
export async function viaTaprdBulk(params: JsonObject): Promise<Driver> {
  const origin = localOrigin(params);
  const path = `/v1.0-alpha1/publish/bulk/${stringParam(params, 'pubsub')}/${stringParam(params, 'topic')}`;
  const pool = new Pool(origin, { connections: 16, pipelining: 1, keepAliveTimeout: 60_000 });
  const headers = { 'content-type': 'application/json' };
  return deliveredBatchDriver(
    params,
    async (payloads) => {
      const body = bulkPublishBody(payloads);
      const response = await pool.request({ origin, path, method: 'POST', headers, body });
      const text = await response.body.text();
      if (response.statusCode !== 204) {
        throw new Error(`bulk publish: HTTP ${response.statusCode}: ${text.slice(0, 300)}`);
      }
    },
    () => pool.close(),
  );
}

/** A `PublishEventRequest` of one JSON payload, as protobuf bytes. */
function publishEventEncoder(pubsubName: string, topic: string): (payload: string) => Uint8Array {
  const encoder = new TextEncoder();
  return (payload) =>
    toBinary(
      PublishEventRequestSchema,
      create(PublishEventRequestSchema, {
        pubsubName,
        topic,
        data: encoder.encode(payload),
        dataContentType: 'application/json',
      }),
    );
}

/**
 * `Dapr/PublishEvent` on taprd with one grpc-js channel (the Dapr JS SDK's client), the request
 * encoded per message with protobuf-es. Params: `key`, `notifyPort`, `address`, `pubsub`, `topic`.
 */
export async function viaTaprdGrpc(params: JsonObject): Promise<Driver> {
  const address = stringParam(params, 'address');
  if (!/^127\.0\.0\.1:\d+$/.test(address)) {
    throw new Error(`the bench only targets 127.0.0.1:<port>, got ${address}`);
  }
  const pubsubName = stringParam(params, 'pubsub');
  const topic = stringParam(params, 'topic');
  const client = new grpc.Client(address, grpc.credentials.createInsecure());
  await new Promise<void>((resolve, reject) => {
    client.waitForReady(Date.now() + 5000, (error) => (error ? reject(error) : resolve()));
  });
  const encode = publishEventEncoder(pubsubName, topic);
  const serialize = (bytes: Buffer): Buffer => bytes;
  const deserialize = (bytes: Buffer): Buffer => bytes;
  return deliveredDriver(
    params,
    (payload) => {
      const bytes = Buffer.from(encode(payload));
      return new Promise<void>((resolve, reject) => {
        client.makeUnaryRequest(
          PUBLISH_EVENT,
          serialize,
          deserialize,
          bytes,
          new grpc.Metadata(),
          { deadline: Date.now() + GRPC_DEADLINE_MS },
          (error) => (error === null ? resolve() : reject(error)),
        );
      });
    },
    async () => client.close(),
  );
}

/**
 * `Dapr/PublishEvent` on taprd with the lean node:http2 client (harness/grpc-lean-driver.ts):
 * the same requests and headers as grpc-js, without most of its CPU per call, so the open-loop
 * tail is taprd's rather than the publisher's. Params as {@link viaTaprdGrpc}.
 */
export async function viaTaprdGrpcLean(params: JsonObject): Promise<Driver> {
  const encode = publishEventEncoder(stringParam(params, 'pubsub'), stringParam(params, 'topic'));
  const channel = await openLeanUnaryChannel(
    stringParam(params, 'address'),
    PUBLISH_EVENT,
    {},
    GRPC_DEADLINE_MS,
  );
  return deliveredDriver(
    params,
    async (payload) => {
      await channel.call(encode(payload));
    },
    () => channel.close(),
  );
}

/**
 * The Redis baseline's publisher: `XADD <topic> * data <message>` on one ioredis connection, the
 * entry layout `pubsub.redis` writes. Params: `key`, `notifyPort`, `redisHost`, `topic`.
 */
export async function directRedis(params: JsonObject): Promise<Driver> {
  const topic = stringParam(params, 'topic');
  const client = await connectRedis(parseRedisHost(stringParam(params, 'redisHost')));
  return deliveredDriver(
    params,
    async (payload) => {
      await client.call('XADD', topic, '*', 'data', payload);
    },
    async () => {
      await client.quit().catch(() => client.disconnect());
    },
  );
}

/**
 * The Redis baseline's bulk publisher: one ioredis pipeline of `XADD`s per op (sent as one
 * write, no MULTI), the entry layout `pubsub.redis` writes. Params: `key`, `notifyPort`,
 * `redisHost`, `topic`, `batchSize`.
 */
export async function directRedisBulk(params: JsonObject): Promise<Driver> {
  const topic = stringParam(params, 'topic');
  const client = await connectRedis(parseRedisHost(stringParam(params, 'redisHost')));
  return deliveredBatchDriver(
    params,
    async (payloads) => {
      const pipeline = client.pipeline();
      for (const payload of payloads) pipeline.xadd(topic, '*', 'data', payload);
      const replies = await pipeline.exec();
      const failed = replies?.find(([error]) => error !== null)?.[0];
      if (failed) throw failed;
    },
    async () => {
      await client.quit().catch(() => client.disconnect());
    },
  );
}

/** Resolves when the channel's write buffer drained (or the channel closed). */
function drained(channel: Channel): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      channel.off('drain', done);
      channel.off('close', done);
      resolve();
    };
    channel.on('drain', done);
    channel.on('close', done);
  });
}

/** A channel on its own connection to the topic's exchange, declared as the consumer does. */
async function openRabbitPublisher(
  params: JsonObject,
): Promise<{ channel: Channel; exchange: string; close: () => Promise<void> }> {
  const exchange = stringParam(params, 'exchange');
  const url = stringParam(params, 'url');
  if (!/^amqp:\/\/([^@/]*@)?127\.0\.0\.1(:\d+)?(\/.*)?$/.test(url)) {
    throw new Error('the bench only uses RabbitMQ on 127.0.0.1');
  }
  const amqp = await import('amqplib');
  const connection: ChannelModel = await amqp.connect(url, RABBIT_SOCKET_OPTIONS);
  connection.on('error', () => {});
  const channel = await connection.createChannel();
  channel.on('error', () => {});
  await channel.assertExchange(exchange, 'fanout', RABBIT_EXCHANGE_OPTIONS);
  return {
    channel,
    exchange,
    async close() {
      await channel.close().catch(() => undefined);
      await connection.close().catch(() => undefined);
    },
  };
}

/**
 * The RabbitMQ baseline's publisher: amqplib `publish` to the topic's fanout exchange on one
 * channel without confirms, waiting for `drain` when the channel pushes back (what
 * `pubsub.rabbitmq` does by default). Params: `key`, `notifyPort`, `url`, `exchange`.
 */
export async function directRabbitmq(params: JsonObject): Promise<Driver> {
  const { channel, exchange, close } = await openRabbitPublisher(params);
  let draining: Promise<void> | undefined;
  return deliveredDriver(
    params,
    async (payload) => {
      if (!channel.publish(exchange, '', Buffer.from(payload))) {
        draining ??= drained(channel).finally(() => {
          draining = undefined;
        });
        await draining;
      }
    },
    close,
  );
}

/**
 * The RabbitMQ baseline's bulk publisher: the op's messages published on the channel in one
 * event-loop turn (amqplib queues the frames and writes them together), then one wait for
 * `drain` if the channel pushed back. Params: `key`, `notifyPort`, `url`, `exchange`, `batchSize`.
 */
export async function directRabbitmqBulk(params: JsonObject): Promise<Driver> {
  const { channel, exchange, close } = await openRabbitPublisher(params);
  let draining: Promise<void> | undefined;
  return deliveredBatchDriver(
    params,
    async (payloads) => {
      let full = false;
      for (const payload of payloads) {
        if (!channel.publish(exchange, '', Buffer.from(payload))) full = true;
      }
      if (full) {
        draining ??= drained(channel).finally(() => {
          draining = undefined;
        });
        await draining;
      }
    },
    close,
  );
}
