import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { PubSubRegistry } from '../../../../src/core/pubsub/pubsub-types.js';
import type { DeadLetterMessage } from '../../../../src/core/pubsub/subscriptions/delivery-context.js';
import {
  Subscriber,
  SubscriptionConfigError,
} from '../../../../src/core/pubsub/subscriptions/subscriber.js';
import { silentLogger } from '../../../../src/kernel/logger.js';
import type { PolicyRunner } from '../../../../src/resiliency/index.js';
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

interface Setup {
  readonly pubsub: FakePubSub;
  readonly channel: FakeAppChannel;
  readonly subscriber: Subscriber;
  readonly deadLetters: DeadLetterMessage[];
}

function setup(
  declarative: SubscriptionResource[],
  options: { policy?: PolicyRunner; registry?: PubSubRegistry; failDeadLetters?: boolean } = {},
): Setup {
  const pubsub = new FakePubSub();
  const channel = new FakeAppChannel();
  const deadLetters: DeadLetterMessage[] = [];
  const subscriber = new Subscriber({
    appId: 'app',
    namespace: 'default',
    pubsubs: options.registry ?? new Map([['pubsub', entryOf('pubsub', pubsub)]]),
    declarative,
    inboundPolicy: () => options.policy ?? noPolicy,
    initRetries: noPolicy,
    deadLetters: async (message) => {
      if (options.failDeadLetters) throw new Error('dead letter refused');
      deadLetters.push(message);
    },
    logger: silentLogger,
  });
  return { pubsub, channel, subscriber, deadLetters };
}

