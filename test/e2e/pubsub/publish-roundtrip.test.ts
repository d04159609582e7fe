import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { daprGrpcClient } from '../../helpers/grpc-client.js';
import type { Json } from '../../helpers/json.js';
import { TestHttpApp } from '../../helpers/test-http-app.js';
import { Inbox, pubsubResources, startSubscriber, uniqueTopic } from './subscribe-harness.js';

// The publish side as a subscriber sees it: the envelope each kind of publish produces, through
// a real taprd with pubsub.in-memory delivering to an HTTP app.

describe('published events as delivered', { timeout: 240_000 }, () => {
  it('carries Dapr’s envelope for HTTP, gRPC and bulk publishes', async () => {
    const topic = uniqueTopic('roundtrip');
    const app = await TestHttpApp.start();
    app.route('GET', '/dapr/subscribe', () => ({
      status: 200,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify([{ pubsubname: 'pubsub', topic, route: '/events' }]),
    }));
    const inbox = new Inbox();
    app.route('POST', '/events', inbox.handler);
    const taprd = await startSubscriber(app.port, await pubsubResources(), { appId: 'roundtrip' });
    try {
      const url = (query = '') => `${taprd.httpUrl}/v1.0/publish/pubsub/${topic}${query}`;
      const post = async (query: string, body: string | Uint8Array, contentType?: string) => {
        const response = await fetch(url(query), {
          method: 'POST',
          body,
          headers: contentType === undefined ? {} : { 'content-type': contentType },
        });
        assert.equal(response.status, 204, await response.text());
      };
      await post('?metadata.ttlInSeconds=3600', '{"n":1}', 'application/json');
      await post('', Buffer.from([0, 1, 2, 255]), 'application/octet-stream');
      await post(
        '?metadata.cloudevent.id=fixed&metadata.cloudevent.type=my.type',
        'text',
        'text/plain',
      );
      await post(
        '',
        JSON.stringify({ id: 'own', source: 'elsewhere', specversion: '1.0', type: 't', data: 5 }),
        'application/cloudevents+json',
      );
      await daprGrpcClient(taprd.ports.grpc).publishEvent({
        pubsubName: 'pubsub',
        topic,
        data: Buffer.from('"grpc"'),
        dataContentType: 'application/json',
      });
      const bulk = await fetch(`${taprd.httpUrl}/v1.0-alpha1/publish/bulk/pubsub/${topic}`, {
        method: 'POST',
        body: JSON.stringify([
          { entryId: 'b1', event: { bulk: true }, contentType: 'application/json' },
        ]),
      });
      assert.equal(bulk.status, 204);

      const deliveries = await inbox.waitFor(6);
      const events = deliveries.map((delivery) => delivery.body);
      const find = (predicate: (event: Json) => boolean): Json => {
        const found = events.find(predicate);
        assert.ok(found, `no such event among ${JSON.stringify(events)}`);
        return found;
      };
      const jsonEvent = find((event) => event.data?.n === 1);
      assert.equal(jsonEvent.source, 'roundtrip');
      assert.equal(jsonEvent.type, 'com.dapr.event.sent');
      assert.equal(jsonEvent.specversion, '1.0');
      assert.equal(jsonEvent.datacontenttype, 'application/json');
      assert.equal(jsonEvent.topic, topic);
      assert.equal(jsonEvent.pubsubname, 'pubsub');
      assert.ok(Date.parse(jsonEvent.expiration) > Date.now() + 3_000_000, jsonEvent.expiration);
      assert.equal(jsonEvent.traceid, jsonEvent.traceparent);
      const binary = find((event) => event.data_base64 !== undefined);
      assert.equal(binary.data_base64, Buffer.from([0, 1, 2, 255]).toString('base64'));
      const overridden = find((event) => event.id === 'fixed');
      assert.equal(overridden.type, 'my.type');
      assert.equal(overridden.data, 'text');
      const passed = find((event) => event.id === 'own');
      assert.equal(passed.source, 'elsewhere');
      assert.equal(passed.data, 5);
      assert.equal(passed.topic, topic);
      find((event) => event.data === 'grpc');
      find((event) => event.data?.bulk === true);
    } finally {
      await taprd.stop();
      await app.close();
    }
  });
});
