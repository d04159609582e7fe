import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  declarativeSpec,
  mergeSubscriptions,
} from '../../../../src/core/pubsub/subscriptions/declarative.js';
import {
  rawPayloadOf,
  readIncomingEvent,
} from '../../../../src/core/pubsub/subscriptions/incoming-event.js';
import {
  RouteCompileError,
  RouteEvaluationError,
  RouteTable,
} from '../../../../src/core/pubsub/subscriptions/route-table.js';
import type { SubscriptionSpec } from '../../../../src/core/pubsub/subscriptions/subscription-types.js';
import { topicEventFields } from '../../../../src/core/pubsub/subscriptions/topic-event.js';
import type { SubscriptionResource } from '../../../../src/resources/types.js';

const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);

describe('RouteTable', () => {
  const table = new RouteTable([
    { match: 'event.type == "order.created"', path: '/created' },
    { match: 'event.data.amount > 100', path: '/big' },
    { match: '', path: '/default' },
  ]);

  it('picks the first matching rule, in order', () => {
    assert.equal(table.select({ type: 'order.created', data: { amount: 500 } }), '/created');
    assert.equal(table.select({ type: 'other', data: { amount: 500 } }), '/big');
  });

  it('falls back to the default rule (empty match)', () => {
    assert.equal(table.select({ type: 'other', data: { amount: 1 } }), '/default');
  });

  it('answers undefined when no rule matches and there is no default', () => {
    const strict = new RouteTable([{ match: 'event.type == "a"', path: '/a' }]);
    assert.equal(strict.select({ type: 'b' }), undefined);
  });

  it('reports an expression that fails on the event, naming the rule', () => {
    const strict = new RouteTable([{ match: 'event.data.missing == 1', path: '/a' }]);
    assert.throws(
      () => strict.select({ data: {} }),
      (error: unknown) => {
        assert.ok(error instanceof RouteEvaluationError);
        assert.match(error.message, /event\.data\.missing == 1/);
        return true;
      },
    );
  });

  it('refuses a result that is not a boolean', () => {
    const strict = new RouteTable([{ match: 'event.type', path: '/a' }]);
    assert.throws(() => strict.select({ type: 'x' }), /not a boolean/);
  });

  it('names a rule that does not compile', () => {
    assert.throws(
      () => new RouteTable([{ match: 'event.type ==', path: '/broken' }]),
      (error: unknown) => {
        assert.ok(error instanceof RouteCompileError);
        assert.equal(error.rule.path, '/broken');
        assert.match(error.message, /event\.type ==/);
        return true;
      },
    );
  });

  it('treats a blank match as always true', () => {
    assert.equal(new RouteTable([{ match: '   ', path: '/x' }]).select({}), '/x');
  });
});

describe('declarative subscriptions', () => {
  const resource = (name: string, topic: string, extra: Partial<SubscriptionResource> = {}) =>
    ({
      kind: 'Subscription',
      apiVersion: 'dapr.io/v2alpha1',
      name,
      scopes: [],
      source: { file: `/r/${name}.yaml` },
      pubsubName: 'pubsub',
      topic,
      routes: { rules: [{ match: 'event.type == "a"', path: '/a' }], default: '/d' },
      metadata: {},
      ...extra,
    }) satisfies SubscriptionResource;

  it('appends the default route after the rules', () => {
    const spec = declarativeSpec(resource('s1', 'orders', { deadLetterTopic: 'dead' }));
    assert.deepEqual(spec.rules, [
      { match: 'event.type == "a"', path: '/a' },
      { match: '', path: '/d' },
    ]);
    assert.equal(spec.type, 'DECLARATIVE');
    assert.equal(spec.deadLetterTopic, 'dead');
  });

  it('lets an app subscription replace a declarative one for the same topic', () => {
    const declared = [
      declarativeSpec(resource('s1', 'orders')),
      declarativeSpec(resource('s2', 'x')),
    ];
    const own: SubscriptionSpec = {
      type: 'PROGRAMMATIC',
      pubsubName: 'pubsub',
      topic: 'orders',
      metadata: {},
      rules: [{ match: '', path: '/own' }],
    };
    const merged = mergeSubscriptions(declared, [own]);
    assert.deepEqual(
      merged.map((s) => [s.topic, s.type]),
      [
        ['orders', 'PROGRAMMATIC'],
        ['x', 'DECLARATIVE'],
      ],
    );
  });

  it('keeps the first of two declarative subscriptions for one topic', () => {
    const merged = mergeSubscriptions(
      [declarativeSpec(resource('first', 't')), declarativeSpec(resource('second', 't'))],
      [],
    );
    assert.deepEqual(
      merged.map((s) => s.name),
      ['first'],
    );
  });
});

