import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  CloudEventError,
  type CloudEventInput,
  cloudEventText,
} from '../../../../src/core/pubsub/cloudevent.js';
import {
  CloudEventParseError,
  isCloudEventExpired,
  parseCloudEvent,
  rawPayloadCloudEvent,
} from '../../../../src/core/pubsub/cloudevent-read.js';
import { objectMembers } from '../../../../src/core/pubsub/json-spans.js';

const NOW = new Date('2026-03-04T05:06:07.891Z');
const TRACE = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';

/** The envelope as the UTF-8 bytes a component stores. */
function envelopeBytes(given: CloudEventInput): Buffer {
  return Buffer.from(cloudEventText(given), 'utf8');
}

function input(overrides: Partial<CloudEventInput> = {}): CloudEventInput {
  return {
    data: Buffer.from('hello'),
    contentType: 'text/plain',
    topic: 'orders',
    pubsubName: 'pubsub',
    source: 'checkout',
    traceParent: TRACE,
    traceState: 'vendor=x',
    metadata: {},
    now: NOW,
    ...overrides,
  };
}

function built(overrides: Partial<CloudEventInput> = {}): Record<string, unknown> {
  const bytes = envelopeBytes(input(overrides));
  return JSON.parse(Buffer.from(bytes).toString('utf8')) as Record<string, unknown>;
}

describe('CloudEvent envelope', () => {
  it('wraps a payload with the fields Dapr sets', () => {
    const event = built();
    assert.match(event.id as string, /^[0-9a-f-]{36}$/);
    assert.deepEqual(
      { ...event, id: 'x' },
      {
        id: 'x',
        specversion: '1.0',
        source: 'checkout',
        type: 'com.dapr.event.sent',
        datacontenttype: 'text/plain',
        topic: 'orders',
        pubsubname: 'pubsub',
        traceid: TRACE,
        traceparent: TRACE,
        tracestate: 'vendor=x',
        time: '2026-03-04T05:06:07Z',
        data: 'hello',
      },
    );
  });

  it('defaults the content type to text/plain and the source to Dapr', () => {
    const event = built({ contentType: '', source: '' });
    assert.equal(event.datacontenttype, 'text/plain');
    assert.equal(event.source, 'Dapr');
  });

  it('keeps JSON data as JSON, with big numbers exact', () => {
    const text = '{"n": 12345678901234567890, "list": [1, 2.50, {"x": "y"}]}';
    const bytes = envelopeBytes(
      input({ data: Buffer.from(text), contentType: 'application/json; charset=utf-8' }),
    );
    const raw = Buffer.from(bytes).toString('utf8');
    assert.ok(raw.includes('"data":{"n": 12345678901234567890, "list": [1, 2.50, {"x": "y"}]}'));
  });

  it('sends invalid JSON as a string', () => {
    assert.equal(
      built({ data: Buffer.from('{nope'), contentType: 'application/json' }).data,
      '{nope',
    );
    assert.equal(built({ data: Buffer.alloc(0), contentType: 'application/json' }).data, '');
  });

  it('puts binary payloads in data_base64', () => {
    const bytes = Buffer.from([0, 1, 2, 250, 255]);
    for (const contentType of [
      'application/octet-stream',
      'application/cloudevents+protobuf',
      'application/x-protobuf',
    ]) {
      const event = built({ data: bytes, contentType });
      assert.equal(event.data_base64, bytes.toString('base64'), contentType);
      assert.equal('data' in event, false);
    }
  });

  it('applies metadata.cloudevent.* overrides, case-insensitively', () => {
    const event = built({
      metadata: {
        'cloudevent.id': 'my-id',
        'CloudEvent.Source': 'elsewhere',
        'cloudevent.type': 'my.type',
        'cloudevent.subject': 'subj',
        'cloudevent.tracestate': 'a=b',
      },
    });
    assert.equal(event.id, 'my-id');
    assert.equal(event.source, 'elsewhere');
    assert.equal(event.type, 'my.type');
    assert.equal(event.subject, 'subj');
    assert.equal(event.tracestate, 'a=b');
  });

  it('writes a traceparent override as both trace fields, over a traceid one', () => {
    const event = built({
      metadata: { 'cloudevent.traceid': 'tid', 'cloudevent.traceparent': 'tp' },
    });
    assert.equal(event.traceid, 'tp');
    assert.equal(event.traceparent, 'tp');
    assert.equal(built({ metadata: { 'cloudevent.traceid': 'tid' } }).traceparent, 'tid');
  });

  it('falls back to defaults for empty overrides', () => {
    const event = built({ metadata: { 'cloudevent.source': '', 'cloudevent.type': '' } });
    assert.equal(event.source, 'Dapr');
    assert.equal(event.type, 'com.dapr.event.sent');
    assert.equal('subject' in event, false);
  });

  it('adds expiration when asked', () => {
    const event = built({ expiresAt: new Date(NOW.getTime() + 10_500) });
    assert.equal(event.expiration, '2026-03-04T05:06:18Z');
  });

  it('passes a CloudEvent body through, filling what is missing', () => {
    const body = '{"id":"e1","specversion":"1.0","data":{"big":98765432109876543210},"topic":"x"}';
    const bytes = envelopeBytes(
      input({
        data: Buffer.from(body),
        contentType: 'application/cloudevents+json',
        metadata: { 'cloudevent.id': 'ignored' },
      }),
    );
    const raw = Buffer.from(bytes).toString('utf8');
    assert.ok(raw.includes('"data":{"big":98765432109876543210}'));
    const event = JSON.parse(raw) as Record<string, unknown>;
    assert.equal(event.id, 'e1');
    assert.equal(event.topic, 'orders');
    assert.equal(event.pubsubname, 'pubsub');
    assert.equal(event.source, 'Dapr');
    assert.equal(event.type, 'com.dapr.event.sent');
    assert.equal(event.time, '2026-03-04T05:06:07Z');
    assert.equal(event.traceid, TRACE);
    assert.equal(event.traceparent, TRACE);
    assert.equal(event.tracestate, 'vendor=x');
  });

  it('keeps a passed-through event’s own fields', () => {
    const body = JSON.stringify({
      id: 'e2',
      source: 'mine',
      type: 't',
      specversion: '1.0',
      time: 'then',
      traceid: 'old',
      tracestate: '',
    });
    const event = built({ data: Buffer.from(body), contentType: 'application/cloudevents+json' });
    assert.equal(event.source, 'mine');
    assert.equal(event.type, 't');
    assert.equal(event.time, 'then');
    assert.equal(event.traceid, 'old');
    assert.equal('traceparent' in event, false);
    assert.equal(event.tracestate, '');
  });

  it('refuses a CloudEvent body that is not a JSON object', () => {
    for (const body of ['{"', '[1]', 'null', '"text"', '']) {
      assert.throws(
        () =>
          envelopeBytes(
            input({ data: Buffer.from(body), contentType: 'application/cloudevents+json' }),
          ),
        CloudEventError,
        body,
      );
    }
  });
});

