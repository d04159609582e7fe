import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BulkBatcher } from '../../../../src/core/pubsub/subscriptions/bulk-batcher.js';
import type { DeliveryOutcome } from '../../../../src/core/pubsub/subscriptions/delivery-port.js';
import { Subscriber } from '../../../../src/core/pubsub/subscriptions/subscriber.js';
import { silentLogger } from '../../../../src/kernel/logger.js';
import { isTaprError } from '../../../../src/kernel/tapr-error.js';
import type { SubscriptionResource } from '../../../../src/resources/types.js';
import {
  cloudEvent,
  entryOf,
  FakeAppChannel,
  FakePubSub,
  noPolicy,
  retrying,
  subscriptionResource,
} from './subscriber-fixtures.js';

function setup(declarative: SubscriptionResource[], retries?: number) {
  const pubsub = new FakePubSub();
  const channel = new FakeAppChannel();
  const deadLetters: string[] = [];
  const subscriber = new Subscriber({
    appId: 'app',
    namespace: 'default',
    pubsubs: new Map([['pubsub', entryOf('pubsub', pubsub)]]),
    declarative,
    inboundPolicy: () => (retries === undefined ? noPolicy : retrying(retries)),
    initRetries: noPolicy,
    deadLetters: async (message) => {
      deadLetters.push(Buffer.from(message.data).toString());
    },
    logger: silentLogger,
  });
  return { pubsub, channel, subscriber, deadLetters };
}

const bulk = (count: number, awaitMs = 60_000) => ({
  bulkSubscribe: { enabled: true, maxMessagesCount: count, maxAwaitDurationMs: awaitMs },
});

describe('BulkBatcher', () => {
  it('sends a batch when it is full, and the rest after the wait', async () => {
    const batches: number[][] = [];
    const batcher = new BulkBatcher<number>(2, 20, async (items) => {
      batches.push(items.map((item) => item.value));
      for (const item of items) item.resolve();
    });
    await Promise.all([batcher.push(1), batcher.push(2), batcher.push(3)]);
    assert.deepEqual(batches, [[1, 2], [3]]);
  });

  it('rejects every item of a batch whose processing threw', async () => {
    const batcher = new BulkBatcher<number>(2, 10, async () => {
      throw new Error('boom');
    });
    const results = await Promise.allSettled([batcher.push(1), batcher.push(2)]);
    assert.deepEqual(
      results.map((r) => r.status),
      ['rejected', 'rejected'],
    );
  });

  it('flushes on close and refuses items afterwards', async () => {
    const seen: number[] = [];
    const batcher = new BulkBatcher<number>(10, 60_000, async (items) => {
      for (const item of items) {
        seen.push(item.value);
        item.resolve();
      }
    });
    const pending = batcher.push(7);
    await batcher.close();
    await pending;
    assert.deepEqual(seen, [7]);
    await assert.rejects(batcher.push(8));
  });
});

describe('Subscriber: bulk subscribe', () => {
  it('batches messages per route and maps each entry status to its message', async () => {
    const { pubsub, channel, subscriber, deadLetters } = setup([
      subscriptionResource('s', 'orders', {
        ...bulk(4),
        deadLetterTopic: 'dead',
        routes: { rules: [{ match: 'event.type == "b"', path: '/b' }], default: '/a' },
      }),
    ]);
    channel.bulkAnswer = (batch) => {
      const out = new Map<string, DeliveryOutcome>();
      for (const entry of batch.entries) {
        const id = (entry.event as { id: string }).id;
        out.set(
          entry.entryId,
          id === 'retry'
            ? { status: 'RETRY', reason: 'r' }
            : id === 'drop'
              ? { status: 'DROP', reason: 'd' }
              : { status: 'SUCCESS' },
        );
      }
      return out;
    };
    await subscriber.startApp(channel);
    const results = await Promise.all([
      pubsub.deliver('orders', { data: cloudEvent({ id: 'ok', type: 'a' }) }),
      pubsub.deliver('orders', { data: cloudEvent({ id: 'retry', type: 'a' }) }),
      pubsub.deliver('orders', { data: cloudEvent({ id: 'drop', type: 'b' }) }),
      pubsub.deliver('orders', { data: cloudEvent({ id: 'ok2', type: 'b' }) }),
    ]);
    // The failed entry went to the dead-letter topic, so every message is acked.
    assert.deepEqual(results, ['ack', 'ack', 'ack', 'ack']);
    assert.deepEqual(channel.batches.map((b) => [b.path, b.entries.length]).sort(), [
      ['/a', 2],
      ['/b', 2],
    ]);
    assert.equal(channel.batches[0]?.metadata.pubsubName, 'pubsub');
    assert.equal(deadLetters.length, 2);
  });

  it('retries only the failed entries, then nacks them without a dead-letter topic', async () => {
    const { pubsub, channel, subscriber } = setup(
      [subscriptionResource('s', 'orders', bulk(2))],
      1,
    );
    channel.bulkAnswer = (batch) =>
      new Map(
        batch.entries.map((entry) => [
          entry.entryId,
          (entry.event as { id: string }).id === 'bad'
            ? { status: 'RETRY', reason: 'r' }
            : { status: 'SUCCESS' },
        ]),
      );
    await subscriber.startApp(channel);
    const results = await Promise.all([
      pubsub.deliver('orders', { data: cloudEvent({ id: 'good' }) }),
      pubsub.deliver('orders', { data: cloudEvent({ id: 'bad' }) }),
    ]);
    assert.deepEqual(results, ['ack', 'nack']);
    assert.deepEqual(
      channel.batches.map((b) => b.entries.length),
      [2, 1],
    );
  });

  it('sends raw entries as bytes with an octet-stream content type', async () => {
    const { pubsub, channel, subscriber } = setup([
      subscriptionResource('s', 'raw', { ...bulk(1), metadata: { rawPayload: 'true' } }),
    ]);
    await subscriber.startApp(channel);
    assert.equal(await pubsub.deliver('raw', { data: new Uint8Array([5]) }), 'ack');
    const entry = channel.batches[0]?.entries[0];
    assert.ok(entry?.event instanceof Uint8Array);
    assert.equal(entry?.contentType, 'application/octet-stream');
  });
});

