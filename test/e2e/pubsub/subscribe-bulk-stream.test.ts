import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { MessageInitShape } from '@bufbuild/protobuf';
import { Code, ConnectError } from '@connectrpc/connect';
import { TopicEventResponse_TopicEventResponseStatus as Status } from '../../../src/gen/dapr/proto/runtime/v1/appcallback_pb.js';
import { PubsubSubscriptionType } from '../../../src/gen/dapr/proto/runtime/v1/metadata_pb.js';
import type {
  SubscribeTopicEventsRequestAlpha1Schema,
  SubscribeTopicEventsResponseAlpha1,
} from '../../../src/gen/dapr/proto/runtime/v1/pubsub_pb.js';
import { daprGrpcClient } from '../../helpers/grpc-client.js';
import { startTaprd } from '../../helpers/taprd-process.js';
import { TestHttpApp } from '../../helpers/test-http-app.js';
import {
  Inbox,
  publish,
  pubsubResources,
  startSubscriber,
  uniqueTopic,
} from './subscribe-harness.js';

type StreamRequest = MessageInitShape<typeof SubscribeTopicEventsRequestAlpha1Schema>;

/** The client's side of a bidirectional stream: requests pushed as the test goes. */
class RequestQueue implements AsyncIterable<StreamRequest> {
  readonly #items: StreamRequest[] = [];
  #wake: (() => void) | undefined;
  #ended = false;

  push(request: StreamRequest): void {
    this.#items.push(request);
    this.#wake?.();
  }

  end(): void {
    this.#ended = true;
    this.#wake?.();
  }

