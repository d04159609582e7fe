import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { deferred } from '../../helpers/deferred.js';
import { RABBITMQ_URL, waitUntil } from '../../helpers/test-servers.js';
import { never, utf8 } from './harness.js';
import { CuttableProxy, Inbox, LIMIT_MS, RabbitFixture } from './rabbitmq-fixture.js';

/** Queues that outlive their consumers, so a case can inspect them after closing. */
const KEEP = { connectionString: RABBITMQ_URL, deletedWhenUnused: 'false' } as const;

describe('pubsub.rabbitmq recovery', () => {
  const fixture = new RabbitFixture();
  before(() => fixture.open());
  after(() => fixture.close());

  describe('connection loss', () => {
    it('reconnects, resubscribes and redelivers what was in flight', async () => {
      const proxy = await CuttableProxy.start();
      try {
        const topic = fixture.topic('reconnect');
        const pubsub = await fixture.pubsub('reconnect', {
          ...KEEP,
          connectionString: proxy.url,
          reconnectWaitSeconds: '200ms',
          publisherConfirm: 'true',
        });
        const inbox = new Inbox();
        const held = deferred();
        await fixture.subscribe(pubsub, topic, async (message) => {
          inbox.record(message);
          // The first delivery is still in the handler when the connection goes.
          if (inbox.messages.length === 1) await held.promise;
        });
        await pubsub.publish({ topic, data: utf8('in flight'), metadata: {} }, never);
        await inbox.until(1);
        proxy.cut();
        held.resolve();
        // The publish waits out the reconnect; the resubscribed consumer gets both messages.
        await pubsub.publish({ topic, data: utf8('after'), metadata: {} }, never);
        await inbox.until(3);
        assert.deepEqual(inbox.texts().sort(), ['after', 'in flight', 'in flight']);
        assert.ok(proxy.accepted >= 2, 'a second connection was made');
      } finally {
        await proxy.close();
      }
    });
  });

  describe('queue loss', () => {
    it('declares its queue again and resumes when the queue is deleted under it', async () => {
      const topic = fixture.topic('deleted');
      const queue = `deleted-${topic}`;
      const pubsub = await fixture.pubsub('deleted', { ...KEEP, reconnectWaitSeconds: '100ms' });
      const inbox = new Inbox();
      await fixture.subscribe(pubsub, topic, inbox.handler);
      await fixture.onChannel((channel) => channel.deleteQueue(queue));
      // The broker cancels the consumer; the subscription's own consumer is back once it counts.
      const consumers = (): Promise<number> =>
        fixture.onChannel(async (channel) => (await channel.checkQueue(queue)).consumerCount);
      await waitUntil(
        'the queue to be consumed again',
        async () => (await fixture.queueExists(queue)) && (await consumers()) === 1,
        LIMIT_MS,
      );
      await pubsub.publish({ topic, data: utf8('after delete'), metadata: {} }, never);
      await inbox.until(1);
      assert.deepEqual(inbox.texts(), ['after delete']);
    });
  });
});
