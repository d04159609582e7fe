import assert from 'node:assert/strict';
import { StateFeature } from '../../../src/components/contracts/state.js';
import { GrpcCode } from '../../../src/kernel/grpc-code.js';
import { waitUntil } from '../../helpers/test-servers.js';
import { assertJson, type Cases, textOf } from './cases.js';
import { rejectsWith, remove, type StateClient, saveItem } from './harness.js';

/** Short enough to keep the run fast, long enough for stores that keep whole seconds. */
const TTL_SECONDS = 2;

const RFC3339_SECONDS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/;

/** Asserts `ttlExpireTime` is RFC 3339 in UTC and about `ttl` seconds after the save. */
function assertExpiry(value: string | undefined, savedFrom: number, savedBy: number, ttl: number) {
  assert.ok(value !== undefined, 'a value with a TTL reports ttlExpireTime');
  assert.match(value, RFC3339_SECONDS);
  const at = Date.parse(value);
  // Stores keeping whole seconds may round either way by up to a second.
  assert.ok(at >= savedFrom + (ttl - 2) * 1000, `ttlExpireTime ${value} is too early`);
  assert.ok(at <= savedBy + (ttl + 1) * 1000, `ttlExpireTime ${value} is too late`);
}

/** Documents for the query cases, after Dapr's query API examples. */
const PEOPLE: Readonly<Record<string, object>> = {
  p1: { person: { org: 'Dev Ops', id: 1036 }, city: 'Seattle', state: 'WA' },
  p2: { person: { org: 'Hardware', id: 1028 }, city: 'Portland', state: 'OR' },
  p3: { person: { org: 'Finance', id: 1071 }, city: 'Sacramento', state: 'CA' },
  p4: { person: { org: 'Dev Ops', id: 1042 }, city: 'Spokane', state: 'WA' },
  p5: { person: { org: 'Hardware', id: 1007 }, city: 'Los Angeles', state: 'CA' },
  p6: { person: { org: 'Finance', id: 1094 }, city: 'Eugene', state: 'OR' },
};

const BY_ID = [{ key: 'person.id' }];

async function queryKeys(app: StateClient, document: unknown): Promise<string[]> {
  return (await app.query(document)).results.map((item) => item.key);
}