describe('CloudEvent reading', () => {
  it('parses an event object and refuses anything else', () => {
    assert.deepEqual(parseCloudEvent(Buffer.from('{"id":"1"}')), { id: '1' });
    assert.throws(() => parseCloudEvent(Buffer.from('[]')), CloudEventParseError);
    assert.throws(() => parseCloudEvent(Buffer.from('{')), CloudEventParseError);
  });

  it('tells an expired event, ignoring absent or unreadable expirations', () => {
    const now = new Date('2026-01-01T00:00:10Z');
    assert.equal(isCloudEventExpired({ expiration: '2026-01-01T00:00:09Z' }, now), true);
    assert.equal(isCloudEventExpired({ expiration: '2026-01-01T01:00:09+01:00' }, now), true);
    assert.equal(isCloudEventExpired({ expiration: '2026-01-01T00:00:11Z' }, now), false);
    assert.equal(isCloudEventExpired({}, now), false);
    assert.equal(isCloudEventExpired({ expiration: '' }, now), false);
    assert.equal(isCloudEventExpired({ expiration: 'yesterday' }, now), false);
    assert.equal(isCloudEventExpired({ expiration: 5 }, now), false);
  });

  it('makes Dapr’s event for a raw payload subscription', () => {
    const event = rawPayloadCloudEvent(Buffer.from([1, 2, 3]), 't', 'p');
    assert.equal(event.data_base64, 'AQID');
    assert.equal(event.datacontenttype, 'application/octet-stream');
    assert.equal(event.source, 'Dapr');
    assert.equal(event.topic, 't');
    assert.equal(event.pubsubname, 'p');
  });
});

describe('JSON spans', () => {
  it('splits an object into exact member texts, last key winning', () => {
    const members = objectMembers(' { "a" : 1.50 , "b":{"c":[1,"]}"]}, "a\\"":null, "a": "x" } ');
    assert.deepEqual(members, [
      { key: 'b', text: '{"c":[1,"]}"]}' },
      { key: 'a"', text: 'null' },
      { key: 'a', text: '"x"' },
    ]);
    assert.equal(objectMembers('[1]'), undefined);
    assert.equal(objectMembers('{'), undefined);
    assert.deepEqual(objectMembers('{}'), []);
  });
});