  async *[Symbol.asyncIterator](): AsyncIterator<StreamRequest> {
    for (;;) {
      const next = this.#items.shift();
      if (next !== undefined) {
        yield next;
        continue;
      }
      if (this.#ended) return;
      await new Promise<void>((resolve) => {
        this.#wake = resolve;
      });
      this.#wake = undefined;
    }
  }
}

const initial = (pubsubName: string, topic: string, extra: object = {}): StreamRequest => ({
  subscribeTopicEventsRequestType: {
    case: 'initialRequest',
    value: { pubsubName, topic, ...extra },
  },
});

const answer = (id: string, status: Status): StreamRequest => ({
  subscribeTopicEventsRequestType: {
    case: 'eventProcessed',
    value: { id, status: { status } },
  },
});

describe('bulk subscribe over HTTP', { timeout: 240_000 }, () => {
  it('posts Dapr’s bulk envelope and maps per-entry statuses back', async () => {
    const topic = uniqueTopic('bulk');
    const app = await TestHttpApp.start();
    app.route('GET', '/dapr/subscribe', () => ({
      status: 200,
      body: JSON.stringify([
        {
          pubsubname: 'pubsub',
          topic,
          route: '/bulk',
          bulkSubscribe: { enabled: true, maxMessagesCount: 3, maxAwaitDurationMs: 300 },
        },
      ]),
    }));
    const inbox = new Inbox();
    const answers = new Map<number, number>();
    inbox.reply = ({ body }) => ({
      status: 200,
      body: JSON.stringify({
        statuses: body.entries.map((entry: { entryId: string; event: { data: { n: number } } }) => {
          const n = entry.event.data.n;
          const count = (answers.get(n) ?? 0) + 1;
          answers.set(n, count);
          return { entryId: entry.entryId, status: n === 3 && count === 1 ? 'RETRY' : 'SUCCESS' };
        }),
      }),
    });
    app.route('POST', '/bulk', inbox.handler);
    const taprd = await startSubscriber(app.port, await pubsubResources());
    try {
      for (const n of [1, 2, 3]) await publish(taprd, topic, { n });
      while ((answers.get(3) ?? 0) < 2) await inbox.waitFor(inbox.deliveries.length + 1);
      assert.deepEqual(Object.fromEntries(answers), { 1: 1, 2: 1, 3: 2 });
      const first = inbox.deliveries[0]!;
      assert.equal(first.request.headers['content-type'], 'application/json');
      assert.equal(first.body.type, 'com.dapr.event.sent.bulk');
      assert.equal(first.body.topic, topic);
      assert.equal(first.body.pubsubname, 'pubsub');
      assert.deepEqual(first.body.metadata, { pubsubName: 'pubsub' });
      assert.ok(typeof first.body.id === 'string' && first.body.id.length > 0);
      const entry = first.body.entries[0];
      assert.equal(entry.contentType, 'application/cloudevents+json');
      assert.equal(entry.event.specversion, '1.0');
      assert.ok(typeof entry.entryId === 'string');
    } finally {
      await taprd.stop();
      await app.close();
    }
  });
});

describe('streaming subscriptions (SubscribeTopicEventsAlpha1)', { timeout: 240_000 }, () => {
  it('streams events to a plain gRPC client and redelivers what it asks to retry', async () => {
    const topic = uniqueTopic('stream');
    const taprd = await startTaprd({ args: ['--resources-path', await pubsubResources()] });
    const client = daprGrpcClient(taprd.ports.grpc);
    const requests = new RequestQueue();
    requests.push(initial('pubsub', topic));
    const responses = client.subscribeTopicEventsAlpha1(requests)[Symbol.asyncIterator]();
    const next = async (): Promise<SubscribeTopicEventsResponseAlpha1> => {
      const result = await responses.next();
      assert.equal(result.done, false);
      return result.value as SubscribeTopicEventsResponseAlpha1;
    };
    const nextEvent = async () => {
      const kind = (await next()).subscribeTopicEventsResponseType;
      assert.equal(kind.case, 'eventMessage');
      return kind.value;
    };
    try {
      assert.equal((await next()).subscribeTopicEventsResponseType.case, 'initialResponse');
      const metadata = await client.getMetadata({});
      assert.deepEqual(
        metadata.subscriptions.map((s) => [s.topic, s.type, s.rules?.rules[0]?.path]),
        [[topic, PubsubSubscriptionType.STREAMING, '/']],
      );
      assert.equal(await publish(taprd, topic, { n: 1 }), 204);
      const event = await nextEvent();
      assert.equal(event.topic, topic);
      assert.equal(event.pubsubName, 'pubsub');
      assert.equal(event.path, '/');
      assert.deepEqual(JSON.parse(Buffer.from(event.data).toString()), { n: 1 });
      requests.push(answer(event.id, Status.RETRY));
      const again = await nextEvent();
      assert.equal(again.id, event.id);
      requests.push(answer(event.id, Status.SUCCESS));
      assert.equal(await publish(taprd, topic, { n: 2 }), 204);
      const second = await nextEvent();
      assert.deepEqual(JSON.parse(Buffer.from(second.data).toString()), { n: 2 });
      requests.push(answer(second.id, Status.SUCCESS));
      // Half-closing ends the call and the subscription.
      requests.end();
      assert.equal((await responses.next()).done, true);
      const after = await client.getMetadata({});
      assert.equal(after.subscriptions.length, 0);
    } finally {
      requests.end();
      await taprd.stop();
    }
  });

  it('refuses a stream without an initial request, pub/sub or topic, or an unknown pub/sub', async () => {
    const taprd = await startTaprd({ args: ['--resources-path', await pubsubResources()] });
    const client = daprGrpcClient(taprd.ports.grpc);
    const failure = async (first: StreamRequest): Promise<ConnectError> => {
      const requests = new RequestQueue();
      requests.push(first);
      try {
        for await (const _ of client.subscribeTopicEventsAlpha1(requests)) {
          // nothing is expected
        }
      } catch (error) {
        return ConnectError.from(error);
      } finally {
        requests.end();
      }
      throw new Error('the stream did not fail');
    };
    try {
      const processedFirst = await failure(answer('x', Status.SUCCESS));
      assert.equal(processedFirst.code, Code.Unknown);
      assert.match(processedFirst.rawMessage, /initial request is required/);
      assert.match((await failure(initial('', 't'))).rawMessage, /pubsubName is required/);
      assert.match((await failure(initial('pubsub', ''))).rawMessage, /topic is required/);
      const unknown = await failure(initial('nope', 't'));
      assert.equal(unknown.code, Code.InvalidArgument);
      assert.match(unknown.rawMessage, /pubsub nope is not found/);
    } finally {
      await taprd.stop();
    }
  });
});
