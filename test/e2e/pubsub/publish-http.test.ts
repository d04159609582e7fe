import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type Json, json } from '../../helpers/json.js';
import { startTaprd, type TaprdProcess } from '../../helpers/taprd-process.js';
import { PUBLISHER_APP_ID, publishResources } from './publish-fixtures.js';

const ERROR_INFO = 'type.googleapis.com/google.rpc.ErrorInfo';
const RESOURCE_INFO = 'type.googleapis.com/google.rpc.ResourceInfo';

function detail(body: Json, type: string): Json {
  return (body.details as Json[] | undefined)?.find((item) => item['@type'] === type);
}

describe('publish over HTTP', () => {
  let taprd: TaprdProcess;
  const post = (path: string, body: string, headers: Record<string, string> = {}) =>
    fetch(`${taprd.httpUrl}${path}`, { method: 'POST', body, headers });

  before(async () => {
    taprd = await startTaprd({
      appId: PUBLISHER_APP_ID,
      args: ['--resources-path', await publishResources()],
    });
  });
  after(async () => {
    await taprd.stop();
  });

  it('publishes with POST and PUT, any content type, topics with slashes', async () => {
    const cases: [string, string, Record<string, string>][] = [
      ['/v1.0/publish/pubsub/orders', '{"id":1}', { 'content-type': 'application/json' }],
      ['/v1.0/publish/pubsub/a/b/c', 'text', { 'content-type': 'text/plain' }],
      ['/v1.0/publish/pubsub/orders', '', {}],
      ['/v1.0/publish/pubsub/orders?metadata.rawPayload=true', 'raw', {}],
      ['/v1.0/publish/pubsub/orders?metadata.ttlInSeconds=10', 'ttl', {}],
      [
        '/v1.0/publish/pubsub/orders',
        '{"id":"e1","specversion":"1.0","type":"t","source":"s","data":1}',
        { 'content-type': 'application/cloudevents+json' },
      ],
      ['/v1.0/publish/scoped/allowed', 'ok', {}],
    ];
    for (const [path, body, headers] of cases) {
      const response = await post(path, body, headers);
      assert.equal(response.status, 204, `${path}: ${await response.text()}`);
    }
    const put = await fetch(`${taprd.httpUrl}/v1.0/publish/pubsub/orders`, {
      method: 'PUT',
      body: 'x',
    });
    assert.equal(put.status, 204);
  });

  it('answers ERR_PUBSUB_NOT_FOUND (404) for an unknown pub/sub', async () => {
    const response = await post('/v1.0/publish/nope/topic', '');
    assert.equal(response.status, 404);
    assert.equal(response.headers.get('content-type'), 'application/json');
    const body = await json(response);
    assert.equal(body.errorCode, 'ERR_PUBSUB_NOT_FOUND');
    assert.equal(body.message, 'pubsub nope is not found');
    assert.equal(body.details.length, 1);
    assert.equal(detail(body, ERROR_INFO).reason, 'DAPR_PUBSUB_NOT_FOUND');
    assert.equal(detail(body, ERROR_INFO).domain, 'dapr.io');
  });

  it('answers ERR_TOPIC_NAME_EMPTY (404) without a topic', async () => {
    const response = await post('/v1.0/publish/pubsub/', '');
    assert.equal(response.status, 404);
    const body = await json(response);
    assert.equal(body.errorCode, 'ERR_TOPIC_NAME_EMPTY');
    assert.equal(body.message, 'topic is empty in pubsub pubsub');
    assert.equal(detail(body, ERROR_INFO).reason, 'DAPR_PUBSUB_TOPIC_NAME_EMPTY');
  });

  it('answers ERR_PUBSUB_REQUEST_METADATA (400) for a bad rawPayload', async () => {
    const response = await post(
      '/v1.0/publish/pubsub/topic?metadata.rawPayload=invalidBooleanValue',
      '',
    );
    assert.equal(response.status, 400);
    const body = await json(response);
    assert.equal(body.errorCode, 'ERR_PUBSUB_REQUEST_METADATA');
    assert.equal(
      body.message,
      "failed deserializing metadata. Error: rawPayload value must be a valid boolean: actual is 'invalidBooleanValue'",
    );
    assert.equal(body.details.length, 2);
    assert.equal(detail(body, ERROR_INFO).reason, 'DAPR_PUBSUB_METADATA_DESERIALIZATION');
    assert.equal(detail(body, RESOURCE_INFO).resource_type, 'pubsub');
    assert.equal(detail(body, RESOURCE_INFO).resource_name, 'pubsub');
  });

  it('answers ERR_PUBSUB_CLOUD_EVENTS_SER (500) for a broken CloudEvent body', async () => {
    const response = await post('/v1.0/publish/pubsub/topic?metadata.rawPayload=false', '{"}', {
      'content-type': 'application/cloudevents+json',
    });
    assert.equal(response.status, 500);
    const body = await json(response);
    assert.equal(body.errorCode, 'ERR_PUBSUB_CLOUD_EVENTS_SER');
    assert.equal(body.message, 'cannot create cloudevent');
    assert.equal(detail(body, ERROR_INFO).reason, 'DAPR_PUBSUB_CLOUD_EVENT_CREATION');
    assert.equal(detail(body, ERROR_INFO).metadata.appID, PUBLISHER_APP_ID);
    assert.equal(detail(body, RESOURCE_INFO).resource_name, 'pubsub');
  });

  it('answers ERR_PUBSUB_FORBIDDEN (403) outside the topic scopes', async () => {
    for (const topic of ['secret', 'elsewhere']) {
      const response = await post(`/v1.0/publish/scoped/${topic}`, 'x');
      assert.equal(response.status, 403, topic);
      const body = await json(response);
      assert.equal(body.errorCode, 'ERR_PUBSUB_FORBIDDEN');
      assert.equal(body.message, `topic ${topic} is not allowed for app id ${PUBLISHER_APP_ID}`);
      assert.equal(detail(body, ERROR_INFO).reason, 'DAPR_PUBSUB_FORBIDDEN');
    }
  });

  it('bulk publishes on both routes', async () => {
    const entries = JSON.stringify([
      { entryId: '1', event: { a: 1 }, contentType: 'application/json' },
      { entryId: '2', event: 'text', contentType: 'text/plain', metadata: { k: 'v' } },
      { entryId: '3', event: 'AAEC', contentType: 'application/octet-stream' },
    ]);
    for (const path of [
      '/v1.0-alpha1/publish/bulk/pubsub/orders',
      '/v1.0/publish/bulk/pubsub/orders',
      '/v1.0/publish/bulk/pubsub/orders?metadata.rawPayload=true',
    ]) {
      const response = await post(path, entries, { 'content-type': 'application/json' });
      assert.equal(response.status, 204, `${path}: ${await response.text()}`);
    }
  });

  it('answers Dapr’s bulk errors', async () => {
    const cases: [string, string, number, string, string][] = [
      ['/v1.0/publish/bulk/nope/t', '[]', 404, 'ERR_PUBSUB_NOT_FOUND', 'DAPR_PUBSUB_NOT_FOUND'],
      [
        '/v1.0/publish/bulk/pubsub/t',
        '{"entryID": "}',
        400,
        'ERR_PUBSUB_EVENTS_SER',
        'DAPR_PUBSUB_UNMARSHAL_EVENTS',
      ],
      [
        '/v1.0/publish/bulk/pubsub/t',
        '{"entryID": ""}',
        400,
        'ERR_PUBSUB_EVENTS_SER',
        'DAPR_PUBSUB_UNMARSHAL_EVENTS',
      ],
      [
        '/v1.0/publish/bulk/pubsub/t',
        '[{"entryId":"1","event":5,"contentType":"text/plain"}]',
        400,
        'ERR_PUBSUB_EVENTS_SER',
        'DAPR_PUBSUB_MARSHAL_ENVELOPE',
      ],
      [
        '/v1.0/publish/bulk/pubsub/t',
        '[{"entryId":"1","event":"a","contentType":"text/plain"},{"entryId":"1","event":"b","contentType":"text/plain"}]',
        400,
        'ERR_PUBSUB_EVENTS_SER',
        'DAPR_PUBSUB_MARSHAL_EVENTS',
      ],
      [
        '/v1.0/publish/bulk/scoped/secret',
        '[{"entryId":"1","event":"a","contentType":"text/plain"}]',
        403,
        'ERR_PUBSUB_FORBIDDEN',
        'DAPR_PUBSUB_FORBIDDEN',
      ],
      [
        '/v1.0/publish/bulk/pubsub/t?metadata.rawPayload=maybe',
        '[]',
        400,
        'ERR_PUBSUB_REQUEST_METADATA',
        'DAPR_PUBSUB_METADATA_DESERIALIZATION',
      ],
    ];
    for (const [path, payload, status, code, reason] of cases) {
      const response = await post(path, payload);
      assert.equal(response.status, status, `${path} ${payload}`);
      const body = await json(response);
      assert.equal(body.errorCode, code, payload);
      assert.equal(detail(body, ERROR_INFO).reason, reason, payload);
    }
    const response = await post('/v1.0/publish/bulk/pubsub/t', '{"entryID": ""}');
    assert.equal(
      (await json(response)).message,
      'error when unmarshaling the request for topic t pubsub pubsub: json: cannot unmarshal object into Go value of type []http.bulkPublishMessageEntry',
    );
  });

  it('lists the pub/sub components with their features in the metadata API', async () => {
    const body = await json(await fetch(`${taprd.httpUrl}/v1.0/metadata`));
    const pubsubs = (body.components as Json[]).filter((c) => c.type === 'pubsub.in-memory');
    assert.deepEqual(pubsubs.map((c) => [c.name, c.version, c.capabilities]).sort(), [
      ['pubsub', 'v1', ['SUBSCRIBE_WILDCARDS']],
      ['scoped', 'v1', ['SUBSCRIBE_WILDCARDS']],
    ]);
  });
});

describe('publish over HTTP with no pub/sub component', () => {
  it('answers ERR_PUBSUB_NOT_CONFIGURED (400)', async () => {
    const taprd = await startTaprd();
    try {
      const response = await fetch(`${taprd.httpUrl}/v1.0/publish/pubsub/topic`, {
        method: 'POST',
        body: 'x',
      });
      assert.equal(response.status, 400);
      const body = await json(response);
      assert.equal(body.errorCode, 'ERR_PUBSUB_NOT_CONFIGURED');
      assert.equal(detail(body, ERROR_INFO).reason, 'DAPR_PUBSUB_NOT_CONFIGURED');
      const bulk = await fetch(`${taprd.httpUrl}/v1.0-alpha1/publish/bulk/pubsub/topic`, {
        method: 'POST',
        body: '[]',
      });
      assert.equal(bulk.status, 400);
    } finally {
      await taprd.stop();
    }
  });
});