/** TTL, key prefixes and the query API. */
export function registerScopeCases(cases: Cases): void {
  const { entry } = cases;
  const { TTL, QUERY_API, TRANSACTIONAL } = StateFeature;

  cases.ifDeclared(
    TTL,
    'TTL: a key expires after ttlInSeconds; -1 and no TTL never do',
    async (run) => {
      const app = run.app('ttl');
      const ttl = { ttlInSeconds: String(TTL_SECONDS) };
      const savedFrom = Date.now();
      await app.saveJson('short', '"short"', { metadata: ttl });
      await app.saveJson('renewed', '"renewed"', { metadata: ttl });
      await app.saveJson('renewed', '"renewed"', { metadata: { ttlInSeconds: '-1' } });
      await app.saveJson('long', '"long"', { metadata: { ttlInSeconds: '3600' } });
      await app.saveJson('forever', '"forever"');
      // The bulk save and transaction paths must apply the TTL too.
      await app.saveMany([
        saveItem('bulk-short', '"b"', { metadata: ttl }),
        saveItem('bulk', '"b"'),
      ]);
      const expiring = ['short', 'bulk-short'];
      if (entry.features.includes(TRANSACTIONAL)) {
        await app.transaction([
          { operation: 'upsert', request: saveItem('tx-short', '"t"', { metadata: ttl }) },
        ]);
        expiring.push('tx-short');
      }
      const savedBy = Date.now();
      const short = await app.read('short');
      assertExpiry(short.metadata?.ttlExpireTime, savedFrom, savedBy, TTL_SECONDS);
      assert.equal((await app.read('renewed')).metadata?.ttlExpireTime, undefined, 'ttl -1');
      assert.equal((await app.read('forever')).metadata?.ttlExpireTime, undefined, 'no ttl');
      await waitUntil(
        `${expiring.join(', ')} to expire`,
        async () => (await app.bulkGet(expiring)).every((item) => item.data === undefined),
        (TTL_SECONDS + 4) * 1000,
      );
      const elapsed = Date.now() - savedBy;
      assert.ok(elapsed >= (TTL_SECONDS - 1) * 1000, `expired after ${elapsed} ms, too early`);
      for (const key of expiring)
        assert.equal(await app.get(key), undefined, `${key} reads absent`);
      const [renewed, long, forever, bulk] = await app.bulkGet([
        'renewed',
        'long',
        'forever',
        'bulk',
      ]);
      assert.equal(textOf(renewed?.data), '"renewed"', 'ttl -1 removed the earlier expiry');
      assert.equal(textOf(forever?.data), '"forever"');
      assert.equal(textOf(bulk?.data), '"b"', 'the bulk item without TTL stays');
      assert.equal(textOf(long?.data), '"long"');
      assertExpiry(long?.metadata?.ttlExpireTime, savedFrom, savedBy, 3600);
      // An expired key counts as absent for first-write, and for ETags as the matrix says.
      await app.saveJson('bulk-short', '"again"', { concurrency: 'first-write' });
      assert.equal(textOf((await app.read('bulk-short')).data), '"again"');
      if (entry.features.includes(StateFeature.ETAG)) {
        const stale = app.saveJson('short', '"again"', { etag: short.etag });
        if (entry.etagOnMissingKey === 'accepted') await stale;
        else
          await rejectsWith(stale, {
            code: 'ERR_STATE_SAVE',
            httpStatus: 409,
            grpcCode: GrpcCode.ABORTED,
          });
      }
    },
  );

  cases.ifNotDeclared(
    TTL,
    'ttlInSeconds is ignored, as by Dapr stores without TTL',
    async (run) => {
      const app = run.app('no-ttl');
      await app.saveJson('k', '1', { metadata: { ttlInSeconds: 'not a number' } });
      assert.equal((await app.read('k')).metadata?.ttlExpireTime, undefined);
    },
  );

  cases.always('key prefixes: two app ids on one store never see each other', async (run) => {
    const a = run.app('tenant-a');
    const b = run.app('tenant-b');
    await a.saveJson('shared', '"from a"');
    await b.saveJson('shared', '"from b"');
    await b.saveJson('only-b', '"b"');
    assert.equal(textOf((await a.read('shared')).data), '"from a"');
    assert.equal(textOf((await b.read('shared')).data), '"from b"');
    assert.equal(await a.get('only-b'), undefined);
    const [shared, onlyB] = await a.bulkGet(['shared', 'only-b']);
    assert.equal(textOf(shared?.data), '"from a"');
    assert.equal(onlyB?.data, undefined, "bulk get does not reach another app's key");
    await a.delete('shared');
    await a.bulkDelete(['only-b']);
    if (entry.features.includes(TRANSACTIONAL)) await a.transaction([remove('shared')]);
    assert.equal(textOf((await b.read('shared')).data), '"from b"', "a's deletes stay in a");
    assert.equal(textOf((await b.read('only-b')).data), '"b"');
  });

  cases.ifDeclared(
    QUERY_API,
    'query: EQ, IN, AND, OR, nested, sort, only the app keys',
    async (run) => {
      // The other app id matches this one's prefix if `_` were a LIKE wildcard left unescaped.
      const app = run.namedApp('query_');
      const other = run.namedApp('queryx');
      await app.saveMany(Object.entries(PEOPLE).map(([k, v]) => saveItem(k, JSON.stringify(v))));
      await other.saveJson('p1', JSON.stringify(PEOPLE.p1));
      await other.saveJson('p9', JSON.stringify(PEOPLE.p4));
      const wa = await app.query({ filter: { EQ: { state: 'WA' } }, sort: BY_ID });
      assert.deepEqual(
        wa.results.map((item) => item.key),
        ['p1', 'p4'],
        "EQ, without the other app's keys",
      );
      for (const item of wa.results) {
        assertJson(entry, item.data, JSON.stringify(PEOPLE[item.key]), `query result ${item.key}`);
        assert.equal(item.etag, (await app.read(item.key)).etag, `${item.key}: the stored ETag`);
      }
      assert.deepEqual(
        await queryKeys(app, {
          filter: { IN: { state: ['CA', 'OR'] } },
          sort: [{ key: 'person.id', order: 'DESC' }],
        }),
        ['p6', 'p3', 'p2', 'p5'],
        'IN, sorted descending',
      );
      assert.deepEqual(
        await queryKeys(app, {
          filter: { AND: [{ EQ: { 'person.org': 'Finance' } }, { EQ: { state: 'CA' } }] },
        }),
        ['p3'],
        'AND over a nested field',
      );
      assert.deepEqual(
        await queryKeys(app, {
          filter: { OR: [{ EQ: { city: 'Seattle' } }, { EQ: { city: 'Eugene' } }] },
          sort: BY_ID,
        }),
        ['p1', 'p6'],
        'OR',
      );
      const nested = {
        AND: [
          { IN: { state: ['WA', 'OR'] } },
          { OR: [{ EQ: { 'person.org': 'Hardware' } }, { EQ: { 'person.org': 'Dev Ops' } }] },
        ],
      };
      assert.deepEqual(
        await queryKeys(app, { filter: nested, sort: BY_ID }),
        ['p2', 'p1', 'p4'],
        'AND of IN and OR',
      );
      assert.deepEqual(await queryKeys(other, { filter: { EQ: { state: 'WA' } }, sort: BY_ID }), [
        'p1',
        'p9',
      ]);
      const none = await app.query({ filter: { EQ: { state: 'TX' } } });
      assert.deepEqual(none.results, [], 'no match');
      assert.equal(none.token, undefined, 'an empty page has no token');
    },
  );

  cases.ifDeclared(
    QUERY_API,
    'query: paging with limit and token visits every key once',
    async (run) => {
      const app = run.app('query-paging');
      await app.saveMany(Object.entries(PEOPLE).map(([k, v]) => saveItem(k, JSON.stringify(v))));
      const pages: string[][] = [];
      let token: string | undefined;
      do {
        const page = await app.query({
          sort: BY_ID,
          page: { limit: 2, ...(token ? { token } : {}) },
        });
        pages.push(page.results.map((item) => item.key));
        token = page.token;
        assert.ok(pages.length <= 4, 'paging ends');
      } while (token !== undefined);
      assert.deepEqual(pages, [
        ['p5', 'p2'],
        ['p1', 'p4'],
        ['p3', 'p6'],
      ]);
    },
  );

  cases.ifNotDeclared(
    QUERY_API,
    "query answers Dapr's ERR_STATE_STORE_NOT_SUPPORTED (DAPR_STATE_QUERYING_NOT_SUPPORTED)",
    async (run) => {
      const app = run.app('no-query');
      await app.saveJson('p1', JSON.stringify(PEOPLE.p1));
      await rejectsWith(app.query({ filter: { EQ: { state: 'WA' } } }), {
        code: 'ERR_STATE_STORE_NOT_SUPPORTED',
        httpStatus: 500,
        grpcCode: GrpcCode.INTERNAL,
        reason: 'DAPR_STATE_QUERYING_NOT_SUPPORTED',
      });
    },
  );
}
