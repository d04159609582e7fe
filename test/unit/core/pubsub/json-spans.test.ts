import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { arrayElements, objectMembers } from '../../../../src/core/pubsub/json-spans.js';

describe('json spans', () => {
  it('keeps each member text exactly, across escapes, nesting and whitespace', () => {
    const text =
      '{ "a\\"k" : "x\\\\" ,\n"b":{"c":["]","}",{"d":"\\\\\\""}]},"n":12345678901234567890,"z" :null }';
    assert.deepEqual(objectMembers(text), [
      { key: 'a"k', text: '"x\\\\"' },
      { key: 'b', text: '{"c":["]","}",{"d":"\\\\\\""}]}' },
      { key: 'n', text: '12345678901234567890' },
      { key: 'z', text: 'null' },
    ]);
  });

  it('keeps the last of repeated keys, at its last position', () => {
    assert.deepEqual(objectMembers('{"a":1,"b":2,"a":3}'), [
      { key: 'b', text: '2' },
      { key: 'a', text: '3' },
    ]);
  });

  it('refuses what is not a JSON object, and trusts a known-valid span only for its kind', () => {
    assert.equal(objectMembers('[1]'), undefined);
    assert.equal(objectMembers('{"a":'), undefined);
    assert.equal(objectMembers(' [1]', true), undefined);
    assert.deepEqual(objectMembers(' {"a":[1,2]}', true), [{ key: 'a', text: '[1,2]' }]);
  });

  it('splits an array into its elements exactly', () => {
    assert.deepEqual(arrayElements('[ {"e":"a,b"} ,"s\\"",\n1.50e3,[[]],null ]'), [
      '{"e":"a,b"}',
      '"s\\""',
      '1.50e3',
      '[[]]',
      'null',
    ]);
    assert.deepEqual(arrayElements('[]'), []);
    assert.equal(arrayElements('{"a":1}'), undefined);
    assert.equal(arrayElements('[1,'), undefined);
  });
});
