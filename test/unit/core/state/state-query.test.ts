import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseStateQuery, StateQueryError } from '../../../../src/core/state/state-query.js';

const parse = (text: string) => parseStateQuery(text, 'app||');

function fails(text: string, message: string | RegExp): void {
  assert.throws(
    () => parse(text),
    (error: unknown) => {
      assert.ok(error instanceof StateQueryError);
      if (typeof message === 'string') assert.equal(error.message, message);
      else assert.match(error.message, message);
      return true;
    },
    text,
  );
}

describe('state query parsing (Dapr query language)', () => {
  it('parses filter, sort and page into the contract AST', () => {
    const query = parse(
      JSON.stringify({
        filter: {
          AND: [
            { EQ: { 'person.org': 'Dev Ops' } },
            { OR: [{ IN: { state: ['CA', 'WA'] } }, { EQ: { 'person.id': 1036 } }] },
          ],
        },
        sort: [{ key: 'state', order: 'DESC' }, { key: 'person.id' }],
        page: { limit: 3, token: '2' },
      }),
    );
    assert.deepEqual(query, {
      filter: {
        op: 'AND',
        filters: [
          { op: 'EQ', field: 'person.org', value: 'Dev Ops' },
          {
            op: 'OR',
            filters: [
              { op: 'IN', field: 'state', values: ['CA', 'WA'] },
              { op: 'EQ', field: 'person.id', value: 1036 },
            ],
          },
        ],
      },
      sort: [
        { field: 'state', order: 'DESC' },
        { field: 'person.id', order: 'ASC' },
      ],
      page: { limit: 3, token: '2' },
      keyPrefix: 'app||',
    });
  });

  it('reads an empty document, null and an empty filter as no filter', () => {
    const empty = { sort: [], page: {}, keyPrefix: 'app||' };
    assert.deepEqual(parse('{}'), empty);
    assert.deepEqual(parse('null'), empty);
    assert.deepEqual(parse('{"filter":{},"sort":null,"page":null}'), empty);
  });

  it('matches field names case-insensitively and ignores unknown ones, as Go’s decoder', () => {
    const query = parse('{"Filter":{"EQ":{"a":1}},"SORT":[{"Key":"a","Order":"desc"}],"x":1}');
    assert.deepEqual(query.filter, { op: 'EQ', field: 'a', value: 1 });
    assert.deepEqual(query.sort, [{ field: 'a', order: 'DESC' }]);
  });

  it('drops a zero or negative limit and an empty token', () => {
    assert.deepEqual(parse('{"page":{"limit":0,"token":""}}').page, {});
    assert.deepEqual(parse('{"page":{"limit":-4}}').page, {});
  });

  it('refuses malformed documents with Go’s decoder text', () => {
    fails('', 'unexpected end of JSON input');
    fails('{', /JSON/);
    fails('[]', 'json: cannot unmarshal array into Go value of type query.QueryFields');
    fails(
      '{"filter":[]}',
      'json: cannot unmarshal array into Go struct field QueryFields.filter of type map[string]interface {}',
    );
    fails(
      '{"sort":{}}',
      'json: cannot unmarshal object into Go struct field QueryFields.sort of type []query.Sorting',
    );
    fails(
      '{"sort":[{"key":1}]}',
      'json: cannot unmarshal number into Go struct field Sorting.sort.key of type string',
    );
    fails(
      '{"page":{"limit":"3"}}',
      'json: cannot unmarshal string into Go struct field Pagination.page.limit of type int',
    );
    fails(
      '{"page":{"limit":1.5}}',
      'json: cannot unmarshal number 1.5 into Go struct field Pagination.page.limit of type int',
    );
    fails(
      '{"page":{"token":2}}',
      'json: cannot unmarshal number into Go struct field Pagination.page.token of type string',
    );
  });

  it('refuses malformed filters with components-contrib’s text', () => {
    fails('{"filter":{"EQ":{"a":1},"IN":{"b":[]}}}', 'filter unit must have a single element');
    fails('{"filter":{"EQ":[1]}}', 'EQ filter must be a map');
    fails('{"filter":{"EQ":{"a":1,"b":2}}}', 'EQ filter must contain a single key/value pair');
    fails('{"filter":{"IN":{"a":1}}}', 'IN filter value must be an array');
    fails('{"filter":{"AND":{"a":1}}}', 'AND filter must be an array');
    fails('{"filter":{"OR":[{"EQ":{"a":1}}]}}', 'OR filter must contain at least two entries');
    fails('{"filter":{"AND":[1,{"EQ":{"a":1}}]}}', 'filter unit must be a map');
    fails('{"filter":{"LIKE":{"a":1}}}', 'unsupported filter "LIKE"');
    fails('{"filter":{"NEQ":{"a":1}}}', 'unsupported filter "NEQ"');
  });

  it('refuses a sort order other than ASC or DESC', () => {
    fails('{"sort":[{"key":"a","order":"up"}]}', 'sort order "up" is not ASC or DESC');
  });
});
