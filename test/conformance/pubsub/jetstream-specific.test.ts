import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { JetStreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { createComponent } from '../../../src/components/contracts/component.js';
import type {
  PubSub,
  PubSubHandler,
  PubSubMessage,
  PubSubSubscription,
} from '../../../src/components/contracts/pubsub.js';
import { jetstreamPubSub } from '../../../src/components/pubsub/jetstream.js';
import {
  SINGLE_MODE_MAX_ACK_PENDING,
  sharedDeliverSubject,
} from '../../../src/components/pubsub/jetstream-consumer.js';
import { type Logger, silentLogger } from '../../../src/kernel/logger.js';
import { deferred, freePort } from '../../helpers/deferred.js';
import { NATS_SERVER, probeServer, uniqueName, waitUntil } from '../../helpers/test-servers.js';
import { NATS_URL, natsTestManager } from './brokers/jetstream.js';
import { never, utf8 } from './harness.js';

const LIMIT_MS = 30_000;

/** Messages a handler took, and a way to await the moment enough arrived. */
class Inbox {
  readonly messages: PubSubMessage[] = [];
  #waiters: { readonly count: number; readonly done: () => void }[] = [];

  readonly handler: PubSubHandler = async (message) => this.record(message);

  record(message: PubSubMessage): void {
    this.messages.push(message);
    this.#waiters = this.#waiters.filter((waiter) => {
      if (this.messages.length < waiter.count) return true;
      waiter.done();
      return false;
    });
  }

  texts(): string[] {
    return this.messages.map((message) => Buffer.from(message.data).toString());
  }

  until(count: number): Promise<void> {
    if (this.messages.length >= count) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`${this.messages.length} of ${count} messages received`)),
        LIMIT_MS,
      );
      this.#waiters.push({
        count,
        done: () => {
          clearTimeout(timer);
          resolve();
        },
      });
    });
  }
}

