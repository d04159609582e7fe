import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkEntryIds, decodeHttpBulkEntries } from '../../../../src/core/pubsub/bulk-entries.js';
import { isTaprError, type TaprError } from '../../../../src/kernel/tapr-error.js';

const CONTEXT = { pubsubName: 'pubsub', topic: 'orders', appId: 'app' };

function decode(body: string) {
  return decodeHttpBulkEntries(Buffer.from(body), CONTEXT);
}

function failure(body: string): TaprError {
  try {
    decode(body);
  } catch (error) {
    assert.ok(isTaprError(error));
    return error;
  }
  assert.fail(`decoding ${body} did not fail`);
}

const text = (bytes: Uint8Array): string => Buffer.from(bytes).toString('utf8');

describe('HTTP bulk publish entries', () => {
  it('turns each event into bytes by its content type', () => {
    const entries = decode(
      JSON.stringify([
        { entryId: '1', event: 'aGk=', contentType: 'application/octet-stream' },
        { entryId: '2', event: 'plain', contentType: 'text/plain' },
        { entryId: '3', event: '<a/>', contentType: 'application/xml' },
        { entryId: '4', event: { a: [1] }, contentType: 'application/json' },
        { entryId: '5', event: { id: 'x' }, contentType: 'application/cloudevents+json' },
      ]),
    );
    assert.deepEqual(
      entries.map((entry) => [entry.entryId, text(entry.event), entry.contentType]),
      [
        ['1', 'hi', 'application/octet-stream'],
        ['2', 'plain', 'text/plain'],
        ['3', '<a/>', 'application/xml'],
        ['4', '{"a":[1]}', 'application/json'],
        ['5', '{"id":"x"}', 'application/cloudevents+json'],
      ],
    );
  });

  it('keeps JSON events exact, big numbers included', () => {
    const [entry] = decode(
      '[{"entryId":"1","event":{"n":123456789012345678901},"contentType":"application/json"}]',
    );
    assert.equal(text(entry!.event), '{"n":123456789012345678901}');
  });

  it('matches field names in any case and keeps metadata only when given', () => {
    const entries = decode(
      '[{"EntryID":"a","Event":"x","CONTENTTYPE":"text/plain","metadata":{"k":"v"}},' +
        '{"entryId":"b","event":"y","contentType":"text/plain"}]',
    );
    assert.deepEqual(entries[0]?.metadata, { k: 'v' });
    assert.equal(entries[1]?.metadata, undefined);
    assert.equal('metadata' in (entries[1] ?? {}), false);
  });

  it('keeps a JSON event’s text and makes its bytes only when asked', () => {
    const [entry] = decode(
      '[ {"entryId":"1", "event" : {"n": 123456789012345678901234} ,"contentType":"application/json"} ]',
    );
    assert.equal(entry?.eventJson, '{"n": 123456789012345678901234}');
    assert.equal(text(entry!.event), '{"n": 123456789012345678901234}');
    assert.equal(entry?.event, entry?.event, 'made once');
    const [binary] = decode(
      '[{"entryId":"1","event":"aGk=","contentType":"application/octet-stream"}]',
    );
    assert.equal(binary?.eventJson, undefined);
  });

  it('picks repeated and differently cased fields as before: exact name, else any case', () => {
    const picked = (body: string) =>
      decode(body).map((entry) => [entry.entryId, text(entry.event)]);
    assert.deepEqual(
      picked(
        '[{"entryId":"a","ENTRYID":"b","event":1,"Event":2,"contentType":"application/json"},' +
          '{"EntryId":"c","ENTRYID":"d","EntryId":"e","EVENT":[1, 2],"contentType":"application/json"},' +
          '{"entryId":"f","entryId":"g","event":{"z":1},"contentType":"application/json","event":3}]',
      ),
      [
        ['a', '1'],
        ['d', '[1, 2]'],
        ['g', '3'],
      ],
    );
  });

  it('reads null as no entries', () => {
    assert.deepEqual(decode('null'), []);
    assert.deepEqual(decode('[]'), []);
  });

  it('fails a body that is not an array of entries as UNMARSHAL_EVENTS', () => {
    for (const body of [
      '{"entryID": "}',
      '{"entryId":"1"}',
      '[1]',
      '[{"entryId":1}]',
      '[{"metadata":{"a":1}}]',
      '',
    ]) {
      const error = failure(body);
      assert.equal(error.code, 'ERR_PUBSUB_EVENTS_SER', body);
      assert.equal(error.reason, 'DAPR_PUBSUB_UNMARSHAL_EVENTS', body);
      assert.equal(error.httpStatus, 400);
      assert.match(
        error.message,
        /^error when unmarshaling the request for topic orders pubsub pubsub: /,
      );
      assert.deepEqual(error.extras.resource, { type: 'pubsub', name: 'pubsub' });
    }
  });

  it('words type errors as Dapr’s Go decoder does', () => {
    assert.equal(
      failure('{"entryID": ""}').message,
      'error when unmarshaling the request for topic orders pubsub pubsub: json: cannot unmarshal object into Go value of type []http.bulkPublishMessageEntry',
    );
  });

  it('fails an event that does not fit its content type as MARSHAL_ENVELOPE', () => {
    const cases = [
      { entryId: '1', event: 5, contentType: 'application/octet-stream' },
      { entryId: '1', event: 'not base64!', contentType: 'application/octet-stream' },
      { entryId: '1', event: { a: 1 }, contentType: 'text/plain' },
      { entryId: '1', event: 'x', contentType: 'image/png' },
      { entryId: '1', event: 'x', contentType: '' },
    ];
    for (const entry of cases) {
      const error = failure(JSON.stringify([entry]));
      assert.equal(error.code, 'ERR_PUBSUB_EVENTS_SER');
      assert.equal(error.reason, 'DAPR_PUBSUB_MARSHAL_ENVELOPE', JSON.stringify(entry));
      assert.match(
        error.message,
        /^error when marshalling cloud event envelope for topic orders pubsub pubsub: error: /,
      );
    }
  });

  it('fails empty and repeated entry ids as MARSHAL_EVENTS', () => {
    for (const body of [
      '[{"event":"x","contentType":"text/plain"}]',
      '[{"entryId":"1","event":"x","contentType":"text/plain"},{"entryId":"1","event":"y","contentType":"text/plain"}]',
    ]) {
      const error = failure(body);
      assert.equal(error.reason, 'DAPR_PUBSUB_MARSHAL_EVENTS');
      assert.equal(
        error.message,
        'error marshaling events to bytes for topic orders pubsub pubsub. error: entryId is duplicated or not present for entry',
      );
    }
  });

  it('checks gRPC entry ids the same way', () => {
    const event = new Uint8Array();
    checkEntryIds([{ entryId: 'a', event, contentType: '' }], CONTEXT);
    assert.throws(
      () =>
        checkEntryIds(
          [
            { entryId: 'a', event, contentType: '' },
            { entryId: 'a', event, contentType: '' },
          ],
          CONTEXT,
        ),
      (error: unknown) => isTaprError(error) && error.reason === 'DAPR_PUBSUB_MARSHAL_EVENTS',
    );
  });
});