describe('Subscriber: streaming subscriptions', () => {
  it('streams events and acks by the answer carrying their id', async () => {
    const { pubsub, subscriber } = setup([]);
    const stream = await subscriber.openStream(
      { pubsubName: 'pubsub', topic: 'live', metadata: {} },
      new AbortController().signal,
    );
    assert.deepEqual(
      subscriber.list().map((s) => [s.type, s.topic, s.rules[0]?.path]),
      [['STREAMING', 'live', '/']],
    );
    const events = stream.stream.events();
    const first = pubsub.deliver('live', {
      data: cloudEvent({ id: 'a1', datacontenttype: 'application/json', data: { x: 1 } }),
    });
    const event = (await events.next()).value;
    assert.equal(event?.id, 'a1');
    assert.equal(event?.path, '/');
    assert.equal(Buffer.from(event?.data ?? []).toString(), '{"x":1}');
    stream.stream.respond('a1', 'SUCCESS');
    assert.equal(await first, 'ack');

    const second = pubsub.deliver('live', { data: cloudEvent({ id: 'a2' }) });
    assert.equal((await events.next()).value?.id, 'a2');
    stream.stream.respond('a2', 'RETRY');
    assert.equal(await second, 'nack');

    await stream.close();
    assert.equal((await events.next()).done, true);
    assert.equal(subscriber.list().length, 0);
    assert.deepEqual(pubsub.closedTopics, ['live']);
  });

  it('redelivers events still waiting when the stream closes', async () => {
    const { pubsub, subscriber } = setup([]);
    const stream = await subscriber.openStream(
      { pubsubName: 'pubsub', topic: 'live', metadata: {} },
      new AbortController().signal,
    );
    const pending = pubsub.deliver('live', { data: cloudEvent({ id: 'w' }) });
    await stream.stream.events().next();
    await stream.close();
    assert.equal(await pending, 'nack');
  });

  it('refuses an unknown component and a forbidden topic', async () => {
    const { subscriber } = setup([]);
    await assert.rejects(
      subscriber.openStream(
        { pubsubName: 'nope', topic: 't', metadata: {} },
        new AbortController().signal,
      ),
      (error: unknown) => isTaprError(error) && error.code === 'ERR_PUBSUB_NOT_FOUND',
    );
    const pubsub = new FakePubSub();
    const scoped = new Subscriber({
      appId: 'app',
      namespace: '',
      pubsubs: new Map([
        [
          'pubsub',
          entryOf('pubsub', pubsub, {
            scopes: {
              allowedTopics: ['only'],
              protectedTopics: [],
              publishingScopes: [],
              subscriptionScopes: [],
            },
          }),
        ],
      ]),
      declarative: [],
      inboundPolicy: () => noPolicy,
      initRetries: noPolicy,
      deadLetters: async () => {},
      logger: silentLogger,
    });
    await assert.rejects(
      scoped.openStream(
        { pubsubName: 'pubsub', topic: 'other', metadata: {} },
        new AbortController().signal,
      ),
      /is not allowed/,
    );
  });
});
