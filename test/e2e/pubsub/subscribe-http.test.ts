import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { json } from '../../helpers/json.js';
import { resourcesDir, runTaprd } from '../../helpers/taprd-process.js';
import { TestHttpApp } from '../../helpers/test-http-app.js';
import {
  Inbox,
  inMemoryComponent,
  publish,
  pubsubResources,
  startSubscriber,
  statusReply,
  uniqueTopic,
} from './subscribe-harness.js';

/** An app whose `GET /dapr/subscribe` answers `subscriptions`. */
async function appWith(subscriptions: unknown[]): Promise<TestHttpApp> {
  const app = await TestHttpApp.start();
  app.route('GET', '/dapr/subscribe', () => ({
    status: 200,
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(subscriptions),
  }));
  return app;
}

describe('subscribing over HTTP', { timeout: 240_000 }, () => {
  it('delivers to programmatic subscriptions with the CloudEvent, headers and CEL routes', async () => {
    const topic = uniqueTopic('orders');
    const app = await appWith([
      {
        pubsubname: 'pubsub',
        topic,
        routes: {
          rules: [{ match: 'event.data.kind == "big"', path: '/orders/big' }],
          default: '/orders',
        },
        metadata: { note: 'x' },
      },
    ]);
    const plain = new Inbox();
    const big = new Inbox();
    app.route('POST', '/orders', plain.handler).route('POST', '/orders/big', big.handler);
    const taprd = await startSubscriber(app.port, await pubsubResources(), { appId: 'prog-app' });
    try {
      const ask = app.requestsTo('/dapr/subscribe')[0];
      assert.equal(ask?.method, 'GET');
      assert.equal(ask?.headers['dapr-app-id'], 'prog-app');
      assert.equal(await publish(taprd, topic, { kind: 'small', n: 1 }), 204);
      assert.equal(await publish(taprd, topic, { kind: 'big', n: 2 }), 204);
      const [small] = await plain.waitFor(1);
      const [large] = await big.waitFor(1);
      assert.deepEqual(small?.body.data, { kind: 'small', n: 1 });
      assert.deepEqual(large?.body.data, { kind: 'big', n: 2 });
      const request = small!.request;
      assert.equal(request.method, 'POST');
      assert.equal(request.headers['content-type'], 'application/cloudevents+json');
      assert.equal(request.headers.pubsubname, 'pubsub');
      assert.match(String(request.headers.traceparent), /^00-[0-9a-f]{32}-[0-9a-f]{16}-0[01]$/);
      assert.equal(small?.body.topic, topic);
      assert.equal(small?.body.pubsubname, 'pubsub');
      assert.equal(small?.body.type, 'com.dapr.event.sent');
      assert.equal(small?.body.specversion, '1.0');

      const metadata = await json(await fetch(`${taprd.httpUrl}/v1.0/metadata`));
      assert.deepEqual(metadata.subscriptions, [
        {
          pubsubname: 'pubsub',
          topic,
          metadata: { note: 'x' },
          rules: [{ match: 'event.data.kind == "big"', path: '/orders/big' }, { path: '/orders' }],
          deadLetterTopic: '',
          type: 'PROGRAMMATIC',
        },
      ]);
    } finally {
      await taprd.stop();
      await app.close();
    }
  });

  it('delivers to declarative v1 and v2 subscriptions scoped to the app', async () => {
    const v1Topic = uniqueTopic('v1');
    const v2Topic = uniqueTopic('v2');
    const app = await TestHttpApp.start();
    app.route('GET', '/dapr/subscribe', () => ({ status: 404 }));
    const v1 = new Inbox();
    const v2 = new Inbox();
    const v2Fallback = new Inbox();
    app.route('POST', '/v1-route', v1.handler);
    app.route('POST', '/v2/created', v2.handler).route('POST', '/v2/other', v2Fallback.handler);
    const resources = await pubsubResources({
      'subs.yaml': `apiVersion: dapr.io/v1alpha1
kind: Subscription
metadata:
  name: sub-v1
spec:
  pubsubname: pubsub
  topic: ${v1Topic}
  route: /v1-route
scopes:
  - decl-app
---
apiVersion: dapr.io/v2alpha1
kind: Subscription
metadata:
  name: sub-v2
spec:
  pubsubname: pubsub
  topic: ${v2Topic}
  routes:
    rules:
      - match: event.type == "order.created"
        path: /v2/created
    default: /v2/other
---
apiVersion: dapr.io/v2alpha1
kind: Subscription
metadata:
  name: sub-other-app
spec:
  pubsubname: pubsub
  topic: never
  routes:
    default: /never
scopes:
  - someone-else
`,
    });
    const taprd = await startSubscriber(app.port, resources, { appId: 'decl-app' });
    try {
      await publish(taprd, v1Topic, { n: 1 });
      await publish(
        taprd,
        v2Topic,
        { specversion: '1.0', id: 'c1', source: 's', type: 'order.created', data: { n: 2 } },
        { contentType: 'application/cloudevents+json' },
      );
      await publish(taprd, v2Topic, { n: 3 });
      assert.deepEqual((await v1.waitFor(1))[0]?.body.data, { n: 1 });
      assert.equal((await v2.waitFor(1))[0]?.body.id, 'c1');
      assert.deepEqual((await v2Fallback.waitFor(1))[0]?.body.data, { n: 3 });
      const metadata = await json(await fetch(`${taprd.httpUrl}/v1.0/metadata`));
      assert.deepEqual(
        metadata.subscriptions.map((s: { topic: string; type: string }) => [s.topic, s.type]),
        [
          [v1Topic, 'DECLARATIVE'],
          [v2Topic, 'DECLARATIVE'],
        ],
      );
    } finally {
      await taprd.stop();
      await app.close();
    }
  });

  it('handles SUCCESS, RETRY, DROP, 404 and 500 answers as Dapr does', async () => {
    const topic = uniqueTopic('answers');
    const app = await appWith([{ pubsubname: 'pubsub', topic, route: '/events' }]);
    const inbox = new Inbox();
    const seen = new Map<string, number>();
    inbox.reply = ({ body }) => {
      const kind = String(body?.data?.kind);
      const count = (seen.get(kind) ?? 0) + 1;
      seen.set(kind, count);
      // The first answer is the one under test; the redelivery succeeds.
      if (count > 1) return { status: 200 };
      if (kind === 'retry') return statusReply('RETRY');
      if (kind === 'drop') return statusReply('DROP');
      if (kind === 'missing') return { status: 404 };
      if (kind === 'error') return { status: 500, body: 'boom' };
      if (kind === 'unknown') return statusReply('MAYBE');
      return statusReply('SUCCESS');
    };
    app.route('POST', '/events', inbox.handler);
    const taprd = await startSubscriber(app.port, await pubsubResources());
    try {
      for (const kind of ['ok', 'retry', 'drop', 'missing', 'error', 'unknown']) {
        assert.equal(await publish(taprd, topic, { kind }), 204);
      }
      // ok, drop and 404 once each; retry, 500 and the unknown status come back once more.
      await inbox.waitFor(9);
      assert.deepEqual(Object.fromEntries(seen), {
        ok: 1,
        retry: 2,
        drop: 1,
        missing: 1,
        error: 2,
        unknown: 2,
      });
    } finally {
      await taprd.stop();
      await app.close();
    }
  });

  it('retries under the inbound policy, then dead-letters the original event', async () => {
    const topic = uniqueTopic('failing');
    const dead = uniqueTopic('dead');
    const app = await appWith([
      { pubsubname: 'pubsub', topic, route: '/failing', deadLetterTopic: dead },
      { pubsubname: 'pubsub', topic: dead, route: '/dead' },
    ]);
    const failing = new Inbox();
    failing.reply = () => ({ status: 503 });
    const letters = new Inbox();
    app.route('POST', '/failing', failing.handler).route('POST', '/dead', letters.handler);
    const resources = await pubsubResources({
      'resiliency.yaml': `apiVersion: dapr.io/v1alpha1
kind: Resiliency
metadata:
  name: inbound
spec:
  policies:
    retries:
      three:
        policy: constant
        duration: 10ms
        maxRetries: 2
  targets:
    components:
      pubsub:
        inbound:
          retry: three
`,
    });
    const taprd = await startSubscriber(app.port, resources);
    try {
      await publish(taprd, topic, { order: 7 });
      const [letter] = await letters.waitFor(1);
      assert.equal(failing.deliveries.length, 3);
      // The dead letter is the original CloudEvent, unchanged (its topic field too).
      assert.deepEqual(letter?.body.data, { order: 7 });
      assert.equal(letter?.body.topic, topic);
      assert.equal(letter?.body.id, failing.deliveries[0]?.body.id);
    } finally {
      await taprd.stop();
      await app.close();
    }
  });

  it('drops expired events without delivering them', async () => {
    const topic = uniqueTopic('ttl');
    const app = await appWith([{ pubsubname: 'pubsub', topic, route: '/ttl' }]);
    const inbox = new Inbox();
    app.route('POST', '/ttl', inbox.handler);
    const taprd = await startSubscriber(app.port, await pubsubResources());
    try {
      const event = (id: string, expiration: string) => ({
        specversion: '1.0',
        id,
        source: 's',
        type: 't',
        expiration,
        data: id,
      });
      const ce = { contentType: 'application/cloudevents+json' };
      await publish(taprd, topic, event('old', '2001-01-01T00:00:00Z'), ce);
      await publish(taprd, topic, event('fresh', '2999-01-01T00:00:00Z'), ce);
      // A TTL set at publish time becomes the event's expiration (the in-memory bus has none).
      await publish(taprd, topic, { n: 1 }, { metadata: { ttlInSeconds: '60' } });
      const deliveries = await inbox.waitFor(2);
      assert.deepEqual(deliveries.map((d) => d.body.id).slice(0, 1), ['fresh']);
      assert.ok(typeof deliveries[1]?.body.expiration === 'string');
      assert.equal(inbox.deliveries.filter((d) => d.body.id === 'old').length, 0);
    } finally {
      await taprd.stop();
      await app.close();
    }
  });

  it('wraps raw payloads in a CloudEvent with data_base64', async () => {
    const topic = uniqueTopic('raw');
    const app = await appWith([
      { pubsubname: 'pubsub', topic, route: '/raw', metadata: { rawPayload: 'true' } },
    ]);
    const inbox = new Inbox();
    app.route('POST', '/raw', inbox.handler);
    const taprd = await startSubscriber(app.port, await pubsubResources());
    try {
      await publish(taprd, topic, new Uint8Array([0, 1, 254, 255]), {
        contentType: 'application/octet-stream',
        metadata: { rawPayload: 'true' },
      });
      const [delivery] = await inbox.waitFor(1);
      assert.equal(delivery?.body.data_base64, 'AAH+/w==');
      assert.equal(delivery?.body.datacontenttype, 'application/octet-stream');
      assert.equal(delivery?.body.source, 'Dapr');
    } finally {
      await taprd.stop();
      await app.close();
    }
  });

  it('refuses to start with a declarative rule that does not compile, naming it', async () => {
    const resources = await resourcesDir({
      'pubsub.yaml': inMemoryComponent(),
      'bad-sub.yaml': `apiVersion: dapr.io/v2alpha1
kind: Subscription
metadata:
  name: broken-rule
spec:
  pubsubname: pubsub
  topic: t
  routes:
    rules:
      - match: event.type ==
        path: /x
`,
    });
    const result = await runTaprd([
      '--app-id',
      'bad',
      '--resources-path',
      resources,
      '--dapr-http-port',
      '0',
      '--dapr-grpc-port',
      '0',
      '--metrics-port',
      '0',
    ]);
    assert.notEqual(result.code, 0);
    const output = result.stdout + result.stderr;
    assert.match(output, /bad-sub\.yaml/);
    assert.match(output, /broken-rule/);
    assert.match(output, /event\.type ==/);
  });
});

