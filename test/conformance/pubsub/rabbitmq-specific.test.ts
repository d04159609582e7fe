import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { deferred } from '../../helpers/deferred.js';
import { RABBITMQ_URL, waitUntil } from '../../helpers/test-servers.js';
import { never, utf8 } from './harness.js';
import { CuttableProxy, Inbox, LIMIT_MS, RabbitFixture } from './rabbitmq-fixture.js';

/** Queues that outlive their consumers, so a case can inspect them after closing. */
const KEEP = { connectionString: RABBITMQ_URL, deletedWhenUnused: 'false' } as const;

describe('pubsub.rabbitmq specifics', () => {
  const fixture = new RabbitFixture();
  before(() => fixture.open());
  after(() => fixture.close());

  describe("Dapr's names and declarations", () => {
    it('declares an exchange per topic and a queue <consumerID>-<topic> (Dapr defaults)', async () => {
      const topic = fixture.topic('names');
      const pubsub = await fixture.pubsub('orders', { connectionString: RABBITMQ_URL });
      const subscription = await fixture.subscribe(pubsub, topic, new Inbox().handler);
      // Re-declaring with the same properties succeeds only if they match what Dapr declares:
      // a durable, auto-deleted fanout exchange and a durable, auto-deleted classic queue.
      await fixture.onChannel(async (channel) => {
        await channel.assertExchange(topic, 'fanout', { durable: true, autoDelete: true });
        await channel.assertQueue(`orders-${topic}`, {
          durable: true,
          autoDelete: true,
          arguments: { 'x-queue-type': 'classic' },
        });
      });
      await subscription.close();
      // Auto-delete (Dapr's deletedWhenUnused default) removes the queue with its last consumer.
      await waitUntil(
        'the unused queue to go',
        async () => !(await fixture.queueExists(`orders-${topic}`)),
        LIMIT_MS,
      );
    });

    it('names dead-letter exchanges and queues dlx-<queue> and dlq-<queue>', async () => {
      const topic = fixture.topic('dl-names');
      const pubsub = await fixture.pubsub('dl', {
        ...KEEP,
        enableDeadLetter: 'true',
        maxLen: '50',
      });
      await fixture.subscribe(pubsub, topic, new Inbox().handler);
      const queue = `dl-${topic}`;
      await fixture.onChannel(async (channel) => {
        await channel.assertExchange(`dlx-${queue}`, 'fanout', {
          durable: true,
          autoDelete: false,
        });
        await channel.assertQueue(`dlq-${queue}`, {
          durable: true,
          autoDelete: false,
          arguments: { 'x-max-length': 50, 'x-queue-mode': 'lazy' },
        });
        await channel.assertQueue(queue, {
          durable: true,
          autoDelete: false,
          arguments: {
            'x-dead-letter-exchange': `dlx-${queue}`,
            'x-max-length': 50,
            'x-queue-type': 'classic',
          },
        });
      });
    });

    it('uses the queue a subscription names, with its priority and single active consumer', async () => {
      const topic = fixture.topic('queue-name');
      const queue = `${topic}.own-queue`;
      const pubsub = await fixture.pubsub('ignored', KEEP);
      await fixture.subscribe(pubsub, topic, new Inbox().handler, {
        queueName: queue,
        maxPriority: '300',
        singleActiveConsumer: 'true',
      });
      await fixture.onChannel((channel) =>
        channel.assertQueue(queue, {
          durable: true,
          autoDelete: false,
          arguments: {
            'x-max-priority': 255,
            'x-queue-type': 'classic',
            'x-single-active-consumer': true,
          },
        }),
      );
      assert.equal(await fixture.queueExists(`ignored-${topic}`), false);
    });

    it('binds each routing key of a topic exchange and publishes with the routing key', async () => {
      const topic = fixture.topic('routing');
      const pubsub = await fixture.pubsub('routes', { ...KEEP, exchangeKind: 'topic' });
      const inbox = new Inbox();
      await fixture.subscribe(pubsub, topic, inbox.handler, { routingKey: 'eu.*,us.orders' });
      for (const [key, text] of [
        ['asia.orders', 'dropped'],
        ['eu.orders', 'first'],
        ['us.orders', 'second'],
      ]) {
        await pubsub.publish(
          { topic, data: utf8(text as string), metadata: { routingKey: key as string } },
          never,
        );
      }
      await inbox.until(2);
      assert.deepEqual(inbox.texts(), ['first', 'second']);
    });
  });

  describe('publishing', () => {
    it('sets delivery mode, priority, expiration, content type and ids as Dapr does', async () => {
      const topic = fixture.topic('properties');
      const pubsub = await fixture.pubsub('props', {
        ...KEEP,
        deliveryMode: '2',
        ttlInSeconds: '90',
      });
      const subscription = await fixture.subscribe(pubsub, topic, new Inbox().handler);
      await subscription.close();
      const queue = `props-${topic}`;
      await pubsub.publish({ topic, data: utf8('defaults'), metadata: {} }, never);
      await pubsub.publish(
        {
          topic,
          data: utf8('given'),
          metadata: {
            ttlInSeconds: '5',
            priority: '7',
            contenttype: 'application/json',
            messageID: 'm-1',
            correlationID: 'c-1',
            type: 't',
          },
        },
        never,
      );
      await pubsub.publish(
        { topic, data: utf8('runtime ttl'), metadata: {}, ttlSeconds: 2 },
        never,
      );
      const first = await fixture.take(queue);
      const second = await fixture.take(queue);
      const third = await fixture.take(queue);
      assert.ok(first && second && third, 'three messages queued');
      assert.equal(first.properties.deliveryMode, 2);
      assert.equal(first.properties.contentType, 'text/plain');
      assert.equal(first.properties.expiration, '90000', "the component's ttlInSeconds");
      assert.equal(first.properties.priority, undefined);
      assert.equal(second.properties.expiration, '5000');
      assert.equal(second.properties.priority, 7);
      assert.equal(second.properties.contentType, 'application/json');
      assert.equal(second.properties.messageId, 'm-1');
      assert.equal(second.properties.correlationId, 'c-1');
      assert.equal(second.properties.type, 't');
      assert.equal(third.properties.expiration, '2000');
      assert.equal(third.content.toString(), 'runtime ttl');
    });

    it('waits for the broker to confirm with publisherConfirm', async () => {
      const topic = fixture.topic('confirm');
      const pubsub = await fixture.pubsub('confirm', { ...KEEP, publisherConfirm: 'true' });
      await (await fixture.subscribe(pubsub, topic, new Inbox().handler)).close();
      await Promise.all(
        Array.from({ length: 50 }, (_, index) =>
          pubsub.publish({ topic, data: utf8(`c${index}`), metadata: {} }, never),
        ),
      );
      // Confirmed means enqueued: every message is countable the moment publish resolved.
      assert.equal(await fixture.readyCount(`confirm-${topic}`), 50);
    });
  });

  describe('failures and dead letters', () => {
    it('drops a rejected message with requeueInFailure false (Dapr default)', async () => {
      const topic = fixture.topic('drop');
      const pubsub = await fixture.pubsub('drop', { ...KEEP, concurrencyMode: 'single' });
      const inbox = new Inbox();
      const subscription = await fixture.subscribe(pubsub, topic, async (message) => {
        inbox.record(message);
        if (Buffer.from(message.data).toString() === 'bad') throw new Error('refused');
      });
      await pubsub.publish({ topic, data: utf8('bad'), metadata: {} }, never);
      await pubsub.publish({ topic, data: utf8('good'), metadata: {} }, never);
      await inbox.until(2);
      await subscription.close();
      assert.deepEqual(inbox.texts(), ['bad', 'good']);
      assert.equal(await fixture.readyCount(`drop-${topic}`), 0, 'the rejected message is gone');
    });

    it('redelivers a rejected message with requeueInFailure true', async () => {
      const topic = fixture.topic('requeue');
      const pubsub = await fixture.pubsub('requeue', { ...KEEP, requeueInFailure: 'true' });
      const inbox = new Inbox();
      await fixture.subscribe(pubsub, topic, async (message) => {
        inbox.record(message);
        if (inbox.messages.length === 1) throw new Error('refused once');
      });
      await pubsub.publish({ topic, data: utf8('again'), metadata: {} }, never);
      await inbox.until(2);
      assert.deepEqual(inbox.texts(), ['again', 'again']);
    });

    it('dead-letters rejected and expired messages to dlq-<queue> with enableDeadLetter', async () => {
      const topic = fixture.topic('dlq');
      const pubsub = await fixture.pubsub('dlq', { ...KEEP, enableDeadLetter: 'true' });
      const refused = new Inbox();
      const subscription = await fixture.subscribe(pubsub, topic, async (message) => {
        refused.record(message);
        throw new Error('refused');
      });
      await pubsub.publish({ topic, data: utf8('rejected'), metadata: {} }, never);
      await refused.until(1);
      await subscription.close();
      // With no consumer, a message with a TTL of 0 expires at once into the dead-letter queue.
      await pubsub.publish(
        { topic, data: utf8('expired'), metadata: { ttlInSeconds: '0' } },
        never,
      );
      const dlq = `dlq-dlq-${topic}`;
      await waitUntil(
        'two dead letters',
        async () => (await fixture.readyCount(dlq)) === 2,
        LIMIT_MS,
      );
      const first = await fixture.take(dlq);
      const second = await fixture.take(dlq);
      assert.ok(first && second);
      assert.equal(first.content.toString(), 'rejected');
      assert.equal(first.properties.headers?.['x-first-death-reason'], 'rejected');
      assert.equal(second.content.toString(), 'expired');
      assert.equal(second.properties.headers?.['x-first-death-reason'], 'expired');
    });
  });

  describe('delivery', () => {
    it('passes AMQP properties as metadata only with publishMessagePropertiesToMetadata', async () => {
      const topic = fixture.topic('meta');
      const plain = new Inbox();
      const detailed = new Inbox();
      const without = await fixture.pubsub('meta-plain', KEEP);
      const withProps = await fixture.pubsub('meta-props', {
        ...KEEP,
        publishMessagePropertiesToMetadata: 'true',
      });
      await fixture.subscribe(without, topic, plain.handler);
      await fixture.subscribe(withProps, topic, detailed.handler);
      await without.publish(
        { topic, data: utf8('x'), metadata: { messageID: 'id-9', type: 'kind' } },
        never,
      );
      await Promise.all([plain.until(1), detailed.until(1)]);
      assert.deepEqual(plain.messages[0]?.metadata, {});
      assert.equal(plain.messages[0]?.contentType, undefined);
      assert.deepEqual(detailed.messages[0]?.metadata, {
        'metadata.messageid': 'id-9',
        'metadata.type': 'kind',
        'metadata.contenttype': 'text/plain',
      });
    });

    it('close() waits for the handler in flight and acknowledges it', async () => {
      const topic = fixture.topic('close-wait');
      const pubsub = await fixture.pubsub('close-wait', KEEP);
      const started = deferred();
      const release = deferred();
      let handlerDone = false;
      const subscription = await fixture.subscribe(pubsub, topic, async () => {
        started.resolve();
        await release.promise;
        handlerDone = true;
      });
      await pubsub.publish({ topic, data: utf8('slow'), metadata: {} }, never);
      await started.promise;
      const closing = subscription.close().then(() => handlerDone);
      release.resolve();
      assert.equal(await closing, true, 'close() returned before the handler settled');
      // Unacknowledged messages return to the queue when the channel closes: none did.
      assert.equal(await fixture.readyCount(`close-wait-${topic}`), 0);
    });

    it('hands out prefetched messages no further after close; they return to the queue', async () => {
      const topic = fixture.topic('prefetched');
      const pubsub = await fixture.pubsub('prefetched', { ...KEEP, concurrencyMode: 'single' });
      const started = deferred();
      const release = deferred();
      const inbox = new Inbox();
      const subscription = await fixture.subscribe(pubsub, topic, async (message) => {
        inbox.record(message);
        started.resolve();
        await release.promise;
      });
      for (let index = 0; index < 5; index++) {
        await pubsub.publish({ topic, data: utf8(`p${index}`), metadata: {} }, never);
      }
      await started.promise;
      const closing = subscription.close();
      release.resolve();
      await closing;
      assert.equal(inbox.messages.length, 1);
      assert.equal(await fixture.readyCount(`prefetched-${topic}`), 4);
    });
  });

  describe('bad input', () => {
    it('rejects a subscription with an invalid queue type or number', async () => {
      const topic = fixture.topic('bad-sub');
      const pubsub = await fixture.pubsub('bad-sub', KEEP);
      await assert.rejects(
        pubsub.subscribe({ topic, metadata: { queueType: 'stream' } }, new Inbox().handler, never),
        /invalid queue type stream/,
      );
      await assert.rejects(
        pubsub.subscribe({ topic, metadata: { maxPriority: 'high' } }, new Inbox().handler, never),
        /maxPriority "high" is not an unsigned integer/,
      );
    });

    it('fails a subscription whose queue exists with other arguments, and keeps working', async () => {
      const topic = fixture.topic('mismatch');
      const plain = await fixture.pubsub('mismatch', KEEP);
      await fixture.subscribe(plain, topic, new Inbox().handler);
      const other = await fixture.pubsub('mismatch', { ...KEEP, maxLen: '10' });
      await assert.rejects(
        other.subscribe({ topic, metadata: {} }, new Inbox().handler, never),
        /PRECONDITION_FAILED|inequivalent arg/,
      );
      const inbox = new Inbox();
      await fixture.subscribe(other, topic, inbox.handler, { queueName: `${topic}.other` });
      await other.publish({ topic, data: utf8('still fine'), metadata: {} }, never);
      await inbox.until(1);
    });

    it('fails to start when the broker cannot be reached, without the password', async () => {
      const proxy = await CuttableProxy.start();
      const url = proxy.url.replace('guest:guest', 'guest:s3cret');
      await proxy.close();
      await assert.rejects(
        fixture.pubsub('unreachable', { connectionString: url }),
        (error: Error) => {
          assert.match(error.message, /cannot connect to 127\.0\.0\.1:\d+/);
          assert.doesNotMatch(error.message, /s3cret/);
          return true;
        },
      );
    });

    it('rejects publish and subscribe after close', async () => {
      const pubsub = await fixture.pubsub('closed', KEEP);
      await pubsub.close();
      const topic = fixture.topic('closed');
      await assert.rejects(
        pubsub.publish({ topic, data: utf8('x'), metadata: {} }, never),
        /closed/,
      );
      await assert.rejects(
        pubsub.subscribe({ topic, metadata: {} }, new Inbox().handler, never),
        /closed/,
      );
    });
  });
});
