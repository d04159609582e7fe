import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Code, ConnectError } from '@connectrpc/connect';
import {
  TopicEventResponse_TopicEventResponseStatus as Status,
  type TopicEventBulkRequest,
  type TopicEventRequest,
} from '../../../src/gen/dapr/proto/runtime/v1/appcallback_pb.js';
import { TestGrpcApp } from '../../helpers/test-grpc-app.js';
import { publish, pubsubResources, startSubscriber, uniqueTopic } from './subscribe-harness.js';

/** Collects requests of one kind and wakes waiters once enough arrived. */
class Calls<T> {
  readonly items: T[] = [];
  readonly #waiters: { count: number; wake: () => void }[] = [];

  add(item: T): void {
    this.items.push(item);
    for (const waiter of [...this.#waiters]) {
      if (this.items.length >= waiter.count) {
        this.#waiters.splice(this.#waiters.indexOf(waiter), 1);
        waiter.wake();
      }
    }
  }

  waitFor(count: number): Promise<T[]> {
    if (this.items.length >= count) return Promise.resolve(this.items);
    return new Promise((resolve) => this.#waiters.push({ count, wake: () => resolve(this.items) }));
  }
}

describe('subscribing from a gRPC app', { timeout: 240_000 }, () => {
  it('lists subscriptions, delivers OnTopicEvent with Dapr’s fields and honours statuses', async () => {
    const topic = uniqueTopic('grpc');
    const events = new Calls<{ request: TopicEventRequest; headers: Headers }>();
    const seen = new Map<string, number>();
    const app = await TestGrpcApp.start({
      handlers: {
        appCallback: {
          listTopicSubscriptions: () => ({
            subscriptions: [
              {
                pubsubName: 'pubsub',
                topic,
                routes: {
                  rules: [{ match: 'event.data.kind == "special"', path: '/special' }],
                  default: '/plain',
                },
              },
            ],
          }),
          onTopicEvent: (request, context) => {
            events.add({ request, headers: context.requestHeader });
            const kind = JSON.parse(Buffer.from(request.data).toString()).kind as string;
            const count = (seen.get(kind) ?? 0) + 1;
            seen.set(kind, count);
            if (count > 1) return { status: Status.SUCCESS };
            if (kind === 'retry') return { status: Status.RETRY };
            if (kind === 'drop') return { status: Status.DROP };
            if (kind === 'fail') throw new ConnectError('nope', Code.Internal);
            return { status: Status.SUCCESS };
          },
        },
      },
    });
    const taprd = await startSubscriber(app.port, await pubsubResources(), { protocol: 'grpc' });
    try {
      for (const kind of ['special', 'retry', 'drop', 'fail']) {
        assert.equal(await publish(taprd, topic, { kind }), 204);
      }
      await events.waitFor(6);
      assert.deepEqual(Object.fromEntries(seen), { special: 1, retry: 2, drop: 1, fail: 2 });
      const first = events.items.find(
        (e) => JSON.parse(Buffer.from(e.request.data).toString()).kind === 'special',
      )!;
      const request = first.request;
      assert.equal(request.path, '/special');
      assert.equal(request.topic, topic);
      assert.equal(request.pubsubName, 'pubsub');
      assert.equal(request.type, 'com.dapr.event.sent');
      assert.equal(request.specVersion, '1.0');
      assert.equal(request.dataContentType, 'application/json');
      assert.ok(request.id.length > 0);
      assert.equal(request.extensions?.topic, topic);
      assert.equal(request.extensions?.pubsubname, 'pubsub');
      assert.ok(typeof request.extensions?.traceparent === 'string');
      assert.equal(first.headers.get('pubsubname'), 'pubsub');
      const plain = events.items.find(
        (e) => JSON.parse(Buffer.from(e.request.data).toString()).kind === 'retry',
      );
      assert.equal(plain?.request.path, '/plain');
    } finally {
      await taprd.stop();
      await app.close();
    }
  });

  it('gives a gRPC app without routes the default route ""', async () => {
    const topic = uniqueTopic('noroute');
    const events = new Calls<TopicEventRequest>();
    const app = await TestGrpcApp.start({
      handlers: {
        appCallback: {
          listTopicSubscriptions: () => ({ subscriptions: [{ pubsubName: 'pubsub', topic }] }),
          onTopicEvent: (request) => {
            events.add(request);
            return {};
          },
        },
      },
    });
    const taprd = await startSubscriber(app.port, await pubsubResources(), { protocol: 'grpc' });
    try {
      await publish(taprd, topic, 'hello', { contentType: 'text/plain' });
      const [event] = await events.waitFor(1);
      assert.equal(event?.path, '');
      assert.equal(Buffer.from(event?.data ?? []).toString(), 'hello');
      assert.equal(event?.dataContentType, 'text/plain');
    } finally {
      await taprd.stop();
      await app.close();
    }
  });

  it('bulk-delivers through OnBulkTopicEventAlpha1 when OnBulkTopicEvent is not served', async () => {
    const topic = uniqueTopic('bulk');
    const batches = new Calls<TopicEventBulkRequest>();
    const entries = new Map<string, number>();
    const app = await TestGrpcApp.start({
      handlers: {
        appCallback: {
          listTopicSubscriptions: () => ({
            subscriptions: [
              {
                pubsubName: 'pubsub',
                topic,
                routes: { default: '/bulk' },
                bulkSubscribe: { enabled: true, maxMessagesCount: 3, maxAwaitDurationMs: 200 },
              },
            ],
          }),
        },
        appCallbackAlpha: {
          onBulkTopicEventAlpha1: (request) => {
            batches.add(request);
            return {
              statuses: request.entries.map((entry) => {
                const event = entry.event.case === 'cloudEvent' ? entry.event.value : undefined;
                const n = JSON.parse(Buffer.from(event?.data ?? []).toString()).n as number;
                const count = (entries.get(String(n)) ?? 0) + 1;
                entries.set(String(n), count);
                return {
                  entryId: entry.entryId,
                  status: n === 2 && count === 1 ? Status.RETRY : Status.SUCCESS,
                };
              }),
            };
          },
        },
      },
    });
    const taprd = await startSubscriber(app.port, await pubsubResources(), { protocol: 'grpc' });
    try {
      for (const n of [1, 2, 3]) await publish(taprd, topic, { n });
      // Entry 2 is retried by the broker and comes back in a later batch.
      while ((entries.get('2') ?? 0) < 2) await batches.waitFor(batches.items.length + 1);
      assert.deepEqual(Object.fromEntries(entries), { '1': 1, '2': 2, '3': 1 });
      const first = batches.items[0]!;
      assert.equal(first.topic, topic);
      assert.equal(first.pubsubName, 'pubsub');
      assert.equal(first.path, '/bulk');
      assert.equal(first.type, 'com.dapr.event.sent.bulk');
      assert.equal(first.metadata.pubsubName, 'pubsub');
      const entry = first.entries[0]!;
      assert.equal(entry.contentType, 'application/cloudevents+json');
      assert.equal(entry.event.case, 'cloudEvent');
      assert.equal(app.callsTo('OnBulkTopicEvent').length > 0, true);
    } finally {
      await taprd.stop();
      await app.close();
    }
  });
});
