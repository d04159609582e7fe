import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { bulkEnvelopeBytes } from '../../../src/app-channel/bulk-envelope.js';
import type { BulkTopicEventDelivery } from '../../../src/core/pubsub/subscriptions/delivery-port.js';

const utf8 = (text: string): Uint8Array => new TextEncoder().encode(text);

function batchOf(entries: BulkTopicEventDelivery['entries']): BulkTopicEventDelivery {
  return {
    id: 'batch-1',
    pubsubName: 'pubsub',
    topic: 'orders',
    path: '/bulk',
    metadata: { pubsubName: 'pubsub' },
    entries,
  };
}

describe('bulkEnvelopeBytes', () => {
  it("writes Dapr's envelope with each event's own bytes spliced in, unchanged", () => {
    const exact = '{"id":"e1","data":{"big":12345678901234567890,"text":"žluťoučký 🐎"}}';
    const bytes = bulkEnvelopeBytes(
      batchOf([
        {
          entryId: 'a',
          event: JSON.parse(exact) as Record<string, unknown>,
          eventJson: utf8(exact),
          contentType: 'application/cloudevents+json',
          metadata: { k: 'v' },
        },
      ]),
    );
    const text = Buffer.from(bytes).toString('utf8');
    assert.ok(text.includes(`"event":${exact}`), 'the event text is kept to the byte');
    assert.deepEqual(JSON.parse(text), {
      id: 'batch-1',
      type: 'com.dapr.event.sent.bulk',
      topic: 'orders',
      pubsubname: 'pubsub',
      metadata: { pubsubName: 'pubsub' },
      entries: [
        {
          entryId: 'a',
          event: JSON.parse(exact),
          metadata: { k: 'v' },
          contentType: 'application/cloudevents+json',
        },
      ],
    });
  });

  it('serialises events it has no bytes for, and sends raw payloads as base64', () => {
    const bytes = bulkEnvelopeBytes(
      batchOf([
        {
          entryId: 'parsed',
          event: { id: 'p', data: 'x"y' },
          contentType: 'application/cloudevents+json',
          metadata: {},
        },
        {
          entryId: 'raw',
          event: new Uint8Array([0, 255, 10]),
          contentType: 'application/octet-stream',
          metadata: {},
        },
      ]),
    );
    const envelope = JSON.parse(Buffer.from(bytes).toString('utf8')) as {
      entries: { entryId: string; event: unknown }[];
    };
    assert.deepEqual(
      envelope.entries.map((entry) => [entry.entryId, entry.event]),
      [
        ['parsed', { id: 'p', data: 'x"y' }],
        ['raw', Buffer.from([0, 255, 10]).toString('base64')],
      ],
    );
  });

  it('writes an empty batch as an empty entries array', () => {
    const envelope = JSON.parse(Buffer.from(bulkEnvelopeBytes(batchOf([]))).toString('utf8'));
    assert.deepEqual(envelope.entries, []);
  });

  it('writes each entry’s own metadata and content type, whatever the one before had', () => {
    const bytes = bulkEnvelopeBytes(
      batchOf([
        {
          entryId: 'a',
          event: { id: 'a' },
          eventJson: utf8('{"id":"a"}'),
          contentType: 'application/cloudevents+json',
          metadata: {},
        },
        {
          entryId: 'b',
          event: { id: 'b' },
          eventJson: utf8('{"id":"b"}'),
          contentType: 'application/json',
          metadata: { k: 'v"' },
        },
        {
          entryId: 'c',
          event: { id: 'c' },
          contentType: 'application/json',
          metadata: {},
        },
        {
          entryId: 'd',
          event: { id: 'd' },
          eventJson: utf8('{"id":"d"}'),
          contentType: 'application/cloudevents+json',
          metadata: {},
        },
      ]),
    );
    const envelope = JSON.parse(Buffer.from(bytes).toString('utf8')) as {
      entries: { entryId: string; event: unknown; metadata: unknown; contentType: string }[];
    };
    assert.deepEqual(
      envelope.entries.map((entry) => [
        entry.entryId,
        entry.event,
        entry.metadata,
        entry.contentType,
      ]),
      [
        ['a', { id: 'a' }, {}, 'application/cloudevents+json'],
        ['b', { id: 'b' }, { k: 'v"' }, 'application/json'],
        ['c', { id: 'c' }, {}, 'application/json'],
        ['d', { id: 'd' }, {}, 'application/cloudevents+json'],
      ],
    );
  });
});