describe('subscriptions and app health', { timeout: 240_000 }, () => {
  it('pauses subscriptions while the app is unhealthy and resumes them after', async () => {
    const topic = uniqueTopic('health');
    const app = await appWith([{ pubsubname: 'pubsub', topic, route: '/health-events' }]);
    let healthy = true;
    app.route('GET', '/healthz', () => ({ status: healthy ? 200 : 503 }));
    const inbox = new Inbox();
    const healthyOnArrival: boolean[] = [];
    inbox.reply = () => {
      healthyOnArrival.push(healthy);
      return { status: 200 };
    };
    app.route('POST', '/health-events', inbox.handler);
    const taprd = await startSubscriber(app.port, await pubsubResources(), {
      args: [
        '--enable-app-health-check',
        '--app-health-probe-interval',
        '1',
        '--app-health-threshold',
        '1',
      ],
    });
    try {
      healthy = false;
      await taprd.waitForLog('App subscriptions stopped');
      assert.equal(await publish(taprd, topic, { n: 1 }), 204);
      healthy = true;
      await taprd.waitForLog('App subscriptions started', 2);
      const [delivery] = await inbox.waitFor(1);
      assert.deepEqual(delivery?.body.data, { n: 1 });
      assert.deepEqual(healthyOnArrival, [true]);
    } finally {
      await taprd.stop();
      await app.close();
    }
  });
});
