import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  isQueryableStore,
  type QueryableStateStore,
  type StateQuery,
  type StateQueryFilter,
} from '../../../../src/components/contracts/state.js';
import { translateQuery } from '../../../../src/components/state/postgresql-query.js';
import { getRequest, PostgresFixture, setRequest, signal, text } from './postgresql-fixture.js';

const fixture = new PostgresFixture();
let store: QueryableStateStore;
let table = '';

/** `_` is a LIKE wildcard: keys of `qXapp` must not leak into `q_app`'s queries. */
const PREFIX = 'q_app||';
const ORGS = ['Dev Ops', 'Finance', 'Hardware'];
const CITIES = ['Seattle', 'Portland', 'Austin', 'Boston', 'Denver'];

interface Doc {
  person: { org: string; id: number };
  city: string;
  n: number;
  active: boolean;
}

const docs: Doc[] = Array.from({ length: 50 }, (_, i) => ({
  person: { org: ORGS[i % 3] ?? '', id: i },
  city: CITIES[i % 5] ?? '',
  n: i,
  active: i % 2 === 0,
}));

before(async () => {
  await fixture.start();
  const opened = await fixture.open();
  assert.ok(isQueryableStore(opened.instance, opened.features));
  store = opened.instance;
  table = opened.table;
  await store.bulkSet?.(
    [
      ...docs.map((doc) => setRequest(`${PREFIX}doc-${doc.n}`, JSON.stringify(doc))),
      setRequest('qXapp||doc-0', JSON.stringify(docs[0])),
      setRequest('other||doc-1', JSON.stringify(docs[1])),
    ],
    signal,
  );
  // Expired but not yet cleaned up: never a result.
  await fixture.client.query(
    `INSERT INTO ${table} (key, value, isbinary, expiredate)
     VALUES ($1, $2, false, now() - interval '1 minute')`,
    [`${PREFIX}expired`, JSON.stringify(docs[1])],
  );
});

after(async () => {
  await fixture.stop();
});

async function run(
  filter: StateQueryFilter | undefined,
  extra: Partial<Pick<StateQuery, 'sort' | 'page' | 'keyPrefix'>> = {},
) {
  return store.query(
    {
      ...(filter === undefined ? {} : { filter }),
      sort: extra.sort ?? [],
      page: extra.page ?? {},
      keyPrefix: extra.keyPrefix ?? PREFIX,
    },
    {},
    signal,
  );
}

/** The sorted doc numbers a query returned. */
async function numbers(filter: StateQueryFilter | undefined): Promise<number[]> {
  const { results, token } = await run(filter);
  assert.equal(token, undefined);
  return results.map((item) => (JSON.parse(text(item.data)) as Doc).n).sort((a, b) => a - b);
}

function expected(predicate: (doc: Doc) => boolean): number[] {
  const matching = docs.filter(predicate).map((doc) => doc.n);
  assert.ok(matching.length > 0 && matching.length < docs.length, 'a selective expectation');
  return matching;
}

describe('state.postgresql v1: query filters', () => {
  it('returns only live keys under the prefix, with their stored key and etag', async () => {
    const { results } = await run(undefined);
    assert.equal(results.length, 50);
    assert.ok(results.every((item) => item.key.startsWith(PREFIX)));
    const sample = results.find((item) => item.key === `${PREFIX}doc-3`);
    assert.equal(sample?.etag, (await store.get(getRequest(`${PREFIX}doc-3`), signal))?.etag);
    assert.deepEqual(JSON.parse(text(sample?.data)), docs[3]);
  });

  it('EQ on nested strings, numbers and booleans', async () => {
    const finance = { op: 'EQ', field: 'person.org', value: 'Finance' } as const;
    assert.deepEqual(
      await numbers(finance),
      expected((doc) => doc.person.org === 'Finance'),
    );
    assert.deepEqual(await numbers({ op: 'EQ', field: 'n', value: 7 }), [7]);
    // Dapr compares the text of scalars, so "7" matches the number 7 too.
    assert.deepEqual(await numbers({ op: 'EQ', field: 'person.id', value: '7' }), [7]);
    assert.deepEqual(
      await numbers({ op: 'EQ', field: 'active', value: true }),
      expected((doc) => doc.active),
    );
    assert.deepEqual(await numbers({ op: 'EQ', field: 'missing', value: 'x' }), []);
  });

  it('IN with strings and with numbers', async () => {
    assert.deepEqual(
      await numbers({ op: 'IN', field: 'city', values: ['Seattle', 'Boston'] }),
      expected((doc) => doc.city === 'Seattle' || doc.city === 'Boston'),
    );
    assert.deepEqual(await numbers({ op: 'IN', field: 'n', values: [1, 2, 49, 100] }), [1, 2, 49]);
    await assert.rejects(run({ op: 'IN', field: 'n', values: [] }), /empty IN/);
  });

  it('AND, OR and nested combinations', async () => {
    assert.deepEqual(
      await numbers({
        op: 'AND',
        filters: [
          { op: 'EQ', field: 'person.org', value: 'Finance' },
          { op: 'EQ', field: 'city', value: 'Seattle' },
        ],
      }),
      expected((doc) => doc.person.org === 'Finance' && doc.city === 'Seattle'),
    );
    assert.deepEqual(
      await numbers({
        op: 'OR',
        filters: [
          { op: 'EQ', field: 'n', value: 1 },
          { op: 'EQ', field: 'city', value: 'Denver' },
        ],
      }),
      expected((doc) => doc.n === 1 || doc.city === 'Denver'),
    );
    assert.deepEqual(
      await numbers({
        op: 'AND',
        filters: [
          {
            op: 'OR',
            filters: [
              { op: 'EQ', field: 'person.org', value: 'Dev Ops' },
              { op: 'EQ', field: 'person.org', value: 'Hardware' },
            ],
          },
          { op: 'IN', field: 'city', values: ['Austin', 'Portland'] },
          { op: 'OR', filters: [{ op: 'EQ', field: 'active', value: false }] },
        ],
      }),
      expected(
        (doc) =>
          doc.person.org !== 'Finance' &&
          (doc.city === 'Austin' || doc.city === 'Portland') &&
          !doc.active,
      ),
    );
  });
});

