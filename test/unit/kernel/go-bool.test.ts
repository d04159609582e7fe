import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isTruthy, parseGoBool, parseTruthy } from '../../../src/kernel/go-bool.js';

describe('Go booleans', () => {
  it("parses strconv.ParseBool's exact spellings and nothing else", () => {
    for (const text of ['1', 't', 'T', 'TRUE', 'true', 'True'])
      assert.equal(parseGoBool(text), true);
    for (const text of ['0', 'f', 'F', 'FALSE', 'false', 'False'])
      assert.equal(parseGoBool(text), false);
    for (const text of ['', 'yes', 'on', 'tRUE', ' true', 'y'])
      assert.equal(parseGoBool(text), undefined);
  });

  it("reads dapr/kit's truthy spellings trimmed and in any case; anything else is false", () => {
    for (const text of ['y', 'YES', ' true ', 'T', 'On', '1']) assert.equal(isTruthy(text), true);
    for (const text of [undefined, '', 'no', 'false', 'enabled', '2'])
      assert.equal(isTruthy(text), false);
  });

  it('reads the truthy spellings strictly when a field refuses typos', () => {
    assert.equal(parseTruthy(' Yes'), true);
    for (const text of ['', 'N', 'no', 'FALSE', 'f', 'off', '0'])
      assert.equal(parseTruthy(text), false);
    assert.equal(parseTruthy('ture'), undefined);
  });
});