describe('pubsub.jetstream specifics', () => {
  const stream = uniqueName('jetstream');
  const closers: (() => Promise<unknown>)[] = [];
  let unreachable: Error | undefined;
  let nc: NatsConnection | undefined;
  let jsm: JetStreamManager | undefined;

  before(async () => {
    unreachable = await probeServer(NATS_SERVER);
    if (unreachable) return;
    ({ nc, jsm } = await natsTestManager());
    await jsm.streams.add({ name: stream, subjects: [`${stream}.>`] });
  });
  after(async () => {
    for (const close of closers.reverse()) await close().catch(() => undefined);
    await jsm?.streams.delete(stream).catch(() => undefined);
    await nc?.close();
  });

  function manager(): JetStreamManager {
    if (unreachable) throw unreachable;
    if (!jsm) throw new Error('not connected');
    return jsm;
  }

  async function pubsub(
    metadata: Record<string, string> = {},
    logger: Logger = silentLogger,
  ): Promise<PubSub> {
    manager();
    const { instance } = await createComponent(
      jetstreamPubSub,
      { natsURL: NATS_URL, ackWait: '1s', ...metadata },
      { name: 'jetstream', appId: 'jetstream-specific', logger, signal: never },
    );
    closers.push(() => instance.close());
    return instance;
  }

  async function subscribe(
    instance: PubSub,
    topic: string,
    handler: PubSubHandler,
  ): Promise<PubSubSubscription> {
    const subscription = await instance.subscribe({ topic, metadata: {} }, handler, never);
    closers.push(() => subscription.close());
    return subscription;
  }

  async function publish(instance: PubSub, topic: string, text: string): Promise<void> {
    await instance.publish({ topic, data: utf8(text), metadata: {} }, never);
  }

  const topic = (label: string) => `${stream}.${label}`;

  describe('consumers', () => {
    it('makes a durable consumer named durableName, shared through its queue group', async () => {
      const name = topic('durable');
      const settings = { durableName: 'orders', queueGroupName: 'workers' };
      const inbox = new Inbox();
      await subscribe(await pubsub(settings), name, inbox.handler);
      const info = await manager().consumers.info(stream, 'orders');
      assert.equal(info.config.filter_subject, name);
      assert.equal(info.config.deliver_group, 'workers');
      assert.equal(info.config.deliver_subject, sharedDeliverSubject(stream, 'orders'));
      assert.equal(info.config.ack_wait, 1_000_000_000);
      await publish(await pubsub(), name, 'one');
      await inbox.until(1);
      assert.deepEqual(inbox.messages[0]?.metadata, { Topic: name });
      assert.equal(inbox.messages[0]?.topic, name);
    });

    it("keeps an existing queue-group consumer's deliver subject (one Dapr made)", async () => {
      const name = topic('existing');
      await manager().consumers.add(stream, {
        durable_name: 'from-dapr',
        deliver_subject: '_INBOX.madeByDapr',
        deliver_group: 'group',
        filter_subject: name,
        ack_policy: 'explicit',
        deliver_policy: 'all',
      });
      const inbox = new Inbox();
      await subscribe(
        await pubsub({ durableName: 'from-dapr', queueGroupName: 'group', ackWait: '' }),
        name,
        inbox.handler,
      );
      const info = await manager().consumers.info(stream, 'from-dapr');
      assert.equal(info.config.deliver_subject, '_INBOX.madeByDapr');
      await publish(await pubsub(), name, 'still flows');
      await inbox.until(1);
    });

    it('gives each subscription its own ephemeral consumer without durableName', async () => {
      const name = topic('ephemeral');
      const publisher = await pubsub();
      await publish(publisher, name, 'before');
      const a = new Inbox();
      const b = new Inbox();
      await subscribe(await pubsub(), name, a.handler);
      await subscribe(await pubsub(), name, b.handler);
      await Promise.all([a.until(1), b.until(1)]);
      assert.deepEqual([a.texts(), b.texts()], [['before'], ['before']]);
    });

    it('starts after the stream end with deliverPolicy new', async () => {
      const name = topic('new-only');
      const publisher = await pubsub();
      await publish(publisher, name, 'old');
      const inbox = new Inbox();
      await subscribe(await pubsub({ deliverPolicy: 'new' }), name, inbox.handler);
      await publish(publisher, name, 'fresh');
      await inbox.until(1);
      assert.deepEqual(inbox.texts(), ['fresh']);
    });

    it('bounds maxAckPending in single mode unless set, leaving parallel to the server', async () => {
      const single = topic('window-single');
      await subscribe(await pubsub({ durableName: 'window-single' }), single, async () => {});
      const bounded = await manager().consumers.info(stream, 'window-single');
      assert.equal(bounded.config.max_ack_pending, SINGLE_MODE_MAX_ACK_PENDING);
      const set = topic('window-set');
      await subscribe(
        await pubsub({ durableName: 'window-set', maxAckPending: '7' }),
        set,
        async () => {},
      );
      assert.equal(
        (await manager().consumers.info(stream, 'window-set')).config.max_ack_pending,
        7,
      );
      const parallel = topic('window-parallel');
      await subscribe(
        await pubsub({ durableName: 'window-parallel', concurrencyMode: 'parallel' }),
        parallel,
        async () => {},
      );
      const serverDefault = await manager().consumers.info(stream, 'window-parallel');
      assert.notEqual(serverDefault.config.max_ack_pending, SINGLE_MODE_MAX_ACK_PENDING);
    });

    it('refuses a second topic on the same durable consumer of one instance', async () => {
      const instance = await pubsub({ durableName: 'one-topic' });
      await subscribe(instance, topic('first'), async () => {});
      await assert.rejects(
        instance.subscribe({ topic: topic('second'), metadata: {} }, async () => {}, never),
        /already consumes topic/,
      );
    });
  });

  describe('redelivery', () => {
    it('naks a refused message and stops after maxDeliver deliveries', async () => {
      const name = topic('max-deliver');
      let calls = 0;
      await subscribe(await pubsub({ durableName: 'max', maxDeliver: '2' }), name, async () => {
        calls += 1;
        throw new Error('refused');
      });
      await publish(await pubsub(), name, 'poison');
      await waitUntil(
        'the server to give up on the message',
        async () =>
          calls >= 2 && (await manager().consumers.info(stream, 'max')).num_ack_pending === 0,
        LIMIT_MS,
      );
      assert.equal(calls, 2);
    });

    it('redelivers a refused message until the handler takes it', async () => {
      const name = topic('refused');
      const inbox = new Inbox();
      let calls = 0;
      await subscribe(await pubsub({ durableName: 'refused' }), name, async (message) => {
        calls += 1;
        if (calls < 3) throw new Error('not yet');
        inbox.record(message);
      });
      await publish(await pubsub(), name, 'eventually');
      await inbox.until(1);
      await waitUntil(
        'the ack',
        async () => (await manager().consumers.info(stream, 'refused')).num_ack_pending === 0,
        LIMIT_MS,
      );
      assert.equal(calls, 3);
    });

    it('keeps waiting messages from redelivery when the handler is slower than ackWait', async () => {
      const name = topic('slow');
      const publisher = await pubsub();
      const want = ['s1', 's2', 's3', 's4', 's5'];
      // All published first, so they arrive together and four wait behind the first.
      for (const text of want) await publish(publisher, name, text);
      const inbox = new Inbox();
      const running = new Set<string>();
      const lastHandled = new Inbox();
      let overlapped = false;
      await subscribe(
        await pubsub({ durableName: 'slow', ackWait: '500ms', maxAckPending: '100' }),
        name,
        async (message) => {
          const text = Buffer.from(message.data).toString();
          if (running.has(text)) overlapped = true;
          running.add(text);
          // Longer than ackWait: the server redelivers the message being handled.
          await new Promise((resolve) => setTimeout(resolve, 750));
          running.delete(text);
          inbox.record(message);
          if (text === 'last') lastHandled.record(message);
        },
      );
      await inbox.until(want.length);
      // One at a time: once a message published now is handled, every copy received before it
      // has been handled too.
      await publish(publisher, name, 'last');
      await lastHandled.until(1);
      const duplicates = inbox.messages.length - want.length - 1;
      assert.equal(overlapped, false, 'a message was handed to the handler twice at once');
      assert.deepEqual([...new Set(inbox.texts())].sort(), [...want, 'last'].sort());
      assert.ok(duplicates <= 1, `${duplicates} duplicates for ${want.length} messages`);
    });

    it('hands messages over at once with concurrencyMode parallel', async () => {
      const name = topic('parallel');
      const secondStarted = deferred();
      const inbox = new Inbox();
      await subscribe(await pubsub({ concurrencyMode: 'parallel' }), name, async (message) => {
        const text = Buffer.from(message.data).toString();
        // With one-at-a-time delivery the first would wait for the second forever.
        if (text === 'first') await secondStarted.promise;
        else secondStarted.resolve();
        inbox.record(message);
      });
      const publisher = await pubsub();
      await publish(publisher, name, 'first');
      await publish(publisher, name, 'second');
      await inbox.until(2);
      assert.deepEqual(inbox.texts(), ['second', 'first']);
    });
  });

  describe('publishing', () => {
    it("uses a CloudEvent's id as Nats-Msg-Id, so the stream drops a repeat (warned)", async () => {
      const name = topic('dedup');
      const warnings: string[] = [];
      const logger: Logger = { ...silentLogger, warn: (message) => warnings.push(message) };
      const publisher = await pubsub({}, logger);
      const event = JSON.stringify({ specversion: '1.0', id: `${stream}-event-1`, data: 'x' });
      await publish(publisher, name, event);
      await publish(publisher, name, event);
      await publish(publisher, name, 'raw');
      await publish(publisher, name, 'raw');
      const info = await manager().streams.info(stream, { subjects_filter: name });
      assert.equal(info.state.subjects?.[name], 3);
      assert.equal(warnings.length, 1, 'one warning, for the dropped repeat');
      assert.match(warnings[0] ?? '', /dropped the message .* as a duplicate of Nats-Msg-Id/);
    });

    it('logs nothing when a dead letter goes to a stream without the event id', async () => {
      // The documented way out: the dead-letter topic in a stream of its own.
      const deadStream = uniqueName('jetstream-dead');
      await manager().streams.add({ name: deadStream, subjects: [`${deadStream}.>`] });
      closers.push(() => manager().streams.delete(deadStream));
      const warnings: string[] = [];
      const logger: Logger = { ...silentLogger, warn: (message) => warnings.push(message) };
      const publisher = await pubsub({}, logger);
      const event = JSON.stringify({ specversion: '1.0', id: `${stream}-event-2`, data: 'y' });
      await publish(publisher, topic('orders'), event);
      await publish(publisher, `${deadStream}.orders-dead`, event);
      const info = await manager().streams.info(deadStream);
      assert.equal(info.state.messages, 1);
      assert.deepEqual(warnings, []);
    });

    it('rejects a subject no stream holds', async () => {
      const publisher = await pubsub();
      const orphan = `${uniqueName('nostream')}.topic`;
      await assert.rejects(publish(publisher, orphan, 'x'), /publishing to .* failed/);
      await assert.rejects(
        publisher.subscribe({ topic: orphan, metadata: {} }, async () => {}, never),
        /no stream holds subject/,
      );
      const named = await pubsub({ streamName: uniqueName('missing') });
      await assert.rejects(
        named.subscribe({ topic: topic('x'), metadata: {} }, async () => {}, never),
        /stream not found/,
      );
    });
  });

  describe('bad paths', () => {
    it('fails to start when the server is not there', async () => {
      const port = await freePort();
      await assert.rejects(
        createComponent(
          jetstreamPubSub,
          { natsURL: `nats://127.0.0.1:${port}` },
          {
            name: 'jetstream',
            appId: 'a',
            logger: silentLogger,
            signal: AbortSignal.timeout(5_000),
          },
        ),
        /cannot connect to nats:\/\/127\.0\.0\.1/,
      );
    });

    it('refuses work after close', async () => {
      const instance = await pubsub();
      await instance.close();
      await instance.close();
      await assert.rejects(publish(instance, topic('closed'), 'x'), /component is closed/);
    });
  });
});