describe('Subscriber: single events', () => {
  it('acks after SUCCESS and posts the route with metadata', async () => {
    const { pubsub, channel, subscriber } = setup([subscriptionResource('s', 'orders')]);
    await subscriber.startApp(channel);
    const data = cloudEvent({ data: { n: 1 } });
    assert.equal(await pubsub.deliver('orders', { data, metadata: { key: 'v' } }), 'ack');
    const [event] = channel.events;
    assert.equal(event?.path, '/orders');
    assert.equal(event?.topic, 'orders');
    assert.equal(event?.body, data);
    assert.deepEqual(event?.metadata, { key: 'v', pubsubName: 'pubsub' });
  });

  it('nacks a RETRY without a dead-letter topic, after the inbound policy retried', async () => {
    const { pubsub, channel, subscriber } = setup([subscriptionResource('s', 'orders')], {
      policy: retrying(2),
    });
    channel.answer = () => ({ status: 'RETRY', reason: 'busy' });
    await subscriber.startApp(channel);
    assert.equal(await pubsub.deliver('orders', { data: cloudEvent({}) }), 'nack');
    assert.equal(channel.events.length, 3);
  });

  it('succeeds when a retry of the inbound policy succeeds', async () => {
    const { pubsub, channel, subscriber } = setup([subscriptionResource('s', 'orders')], {
      policy: retrying(3),
    });
    let calls = 0;
    channel.answer = () =>
      ++calls < 3 ? { status: 'RETRY', reason: 'x', httpStatus: 500 } : { status: 'SUCCESS' };
    await subscriber.startApp(channel);
    assert.equal(await pubsub.deliver('orders', { data: cloudEvent({}) }), 'ack');
    assert.equal(calls, 3);
  });

  it('dead-letters the original message once retries are exhausted, then acks', async () => {
    const { pubsub, channel, subscriber, deadLetters } = setup(
      [subscriptionResource('s', 'orders', { deadLetterTopic: 'dead' })],
      { policy: retrying(1) },
    );
    channel.answer = () => ({ status: 'RETRY', reason: 'no' });
    await subscriber.startApp(channel);
    const data = cloudEvent({});
    assert.equal(
      await pubsub.deliver('orders', {
        data,
        contentType: 'application/cloudevents+json',
        metadata: { a: 'b' },
      }),
      'ack',
    );
    assert.equal(channel.events.length, 2);
    assert.equal(deadLetters.length, 1);
    assert.equal(deadLetters[0]?.topic, 'dead');
    assert.equal(deadLetters[0]?.data, data);
    assert.equal(deadLetters[0]?.contentType, 'application/cloudevents+json');
    assert.deepEqual(deadLetters[0]?.metadata, { a: 'b' });
  });

  it('nacks when the dead-letter publish fails', async () => {
    const { pubsub, channel, subscriber } = setup(
      [subscriptionResource('s', 'orders', { deadLetterTopic: 'dead' })],
      { failDeadLetters: true },
    );
    channel.answer = () => ({ status: 'RETRY', reason: 'no' });
    await subscriber.startApp(channel);
    assert.equal(await pubsub.deliver('orders', { data: cloudEvent({}) }), 'nack');
  });

  it('acks a DROP, and dead-letters it when a topic is set', async () => {
    const { pubsub, channel, subscriber, deadLetters } = setup([
      subscriptionResource('a', 'plain'),
      subscriptionResource('b', 'lettered', { deadLetterTopic: 'dead' }),
    ]);
    channel.answer = () => ({ status: 'DROP', reason: 'dropped' });
    await subscriber.startApp(channel);
    assert.equal(await pubsub.deliver('plain', { data: cloudEvent({}) }), 'ack');
    assert.equal(deadLetters.length, 0);
    assert.equal(await pubsub.deliver('lettered', { data: cloudEvent({}) }), 'ack');
    assert.equal(deadLetters.length, 1);
  });

  it('drops an expired event without delivering it', async () => {
    const { pubsub, channel, subscriber } = setup([subscriptionResource('s', 'orders')]);
    await subscriber.startApp(channel);
    const data = cloudEvent({ expiration: '2000-01-01T00:00:00Z' });
    assert.equal(await pubsub.deliver('orders', { data }), 'ack');
    assert.equal(channel.events.length, 0);
    const fresh = cloudEvent({ expiration: '2999-01-01T00:00:00Z' });
    assert.equal(await pubsub.deliver('orders', { data: fresh }), 'ack');
    assert.equal(channel.events.length, 1);
  });

  it('routes by CEL rule and acks events no rule matches', async () => {
    const { pubsub, channel, subscriber } = setup([
      subscriptionResource('s', 'orders', {
        routes: { rules: [{ match: 'event.type == "big"', path: '/big' }] },
      }),
    ]);
    await subscriber.startApp(channel);
    assert.equal(await pubsub.deliver('orders', { data: cloudEvent({ type: 'big' }) }), 'ack');
    assert.equal(await pubsub.deliver('orders', { data: cloudEvent({ type: 'small' }) }), 'ack');
    assert.deepEqual(
      channel.events.map((e) => e.path),
      ['/big'],
    );
  });

  it('nacks a message that is not a CloudEvent, or whose rule fails', async () => {
    const { pubsub, channel, subscriber } = setup([
      subscriptionResource('s', 'orders', {
        routes: { rules: [{ match: 'event.data.x == 1', path: '/x' }] },
      }),
    ]);
    await subscriber.startApp(channel);
    assert.equal(
      await pubsub.deliver('orders', { data: new TextEncoder().encode('oops') }),
      'nack',
    );
    assert.equal(await pubsub.deliver('orders', { data: cloudEvent({ data: {} }) }), 'nack');
    assert.equal(channel.events.length, 0);
  });

  it('wraps raw payloads for the app', async () => {
    const { pubsub, channel, subscriber } = setup([
      subscriptionResource('s', 'raw', { metadata: { rawPayload: 'true' } }),
    ]);
    await subscriber.startApp(channel);
    assert.equal(await pubsub.deliver('raw', { data: new Uint8Array([1, 2, 3]) }), 'ack');
    assert.equal(channel.events[0]?.cloudEvent.data_base64, 'AQID');
    assert.deepEqual(pubsub.subscribed[0]?.metadata, { rawPayload: 'true' });
  });
});

