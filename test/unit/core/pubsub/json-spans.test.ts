import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { objectMembers } from '../../../../src/core/pubsub/json-spans.js';
import { JsonText } from '../../../../src/kernel/json-text.js';

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

  it('walks an array’s objects once, giving each element’s span and members', () => {
    const text = '[ {"a":{"b":[1,"}"]} , "c" :2 },null,{ },"s",[{"x":1}] ]';
    const json = new JsonText(text);
    const elements = json.elementMembers({ start: 0, end: text.length });
    assert.deepEqual(
      elements.map(({ span, members }) => [
        json.slice(span),
        members?.map((member) => [member.name, json.slice(member.value)]),
      ]),
      [
        [
          '{"a":{"b":[1,"}"]} , "c" :2 }',
          [
            ['a', '{"b":[1,"}"]}'],
            ['c', '2'],
          ],
        ],
        ['null', undefined],
        ['{ }', []],
        ['"s"', undefined],
        ['[{"x":1}]', undefined],
      ],
    );
    const empty = new JsonText('[ ]');
    assert.deepEqual(empty.elementMembers({ start: 0, end: 3 }), []);
  });
});
