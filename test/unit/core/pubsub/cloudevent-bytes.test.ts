import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildCloudEvent, type CloudEventInput } from '../../../../src/core/pubsub/cloudevent.js';

const NOW = new Date('2026-03-04T05:06:07.891Z');
const TRACE = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00';

function text(overrides: Partial<CloudEventInput>): string {
  return Buffer.from(
    buildCloudEvent({
      data: Buffer.from(' {"n": 12345678901234567890} '),
      contentType: 'application/json',
      topic: 'orders',
      pubsubName: 'pubsub',
      source: 'checkout',
      traceParent: TRACE,
      traceState: '',
      metadata: { 'cloudevent.id': 'fixed' },
      now: NOW,
      ...overrides,
    }),
  ).toString('utf8');
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
});