describe('reading broker messages', () => {
  const context = { pubsubName: 'ps', topic: 'orders', rawPayload: false };

  it('parses a CloudEvent and keeps the original bytes as the body', () => {
    const data = bytes('{"id":"1","type":"t","data":{"n":12345678901234567890}}');
    const read = readIncomingEvent({ topic: 'orders', data, metadata: { k: 'v' } }, context);
    assert.ok(read.ok);
    assert.equal(read.cloudEvent.id, '1');
    assert.equal(read.body, data);
    assert.deepEqual(read.metadata, { k: 'v', pubsubName: 'ps' });
  });

  it('takes trace context from the metadata when the event has none', () => {
    const read = readIncomingEvent(
      { topic: 'orders', data: bytes('{"id":"1"}'), metadata: { traceparent: '00-a-b-01' } },
      context,
    );
    assert.ok(read.ok);
    assert.equal(read.cloudEvent.traceparent, '00-a-b-01');
    assert.equal(read.cloudEvent.traceid, '00-a-b-01');
  });

  it('refuses a payload that is not a JSON object', () => {
    const read = readIncomingEvent(
      { topic: 'orders', data: bytes('not json'), metadata: {} },
      context,
    );
    assert.equal(read.ok, false);
  });

  it('wraps a raw payload as Dapr does, with data_base64', () => {
    const data = new Uint8Array([0, 1, 2, 255]);
    const read = readIncomingEvent(
      { topic: 'orders', data, metadata: {} },
      { ...context, rawPayload: true },
    );
    assert.ok(read.ok);
    assert.equal(read.cloudEvent.data_base64, 'AAEC/w==');
    assert.equal(read.cloudEvent.datacontenttype, 'application/octet-stream');
    assert.equal(read.cloudEvent.source, 'Dapr');
    assert.equal(read.cloudEvent.type, 'com.dapr.event.sent');
    assert.equal(read.cloudEvent.topic, 'orders');
    assert.equal(read.cloudEvent.pubsubname, 'ps');
    assert.equal(JSON.parse(Buffer.from(read.body).toString()).data_base64, 'AAEC/w==');
  });

  it('rebuilds a binary-mode CloudEvent from ce_ metadata', () => {
    const read = readIncomingEvent(
      {
        topic: 'orders',
        data: new Uint8Array([9]),
        contentType: 'application/octet-stream',
        metadata: { ce_id: 'x1', ce_type: 'bin' },
      },
      context,
    );
    assert.ok(read.ok);
    assert.equal(read.cloudEvent.id, 'x1');
    assert.equal(read.cloudEvent.type, 'bin');
  });

  it('parses rawPayload as Go booleans', () => {
    assert.equal(rawPayloadOf({ rawPayload: 'True' }), true);
    assert.equal(rawPayloadOf({ rawPayload: '0' }), false);
    assert.equal(rawPayloadOf({}), false);
    assert.ok(rawPayloadOf({ rawPayload: 'yes' }) instanceof Error);
  });
});

describe('TopicEventRequest fields', () => {
  it('sends JSON data as JSON and keeps other attributes as extensions', () => {
    const fields = topicEventFields({
      id: '1',
      source: 'app',
      type: 't',
      specversion: '1.0',
      datacontenttype: 'application/json',
      data: { a: 1 },
      topic: 'orders',
      custom: 'x',
    });
    assert.equal(Buffer.from(fields.data).toString(), '{"a":1}');
    assert.deepEqual(fields.extensions, { topic: 'orders', custom: 'x' });
    assert.equal(fields.specVersion, '1.0');
  });

  it('decodes data_base64 and refuses invalid base64', () => {
    assert.deepEqual(
      [
        ...topicEventFields({ data_base64: 'AAEC', datacontenttype: 'application/octet-stream' })
          .data,
      ],
      [0, 1, 2],
    );
    assert.throws(() => topicEventFields({ data_base64: '!!' }));
  });

  it('sends text data as UTF-8 and leaves data of other types empty', () => {
    assert.equal(
      Buffer.from(
        topicEventFields({ datacontenttype: 'text/plain', data: 'héllo' }).data,
      ).toString(),
      'héllo',
    );
    assert.equal(topicEventFields({ datacontenttype: 'image/png', data: 'x' }).data.length, 0);
  });
});
