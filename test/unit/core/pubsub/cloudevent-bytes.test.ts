import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  type CloudEventInput,
  cloudEventText,
  EnvelopeTexts,
} from '../../../../src/core/pubsub/cloudevent.js';

const NOW = new Date('2026-03-04T05:06:07.891Z');
const TRACE = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00';

/** A JSON publish to `orders`; each test changes what it is about. */
const BASE: CloudEventInput = {
  data: Buffer.from(' {"n": 12345678901234567890} '),
  contentType: 'application/json',
  topic: 'orders',
  pubsubName: 'pubsub',
  source: 'checkout',
  traceParent: TRACE,
  traceState: '',
  metadata: { 'cloudevent.id': 'fixed' },
  now: NOW,
};

function text(overrides: Partial<CloudEventInput>): string {
  return cloudEventText({ ...BASE, ...overrides });
}

describe('CloudEvent envelope bytes', () => {
  it('writes Dapr’s member order, compact, with the data text kept exactly', () => {
    assert.equal(
      text({}),
      '{"specversion":"1.0","id":"fixed","source":"checkout","type":"com.dapr.event.sent",' +
        '"datacontenttype":"application/json","topic":"orders","pubsubname":"pubsub",' +
        `"traceid":"${TRACE}","traceparent":"${TRACE}","tracestate":"",` +
        '"time":"2026-03-04T05:06:07Z","data":{"n": 12345678901234567890}}',
    );
  });

  it('puts subject before the data and expiration last', () => {
    const out = text({
      metadata: { 'CloudEvent.Id': 'x"y', 'cloudevent.subject': 'sub' },
      contentType: 'application/octet-stream',
      data: Buffer.from([1, 2]),
      expiresAt: new Date('2026-03-04T05:07:07Z'),
    });
    assert.equal(
      out,
      '{"specversion":"1.0","id":"x\\"y","source":"checkout","type":"com.dapr.event.sent",' +
        '"datacontenttype":"application/octet-stream","topic":"orders","pubsubname":"pubsub",' +
        `"traceid":"${TRACE}","traceparent":"${TRACE}","tracestate":"",` +
        '"time":"2026-03-04T05:06:07Z","subject":"sub","data_base64":"AQI=",' +
        '"expiration":"2026-03-04T05:07:07Z"}',
    );
  });

  it('ignores metadata keys that only look like overrides', () => {
    const out = JSON.parse(
      text({ metadata: { cloudevent: 'a', 'cloudevent.': 'b', 'x.cloudevent.id': 'c' } }),
    ) as Record<string, unknown>;
    assert.match(String(out.id), /^[0-9a-f-]{36}$/);
  });

  it('splices JSON text known to be valid without parsing it again', () => {
    const parse = JSON.parse;
    let parses = 0;
    JSON.parse = (...args: Parameters<typeof JSON.parse>) => {
      parses += 1;
      return parse(...args);
    };
    let out: string;
    try {
      out = cloudEventText({ ...BASE, data: '{"n":123456789012345678901234}' });
    } finally {
      JSON.parse = parse;
    }
    assert.equal(parses, 0);
    assert.ok(out.endsWith(',"data":{"n":123456789012345678901234}}'));
  });

  it('writes the same text as bytes, and reuses the texts one request repeats', () => {
    const texts = new EnvelopeTexts();
    const base = { ...BASE, data: '{"a":1}', traceState: 'k=v' };
    const first = cloudEventText(base, texts);
    assert.equal(first, cloudEventText(base), 'the same text as without shared texts');
    assert.equal(cloudEventText(base, texts), first);
    // A new second, source or content type is written afresh.
    const later = cloudEventText(
      {
        ...base,
        now: new Date('2026-03-04T05:06:08.000Z'),
        source: 'other',
        data: Buffer.from('x"'),
        contentType: 'text/plain',
      },
      texts,
    );
    assert.equal(
      later,
      '{"specversion":"1.0","id":"fixed","source":"other","type":"com.dapr.event.sent",' +
        '"datacontenttype":"text/plain","topic":"orders","pubsubname":"pubsub",' +
        `"traceid":"${TRACE}","traceparent":"${TRACE}","tracestate":"k=v",` +
        '"time":"2026-03-04T05:06:08Z","data":"x\\""}',
    );
    assert.throws(() => cloudEventText({ ...base, now: new Date(Number.NaN) }, texts), RangeError);
  });
});
