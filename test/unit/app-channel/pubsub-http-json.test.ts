import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  outcomeOfAnswer,
  outcomesOfBulkAnswer,
  parseSubscribeList,
} from '../../../src/app-channel/pubsub-http-json.js';
import { headersOfMetadata } from '../../../src/app-channel/pubsub-metadata.js';
import { InvalidSubscriptionListError } from '../../../src/core/pubsub/subscriptions/delivery-port.js';

const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);

describe('GET /dapr/subscribe answers', () => {
  it('reads v1 routes, v2 rules with a default, metadata, dead letters and bulk settings', () => {
    const specs = parseSubscribeList(
      bytes(
        JSON.stringify([
          { pubsubname: 'ps', topic: 'a', route: '/a' },
          {
            PubSubName: 'ps',
            Topic: 'b',
            routes: { rules: [{ match: 'event.type == "x"', path: '/x' }], default: '/b' },
            // The default wins over a v1 route, as in Dapr.
            route: '/ignored',
            metadata: { rawPayload: 'true' },
            deadLetterTopic: 'dead',
            bulkSubscribe: { enabled: true, maxMessagesCount: 5, maxAwaitDurationMs: 0 },
          },
          { pubsubname: 'ps', topic: 'none' },
        ]),
      ),
    );
    assert.deepEqual(specs[0], {
      type: 'PROGRAMMATIC',
      pubsubName: 'ps',
      topic: 'a',
      metadata: {},
      rules: [{ match: '', path: '/a' }],
    });
    assert.deepEqual(specs[1]?.rules, [
      { match: 'event.type == "x"', path: '/x' },
      { match: '', path: '/b' },
    ]);
    assert.equal(specs[1]?.pubsubName, 'ps');
    assert.equal(specs[1]?.deadLetterTopic, 'dead');
    assert.deepEqual(specs[1]?.metadata, { rawPayload: 'true' });
    assert.deepEqual(specs[1]?.bulkSubscribe, { enabled: true, maxMessagesCount: 5 });
    // No route at all: the subscriber drops it later with a warning.
    assert.deepEqual(specs[2]?.rules, []);
  });

  it('treats an empty body or null as no subscriptions', () => {
    assert.deepEqual(parseSubscribeList(bytes('')), []);
    assert.deepEqual(parseSubscribeList(bytes('null')), []);
  });

  it('refuses what Go’s decoder refuses', () => {
    for (const body of ['{}', '[1]', '[{"topic": 5}]', '[{"metadata": {"a": 1}}]', 'nope']) {
      assert.throws(() => parseSubscribeList(bytes(body)), InvalidSubscriptionListError, body);
    }
  });
});

describe('event answers', () => {
  it('reads the status word, and takes undecodable or empty answers as SUCCESS', () => {
    assert.equal(outcomeOfAnswer(bytes('{"status":"RETRY"}'), 'e').status, 'RETRY');
    assert.equal(outcomeOfAnswer(bytes('{"Status":"DROP"}'), 'e').status, 'DROP');
    assert.equal(outcomeOfAnswer(bytes('{"status":""}'), 'e').status, 'SUCCESS');
    assert.equal(outcomeOfAnswer(bytes(''), 'e').status, 'SUCCESS');
    assert.equal(outcomeOfAnswer(bytes('OK'), 'e').status, 'SUCCESS');
    assert.equal(outcomeOfAnswer(bytes('{"status":1}'), 'e').status, 'SUCCESS');
    // Status words are case-sensitive: anything unknown is retried.
    assert.equal(outcomeOfAnswer(bytes('{"status":"success"}'), 'e').status, 'RETRY');
  });

  it('reads bulk statuses, with an empty status meaning RETRY', () => {
    const outcomes = outcomesOfBulkAnswer(
      bytes(
        JSON.stringify({
          statuses: [
            { entryId: '1', status: 'SUCCESS' },
            { entryId: '2', status: '' },
            { entryId: '3', status: 'DROP' },
          ],
        }),
      ),
    );
    assert.deepEqual(
      [...outcomes].map(([id, outcome]) => [id, outcome.status]),
      [
        ['1', 'SUCCESS'],
        ['2', 'RETRY'],
        ['3', 'DROP'],
      ],
    );
    assert.throws(() => outcomesOfBulkAnswer(bytes('nope')));
  });
});

describe('metadata headers', () => {
  it('lower-cases names, drops content headers and invalid entries, adds trace context', () => {
    assert.deepEqual(
      headersOfMetadata(
        {
          pubsubName: 'ps',
          'Content-Type': 'x',
          'content-length': '3',
          'bad name': 'v',
          multi: 'a\r\nb',
        },
        { traceparent: '00-abc-def-01', tracestate: 'k=v' },
      ),
      { pubsubname: 'ps', traceparent: '00-abc-def-01', tracestate: 'k=v' },
    );
  });
});