describe('Subscriber: sources and lifecycle', () => {
  it('refuses a declarative rule that does not compile, naming file and resource', () => {
    assert.throws(
      () =>
        setup([
          subscriptionResource('broken', 'orders', {
            routes: { rules: [{ match: 'event.type ==', path: '/x' }] },
          }),
        ]),
      (error: unknown) => {
        assert.ok(error instanceof SubscriptionConfigError);
        assert.match(error.message, /\/resources\/broken\.yaml/);
        assert.match(error.message, /Subscription "broken"/);
        return true;
      },
    );
  });

  it('merges the app subscriptions over declarative ones and lists them', async () => {
    const { pubsub, channel, subscriber } = setup([
      subscriptionResource('d1', 'orders'),
      subscriptionResource('d2', 'audit', { deadLetterTopic: 'dead' }),
    ]);
    channel.listed = [
      {
        type: 'PROGRAMMATIC',
        pubsubName: 'pubsub',
        topic: 'orders',
        metadata: {},
        rules: [{ match: '', path: '/mine' }],
      },
      // A bad rule drops only this subscription.
      {
        type: 'PROGRAMMATIC',
        pubsubName: 'pubsub',
        topic: 'bad',
        metadata: {},
        rules: [{ match: '(((', path: '/bad' }],
      },
    ];
    assert.equal(subscriber.list().length, 2);
    await subscriber.startApp(channel);
    assert.deepEqual(
      subscriber.list().map((s) => [s.topic, s.type, s.deadLetterTopic]),
      [
        ['orders', 'PROGRAMMATIC', ''],
        ['audit', 'DECLARATIVE', 'dead'],
      ],
    );
    assert.deepEqual(pubsub.subscribed.map((s) => s.topic).sort(), ['audit', 'orders']);
    await pubsub.deliver('orders', { data: cloudEvent({}) });
    assert.equal(channel.events[0]?.path, '/mine');
  });

  it('skips topics the component scopes forbid and unknown components', async () => {
    const pubsub = new FakePubSub();
    const registry = new Map([
      [
        'pubsub',
        entryOf('pubsub', pubsub, {
          scopes: {
            allowedTopics: [],
            protectedTopics: [],
            publishingScopes: [],
            subscriptionScopes: ['allowed'],
          },
        }),
      ],
    ]);
    const { channel, subscriber } = setup(
      [
        subscriptionResource('a', 'allowed'),
        subscriptionResource('b', 'denied'),
        subscriptionResource('c', 'x', { pubsubName: 'missing' }),
      ],
      { registry },
    );
    await subscriber.startApp(channel);
    assert.deepEqual(
      pubsub.subscribed.map((s) => s.topic),
      ['allowed'],
    );
  });

  it('retries a subscription the component refused', async () => {
    const { pubsub, channel, subscriber } = setup([subscriptionResource('s', 'orders')]);
    pubsub.refuse = 1;
    await subscriber.startApp(channel);
    assert.equal(pubsub.subscribed.length, 0);
    while (pubsub.subscribed.length === 0) await new Promise((r) => setTimeout(r, 50));
    assert.equal(pubsub.subscribed[0]?.topic, 'orders');
    await subscriber.close(100);
  });

  it('waits for an in-flight delivery when closing, and refuses new messages', async () => {
    const { pubsub, channel, subscriber } = setup([subscriptionResource('s', 'orders')]);
    let release: () => void = () => {};
    channel.answer = () =>
      new Promise((resolve) => {
        release = () => resolve({ status: 'SUCCESS' });
      });
    await subscriber.startApp(channel);
    const inFlight = pubsub.deliver('orders', { data: cloudEvent({}) });
    while (channel.events.length === 0) await new Promise((r) => setImmediate(r));
    const handler = pubsub.handlers.get('orders')!;
    const closing = subscriber.close(10_000);
    // The fake component keeps the handler; a message arriving now goes back to the broker.
    await assert.rejects(handler({ topic: 'orders', data: cloudEvent({}), metadata: {} }));
    release();
    assert.equal(await inFlight, 'ack');
    await closing;
    assert.deepEqual(pubsub.closedTopics, ['orders']);
  });

  it('cancels deliveries still running when the grace period ends', async () => {
    const { pubsub, channel, subscriber } = setup([subscriptionResource('s', 'orders')]);
    channel.answer = (_event, signal) =>
      new Promise((_resolve, reject) => {
        signal.addEventListener('abort', () => reject(signal.reason));
      });
    await subscriber.startApp(channel);
    const inFlight = pubsub.deliver('orders', { data: cloudEvent({}) });
    while (channel.events.length === 0) await new Promise((r) => setImmediate(r));
    await subscriber.close(20);
    assert.equal(await inFlight, 'nack');
  });
});