describe('state.postgresql v1: query sorting and paging', () => {
  it('sorts numbers numerically, both ways, and by several fields', async () => {
    const down = await run(undefined, { sort: [{ field: 'n', order: 'DESC' }] });
    assert.deepEqual(
      down.results.map((item) => item.key),
      docs.map((doc) => `${PREFIX}doc-${doc.n}`).reverse(),
    );
    const byOrg = await run(undefined, {
      sort: [
        { field: 'person.org', order: 'ASC' },
        { field: 'n', order: 'DESC' },
      ],
    });
    const want = [...docs]
      .sort((a, b) => a.person.org.localeCompare(b.person.org) || b.n - a.n)
      .map((doc) => `${PREFIX}doc-${doc.n}`);
    assert.deepEqual(
      byOrg.results.map((item) => item.key),
      want,
    );
  });

  it('pages through every result with offset tokens', async () => {
    for (const limit of [7, 10]) {
      const seen: string[] = [];
      const tokens: string[] = [];
      let token: string | undefined;
      do {
        const page = await run(undefined, {
          sort: [{ field: 'n', order: 'ASC' }],
          page: { limit, ...(token === undefined ? {} : { token }) },
        });
        assert.ok(page.results.length <= limit);
        seen.push(...page.results.map((item) => item.key));
        token = page.token;
        if (token !== undefined) tokens.push(token);
      } while (token !== undefined);
      assert.deepEqual(
        seen,
        docs.map((doc) => `${PREFIX}doc-${doc.n}`),
      );
      assert.equal(tokens[0], String(limit));
      assert.equal(tokens.length, Math.ceil(50 / limit) - 1);
    }
    await assert.rejects(run(undefined, { page: { limit: 5, token: 'abc' } }), /token/);
  });
});

describe('state.postgresql v1: query safety', () => {
  it('keeps field names and values out of the SQL text', async () => {
    const field = "n') OR 1=1; DROP TABLE x; --";
    const value = "' OR '1'='1";
    const translated = translateQuery('state', {
      filter: {
        op: 'AND',
        filters: [
          { op: 'EQ', field, value },
          { op: 'IN', field: 'a.b', values: [value, 3] },
        ],
      },
      sort: [{ field, order: 'ASC' }],
      page: { limit: 2, token: '4' },
      keyPrefix: "x'%_",
    });
    for (const fragment of [field, value, "x'"]) {
      assert.ok(!translated.statement.text.includes(fragment), translated.statement.text);
    }
    assert.deepEqual(translated.statement.values[0], "x'\\%\\_%");
    assert.deepEqual(await numbers({ op: 'EQ', field, value: 1 }), []);
    assert.deepEqual(await numbers({ op: 'EQ', field: 'city', value }), []);
    const sorted = await run(undefined, { sort: [{ field, order: 'DESC' }] });
    assert.equal(sorted.results.length, 50);
    const exists = await fixture.client.query('SELECT to_regclass($1) AS t', [table]);
    assert.notEqual(exists.rows[0]?.t, null);
  });

  it('treats LIKE wildcards in the key prefix literally', async () => {
    const { results } = await run(undefined, { keyPrefix: 'q%' });
    assert.equal(results.length, 0);
    const everything = await run(undefined, { keyPrefix: '' });
    assert.equal(everything.results.length, 52);
  });
});
