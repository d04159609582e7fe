import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  createComponent,
  type MetadataRecord,
} from '../../../src/components/contracts/component.js';
import type { PubSub, PubSubMessage } from '../../../src/components/contracts/pubsub.js';
import { inMemoryPubSub } from '../../../src/components/pubsub/in-memory.js';
import { topicMatches } from '../../../src/components/pubsub/in-memory-bus.js';
import { silentLogger } from '../../../src/kernel/logger.js';

const never = new AbortController().signal;
const text = (message: PubSubMessage): string => Buffer.from(message.data).toString('utf8');

async function instance(
  definition: ReturnType<typeof inMemoryPubSub>,
  metadata: MetadataRecord = {},
  name = 'pubsub',
): Promise<PubSub> {
  const created = await createComponent(definition, metadata, {
    name,
    appId: 'app',
    logger: silentLogger,
    signal: never,
  });
  return created.instance;
}

function publish(pubsub: PubSub, topic: string, data: string, metadata: MetadataRecord = {}) {
  return pubsub.publish({ topic, data: Buffer.from(data), metadata }, never);
}

/** A promise with its resolver, for awaiting an event in a handler. */
function deferred<T = void>(): { promise: Promise<T>; resolve: (value: T) => void } {
  let resolve: (value: T) => void = () => {};
  const promise = new Promise<T>((done) => {
    resolve = done;
  });
  return { promise, resolve };
}

describe('pubsub.in-memory', () => {
  it('matches wildcard topics as Dapr’s in-memory bus does', () => {
    assert.equal(topicMatches('orders', 'orders'), true);
    assert.equal(topicMatches('orders/*', 'orders/eu'), true);
    assert.equal(topicMatches('orders/*', 'orders/'), false);
    assert.equal(topicMatches('orders*', 'orders-eu'), true);
    assert.equal(topicMatches('orders', 'orders/eu'), false);
  });

  it('delivers wildcard subscriptions the concrete topic and publish metadata', async () => {
    const pubsub = await instance(inMemoryPubSub());
    const got = deferred<PubSubMessage>();
    await pubsub.subscribe({ topic: 'orders/*', metadata: {} }, async (m) => got.resolve(m), never);
    await publish(pubsub, 'orders/eu', 'x', { k: 'v' });
    const message = await got.promise;
    assert.equal(message.topic, 'orders/eu');
    assert.deepEqual(message.metadata, { k: 'v' });
    await pubsub.close();
  });

  it('keeps components of different names apart, and shares one name', async () => {
    const definition = inMemoryPubSub();
    const a = await instance(definition, {}, 'a');
    const b = await instance(definition, {}, 'b');
    const a2 = await instance(definition, { consumerID: 'other' }, 'a');
    const seen: string[] = [];
    const done = deferred();
    await b.subscribe(
      { topic: 't', metadata: {} },
      async (m) => {
        seen.push(`b:${text(m)}`);
      },
      never,
    );
    await a2.subscribe(
      { topic: 't', metadata: {} },
      async (m) => {
        seen.push(`a2:${text(m)}`);
        done.resolve();
      },
      never,
    );
    await publish(a, 't', 'hello');
    await done.promise;
    assert.deepEqual(seen, ['a2:hello']);
    await Promise.all([a.close(), b.close(), a2.close()]);
  });

  it('lets subscription metadata choose the consumer group', async () => {
    const pubsub = await instance(inMemoryPubSub(), { consumerID: 'g' });
    const first = deferred<string>();
    const second = deferred<string>();
    await pubsub.subscribe(
      { topic: 't', metadata: {} },
      async (m) => first.resolve(text(m)),
      never,
    );
    await pubsub.subscribe(
      { topic: 't', metadata: { consumerID: 'h' } },
      async (m) => second.resolve(text(m)),
      never,
    );
    await publish(pubsub, 't', 'both');
    assert.deepEqual(await Promise.all([first.promise, second.promise]), ['both', 'both']);
    await pubsub.close();
  });

  it('redelivers a rejected message after redeliverInterval', async () => {
    const pubsub = await instance(inMemoryPubSub(), { redeliverInterval: '20ms' });
    const attempts: string[] = [];
    const acked = deferred();
    await pubsub.subscribe(
      { topic: 't', metadata: {} },
      async (m) => {
        attempts.push(text(m));
        if (attempts.length < 3) throw new Error('not yet');
        acked.resolve();
      },
      never,
    );
    await publish(pubsub, 't', 'again');
    await acked.promise;
    assert.deepEqual(attempts, ['again', 'again', 'again']);
    await pubsub.close();
  });

  it('runs up to `concurrency` handler calls at once', async () => {
    const pubsub = await instance(inMemoryPubSub(), { concurrency: '3' });
    let running = 0;
    let peak = 0;
    const release = deferred();
    const allStarted = deferred();
    let started = 0;
    await pubsub.subscribe(
      { topic: 't', metadata: {} },
      async () => {
        running++;
        peak = Math.max(peak, running);
        if (++started === 3) allStarted.resolve();
        await release.promise;
        running--;
      },
      never,
    );
    for (let index = 0; index < 5; index++) await publish(pubsub, 't', String(index));
    await allStarted.promise;
    assert.equal(peak, 3);
    release.resolve();
    await pubsub.close();
    assert.equal(peak, 3);
  });

  it('closes a subscription only after its handler calls settle', async () => {
    const pubsub = await instance(inMemoryPubSub());
    const inHandler = deferred();
    const release = deferred();
    let finished = false;
    const subscription = await pubsub.subscribe(
      { topic: 't', metadata: {} },
      async () => {
        inHandler.resolve();
        await release.promise;
        finished = true;
      },
      never,
    );
    await publish(pubsub, 't', 'x');
    await inHandler.promise;
    const closing = subscription.close();
    release.resolve();
    await closing;
    assert.equal(finished, true);
    await subscription.close();
    await pubsub.close();
  });

  it('keeps a group’s messages for its next subscription', async () => {
    const pubsub = await instance(inMemoryPubSub());
    const first = await pubsub.subscribe({ topic: 't', metadata: {} }, async () => {}, never);
    await first.close();
    await publish(pubsub, 't', 'kept');
    const got = deferred<string>();
    await pubsub.subscribe({ topic: 't', metadata: {} }, async (m) => got.resolve(text(m)), never);
    assert.equal(await got.promise, 'kept');
    await pubsub.close();
  });

  it('refuses publish and subscribe once closed', async () => {
    const pubsub = await instance(inMemoryPubSub());
    await pubsub.close();
    await pubsub.close();
    await assert.rejects(publish(pubsub, 't', 'x'), /component is closed/);
    await assert.rejects(
      pubsub.subscribe({ topic: 't', metadata: {} }, async () => {}, never),
      /component is closed/,
    );
  });

  it('rejects bad metadata', async () => {
    await assert.rejects(instance(inMemoryPubSub(), { concurrency: '0' }), /concurrency/);
    await assert.rejects(
      instance(inMemoryPubSub(), { redeliverInterval: 'soon' }),
      /redeliverInterval/,
    );
  });
});
