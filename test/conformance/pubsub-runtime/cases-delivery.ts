import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { Code, ConnectError } from '@connectrpc/connect';
import {
  TopicEventResponse_TopicEventResponseStatus as GrpcStatus,
  type TopicEventRequest,
} from '../../../src/gen/dapr/proto/runtime/v1/appcallback_pb.js';
import type { Json } from '../../helpers/json.js';
import { TestGrpcApp } from '../../helpers/test-grpc-app.js';
import { DeliveryLog, keys } from './delivery-log.js';
import { keyOfData, type Received, recordRoute, statusReply } from './event-route.js';
import { bulkPublish, publish, publishAll } from './publisher.js';
import { PUBSUB } from './runtime-run.js';
import type { RuntimeCase } from './suite.js';

const TRACEPARENT = /^00-[0-9a-f]{32}-[0-9a-f]{16}-0[01]$/;
const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

/** A payload as sent, and the content type it is published with. */
interface Payload {
  readonly contentType: string;
  readonly bytes: Uint8Array;
}

function digest(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** The bytes a delivered CloudEvent carries: `data_base64` decoded, text, or JSON text. */
function dataBytes(event: Json): Uint8Array {
  if (typeof event?.data_base64 === 'string') return Buffer.from(event.data_base64, 'base64');
  if (typeof event?.data === 'string') return Buffer.from(event.data, 'utf8');
  return Buffer.from(JSON.stringify(event?.data), 'utf8');
}

const UNICODE = 'héllo wörld — 你好, мир — 🦄🚀 — e\u0301 — \u2028 end';

/** Text, JSON and binary payloads that must survive the trip byte for byte. */
function tricky(): Payload[] {
  return [
    { contentType: 'text/plain', bytes: Buffer.from(UNICODE, 'utf8') },
    {
      contentType: 'application/json',
      bytes: Buffer.from(JSON.stringify({ text: UNICODE, n: 1, nested: [true, null] }), 'utf8'),
    },
    {
      contentType: 'application/octet-stream',
      bytes: Uint8Array.from({ length: 256 }, (_, index) => index),
    },
    { contentType: 'application/octet-stream', bytes: new Uint8Array(randomBytes(64 * 1024)) },
  ];
}

/** Publishes payloads one by one (content types differ, so not through `publishAll`). */
async function publishPayloads(
  taprd: Parameters<typeof publish>[0],
  topic: string,
  payloads: readonly Payload[],
  metadata: Readonly<Record<string, string>> = {},
): Promise<void> {
  for (const payload of payloads) {
    await publish(taprd, topic, payload.bytes, { contentType: payload.contentType, metadata });
  }
}

/** The app fails its 1st, 2nd and every 5th delivery (of any message). */
function failsNow(delivery: number): boolean {
  return delivery <= 2 || delivery % 5 === 0;
}

/** Cases on what arrives and how: volume, redelivery, bulk, payload bytes, order, gRPC. */
export const DELIVERY_CASES: readonly RuntimeCase[] = [
  {
    name: 'delivers 1,000 messages published through /v1.0/publish with none lost',
    run: async (run, t) => {
      const topic = run.topic('thousand');
      const app = await run.httpApp([{ pubsubname: PUBSUB, topic, route: '/events' }]);
      const log = new DeliveryLog<Received>();
      recordRoute(app, '/events', log);
      const taprd = await run.sidecar({ group: 'thousand', appPort: app.port });
      const want = keys('m', 1000);
      const started = performance.now();
      await publishAll(
        taprd,
        topic,
        want.map((k) => ({ k })),
      );
      await log.waitForKeys(want);
      const seconds = (performance.now() - started) / 1000;
      t.diagnostic(`duplicates: ${log.duplicates}`);
      t.diagnostic(`publish -> all delivered: ${seconds.toFixed(2)} s`);
    },
  },
  {
    name: 'an app failing the 1st, 2nd and every 5th delivery (500 or RETRY) still gets every message',
    run: async (run, t) => {
      const topic = run.topic('flaky');
      const app = await run.httpApp([{ pubsubname: PUBSUB, topic, route: '/flaky' }]);
      const attempts = new DeliveryLog<Received>();
      const accepted = new DeliveryLog<Received>();
      let deliveries = 0;
      recordRoute(app, '/flaky', attempts, {
        reply: (received) => {
          deliveries += 1;
          if (failsNow(deliveries)) {
            return deliveries % 2 === 0
              ? statusReply('RETRY')
              : { status: 500, body: `refused delivery ${deliveries}` };
          }
          accepted.record(keyOfData(received.body), received);
          return statusReply('SUCCESS');
        },
      });
      const taprd = await run.sidecar({ group: 'flaky', appPort: app.port });
      const want = keys('f', 40);
      await publishAll(
        taprd,
        topic,
        want.map((k) => ({ k })),
      );
      await accepted.waitForKeys(want);
      assert.ok(deliveries > want.length, 'the refused deliveries came again');
      t.diagnostic(`deliveries: ${deliveries} for ${want.length} messages`);
      t.diagnostic(`duplicates after success: ${accepted.duplicates}`);
    },
  },
  {
    name: 'bulk publish (/v1.0-alpha1/publish/bulk) and bulk subscribe deliver every entry',
    run: async (run, t) => {
      const topic = run.topic('bulk');
      const app = await run.httpApp([
        {
          pubsubname: PUBSUB,
          topic,
          route: '/bulk',
          bulkSubscribe: { enabled: true, maxMessagesCount: 20, maxAwaitDurationMs: 40 },
        },
      ]);
      const log = new DeliveryLog<Json>();
      const batches: Json[] = [];
      app.route('POST', '/bulk', (request) => {
        const body = JSON.parse(request.body.toString('utf8'));
        batches.push(body);
        for (const entry of body.entries) log.record(keyOfData(entry.event), entry);
        const statuses = body.entries.map((entry: Json) => ({
          entryId: entry.entryId,
          status: 'SUCCESS',
        }));
        return {
          status: 200,
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ statuses }),
        };
      });
      const taprd = await run.sidecar({ group: 'bulk', appPort: app.port });
      const want = keys('b', 100);
      await bulkPublish(
        taprd,
        topic,
        want.map((k, index) => ({
          entryId: String(index),
          event: { k },
          contentType: 'application/json',
        })),
      );
      await log.waitForKeys(want);
      // How full batches get depends on how many messages the component hands over at once
      // (one at a time for a component delivering serially), so it is reported, not asserted.
      t.diagnostic(`${batches.length} batches for ${want.length} entries`);
      const first = batches[0];
      assert.equal(first.type, 'com.dapr.event.sent.bulk');
      assert.equal(first.topic, topic);
      assert.equal(first.pubsubname, PUBSUB);
      const entry = first.entries[0];
      assert.equal(entry.contentType, 'application/cloudevents+json');
      assert.equal(entry.event.specversion, '1.0');
      assert.equal(entry.event.topic, topic);
    },
  },
  {
    name: 'unicode, JSON and binary data arrive byte for byte in CloudEvents with Dapr’s fields',
    run: async (run) => {
      const topic = run.topic('bytes');
      const app = await run.httpApp([{ pubsubname: PUBSUB, topic, route: '/bytes' }]);
      const log = new DeliveryLog<Received>();
      recordRoute(app, '/bytes', log, { keyOf: (body) => digest(dataBytes(body)) });
      const group = 'bytes-app';
      const taprd = await run.sidecar({ group, appPort: app.port });
      const payloads = tricky();
      await publishPayloads(taprd, topic, payloads);
      await log.waitForKeys(payloads.map((payload) => digest(payload.bytes)));
      for (const payload of payloads) {
        const [received] = log.itemsOf(digest(payload.bytes));
        const event = received?.body;
        assert.equal(received?.request.headers['content-type'], 'application/cloudevents+json');
        assert.equal(event.specversion, '1.0');
        assert.ok(typeof event.id === 'string' && event.id.length > 0, 'id');
        assert.equal(event.source, group);
        assert.equal(event.type, 'com.dapr.event.sent');
        assert.equal(event.datacontenttype, payload.contentType);
        assert.equal(event.topic, topic);
        assert.equal(event.pubsubname, PUBSUB);
        assert.match(String(event.traceparent), TRACEPARENT);
        assert.equal(event.traceid, event.traceparent);
        assert.match(String(event.time), RFC3339);
      }
    },
  },
  {
    name: 'raw payloads (rawPayload publish and subscription) arrive byte for byte',
    run: async (run) => {
      const topic = run.topic('raw');
      const app = await run.httpApp([
        { pubsubname: PUBSUB, topic, route: '/raw', metadata: { rawPayload: 'true' } },
      ]);
      const log = new DeliveryLog<Received>();
      recordRoute(app, '/raw', log, { keyOf: (body) => digest(dataBytes(body)) });
      const taprd = await run.sidecar({ group: 'raw-app', appPort: app.port });
      const payloads = tricky();
      await publishPayloads(taprd, topic, payloads, { rawPayload: 'true' });
      await log.waitForKeys(payloads.map((payload) => digest(payload.bytes)));
      for (const payload of payloads) {
        const event = log.itemsOf(digest(payload.bytes))[0]?.body;
        // Dapr wraps a raw message in a fresh CloudEvent carrying the bytes as data_base64.
        assert.equal(typeof event.data_base64, 'string');
        assert.equal(event.datacontenttype, 'application/octet-stream');
        assert.equal(event.topic, topic);
        assert.equal(event.pubsubname, PUBSUB);
      }
    },
  },
  {
    name: 'one subscriber receives in-order publishes in order',
    unsupported: (broker) => (broker.ordered ? undefined : 'the broker does not promise order'),
    run: async (run) => {
      const topic = run.topic('ordered');
      const app = await run.httpApp([{ pubsubname: PUBSUB, topic, route: '/ordered' }]);
      const log = new DeliveryLog<Received>();
      recordRoute(app, '/ordered', log);
      // Components hand several messages to the runtime at once; one call in flight to the
      // app (FIFO) is how an app gets them in order, as with Dapr's --app-max-concurrency 1.
      const taprd = await run.sidecar({
        group: 'ordered',
        appPort: app.port,
        args: ['--app-max-concurrency', '1'],
      });
      const want = keys('o', 100);
      for (const k of want) await publish(taprd, topic, { k });
      await log.waitForKeys(want);
      assert.deepEqual(log.firstArrivals(), want);
    },
  },
  {
    name: 'a gRPC app gets every message through OnTopicEvent, refusals redelivered',
    run: async (run, t) => {
      const topic = run.topic('grpc');
      const accepted = new DeliveryLog<TopicEventRequest>();
      let deliveries = 0;
      const app = await TestGrpcApp.start({
        handlers: {
          appCallback: {
            listTopicSubscriptions: () => ({
              subscriptions: [{ pubsubName: PUBSUB, topic, routes: { default: '/grpc' } }],
            }),
            onTopicEvent: (request) => {
              deliveries += 1;
              if (failsNow(deliveries)) {
                if (deliveries % 2 === 0) return { status: GrpcStatus.RETRY };
                throw new ConnectError(`refused delivery ${deliveries}`, Code.Internal);
              }
              const data = JSON.parse(Buffer.from(request.data).toString('utf8'));
              accepted.record(String(data.k), request);
              return { status: GrpcStatus.SUCCESS };
            },
          },
        },
      });
      run.onClose(() => app.close());
      const group = 'grpc-app';
      const taprd = await run.sidecar({ group, appPort: app.port, protocol: 'grpc' });
      const want = keys('g', 50);
      await publishAll(
        taprd,
        topic,
        want.map((k) => ({ k })),
      );
      await accepted.waitForKeys(want);
      t.diagnostic(`deliveries: ${deliveries} for ${want.length} messages`);
      const [request] = accepted.itemsOf('g-0');
      assert.equal(request?.topic, topic);
      assert.equal(request?.pubsubName, PUBSUB);
      assert.equal(request?.path, '/grpc');
      assert.equal(request?.type, 'com.dapr.event.sent');
      assert.equal(request?.specVersion, '1.0');
      assert.equal(request?.source, group);
      assert.equal(request?.dataContentType, 'application/json');
      assert.ok((request?.id.length ?? 0) > 0);
    },
  },
];
