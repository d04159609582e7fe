import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compactJson, rawJsonValue } from '../../../src/api/http/json-text.js';
import {
  decodeBulkGetBody,
  decodeSaveBody,
  decodeTransactionBody,
} from '../../../src/api/http/routes/state-body.js';
import { JsonText } from '../../../src/kernel/json-text.js';
import { isTaprError } from '../../../src/kernel/tapr-error.js';

const body = (text: string) => Buffer.from(text);
const str = (data: Uint8Array) => Buffer.from(data).toString('utf8');

function malformed(work: () => unknown, message: string | RegExp): void {
  assert.throws(work, (error: unknown) => {
    assert.ok(isTaprError(error));
    assert.equal(error.code, 'ERR_MALFORMED_REQUEST');
    assert.equal(error.httpStatus, 400);
    if (typeof message === 'string') assert.equal(error.message, message);
    else assert.match(error.message, message);
    return true;
  });
}

describe('JSON kept as text', () => {
  it('finds element and member spans, including nested and escaped strings', () => {
    const text = new JsonText(' [ {"a" : [1, {"b":"}]"}], "v\\"" : "x" } , 2 ] ');
    const [first, second] = text.elements(text.root());
    assert.ok(first && second);
    assert.deepEqual(
      text.members(first).map((m) => [m.name, text.slice(m.value)]),
      [
        ['a', '[1, {"b":"}]"}]'],
        ['v"', '"x"'],
      ],
    );
    assert.equal(text.slice(second), '2');
    assert.equal(text.member(first, 'A'), undefined);
  });

  it('compacts JSON like Go’s json.Compact and embeds non-JSON as a string', () => {
    assert.equal(compactJson('{ "a" : [ 1 , "x y" ] }\n'), '{"a":[1,"x y"]}');
    assert.equal(rawJsonValue(Buffer.from(' {"a": 1} ')), '{"a":1}');
    assert.equal(rawJsonValue(Buffer.from('hello')), '"hello"');
    assert.equal(rawJsonValue(new Uint8Array(0)), '""');
  });
});

describe('state request bodies', () => {
  it('keeps each saved value as the exact JSON text sent', () => {
    const items = decodeSaveBody(
      body('[{"key":"a","value":{ "n" : 1.50, "s":"é" }},{"Key":"b","VALUE":"x"},{"key":"c"}]'),
      {},
    );
    assert.deepEqual(
      items.map((i) => [i.key, str(i.value), i.isJson]),
      [
        ['a', '{ "n" : 1.50, "s":"é" }', true],
        ['b', '"x"', true],
        ['c', 'null', true],
      ],
    );
  });

  it('reads etag, metadata, options and contentType; query metadata wins', () => {
    const [item] = decodeSaveBody(
      body(
        '[{"key":"a","value":1,"etag":"7","metadata":{"ttlInSeconds":"5","p":"body"},"options":{"concurrency":"first-write","Consistency":"strong"},"contentType":"application/json"}]',
      ),
      { p: 'query' },
    );
    assert.deepEqual(
      { ...item, value: undefined },
      {
        key: 'a',
        value: undefined,
        isJson: true,
        etag: '7',
        metadata: { ttlInSeconds: '5', p: 'query' },
        concurrency: 'first-write',
        consistency: 'strong',
        contentType: 'application/json',
      },
    );
  });

  it('answers ERR_MALFORMED_REQUEST with the decoder’s own text for a bad save body', () => {
    malformed(() => decodeSaveBody(body(''), {}), 'EOF');
    malformed(
      () => decodeSaveBody(body('{}'), {}),
      'json: cannot unmarshal object into Go value of type []state.SetRequest',
    );
    malformed(() => decodeSaveBody(body('[{"key":"a"},]'), {}), /JSON/);
    malformed(
      () => decodeSaveBody(body('[{"key":"a","etag":123}]'), {}),
      'json: cannot unmarshal number into Go struct field SetRequest.etag of type string',
    );
    malformed(
      () => decodeSaveBody(body('[{"key":"a","metadata":{"x":1}}]'), {}),
      'json: cannot unmarshal number into Go struct field SetRequest.metadata of type string',
    );
    assert.deepEqual(decodeSaveBody(body('null'), {}), []);
    assert.equal(decodeSaveBody(body('[{}]'), {})[0]?.key, '');
  });

  it('decodes a bulk get body, query metadata winning', () => {
    assert.deepEqual(
      decodeBulkGetBody(body('{"keys":["a","b"],"parallelism":3,"metadata":{"m":"1","q":"b"}}'), {
        q: 'q',
      }),
      { keys: ['a', 'b'], parallelism: 3, metadata: { m: '1', q: 'q' } },
    );
    malformed(() => decodeBulkGetBody(body(''), {}), 'failed deserializing HTTP body: EOF');
    malformed(
      () => decodeBulkGetBody(body('{"keys":"a"}'), {}),
      'failed deserializing HTTP body: json: cannot unmarshal string into Go struct field BulkGetRequest.keys of type []string',
    );
  });

  it('decodes a transaction body, keeping values as text and merging query metadata', () => {
    const decoded = decodeTransactionBody(
      body(
        '{"operations":[{"operation":"upsert","request":{"key":"a","value":[1, 2],"metadata":{"x":"1"}}},{"operation":"delete","request":{"key":"b","etag":"3"}}],"metadata":{"partitionKey":"p"}}',
      ),
      { q: '1' },
    );
    assert.deepEqual(decoded.metadata, { partitionKey: 'p', q: '1' });
    const [upsert, del] = decoded.operations;
    assert.equal(upsert?.operation, 'upsert');
    assert.equal(str(upsert?.request.value ?? new Uint8Array()), '[1, 2]');
    assert.deepEqual(upsert?.request.metadata, { x: '1', q: '1' });
    assert.equal(del?.request.etag, '3');
    assert.deepEqual(del?.request.metadata, { q: '1' });
    assert.deepEqual(
      decodeTransactionBody(body('{"operations":[],"metadata":null}'), {}).operations,
      [],
    );
    malformed(
      () =>
        decodeTransactionBody(body('{"operations":[{"operation":"upsert","request":"x"}]}'), {}),
      "failed deserializing HTTP body: '' expected a map, got 'string'",
    );
  });
});
