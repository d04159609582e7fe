import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type Json, json } from '../../helpers/json.js';
import { resourcesDir, startTaprd, type TaprdProcess } from '../../helpers/taprd-process.js';
import { cleanupStores, componentYaml, RUN_TAG, redisKeys, storeKinds } from './stores.js';

const kinds = await storeKinds();
const APP_ID = `state-http-${RUN_TAG}`;
const PREFIXES = { none: 'none', name: 'name', lit: `Lit-${RUN_TAG}`, appid: 'appid' };

/** Sends JSON (or raw text) and returns the response. */
function send(url: string, method: string, body?: unknown, headers: Record<string, string> = {}) {
  return fetch(url, {
    method,
    headers: { 'content-type': 'application/json', ...headers },
    ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
  });
}

async function expectError(
  response: Response,
  status: number,
  errorCode: string,
  message?: string | RegExp,
): Promise<Json> {
  const body = await json(response);
  assert.equal(response.status, status, JSON.stringify(body));
  assert.equal(response.headers.get('content-type'), 'application/json');
  assert.equal(body.errorCode, errorCode);
  if (typeof message === 'string') assert.equal(body.message, message);
  else if (message) assert.match(body.message, message);
  return body;
}

function detail(body: Json, type: string): Json {
  return body.details?.find((d: Json) => d['@type'] === `type.googleapis.com/google.rpc.${type}`);
}

describe('state API over HTTP', () => {
  let taprd: TaprdProcess;
  let base: string;
  before(async () => {
    const files: Record<string, string> = {};
    for (const kind of kinds) {
      files[`${kind.label}.yaml`] = componentYaml(kind.label, kind.type, kind.metadata());
      if (kind.label !== 'redis') continue;
      // Same server, other key prefix strategies: the stored names must be Dapr's.
      for (const [suffix, keyPrefix] of Object.entries(PREFIXES)) {
        const name = `redis-${suffix}`;
        files[`${name}.yaml`] = componentYaml(name, kind.type, kind.metadata({ keyPrefix }));
      }
    }
    taprd = await startTaprd({
      appId: APP_ID,
      args: ['--resources-path', await resourcesDir(files)],
    });
    base = `${taprd.httpUrl}/v1.0/state`;
  });
  after(async () => {
    await taprd.stop();
    await cleanupStores();
  });

  for (const kind of kinds) {
    describe(`on ${kind.type}`, () => {
      const store = (): string => `${base}/${kind.label}`;
      const key = (name: string): string => `${name}-${RUN_TAG}`;

      it('saves JSON values and reads back the exact text with an ETag', async () => {
        const saved = await send(
          store(),
          'POST',
          `[
          {"key": "${key('obj')}", "value": {"name": "Ada", "tags": ["a", "b"], "n": 1.50}},
          {"key": "${key('str')}", "value": "hello"},
          {"key": "${key('num')}", "value": 42}
        ]`,
        );
        assert.equal(saved.status, 204);
        const obj = await fetch(`${store()}/${key('obj')}`);
        assert.equal(obj.status, 200);
        assert.equal(obj.headers.get('content-type'), 'application/json');
        assert.ok(obj.headers.get('etag'), 'ETag header');
        assert.equal(await obj.text(), '{"name": "Ada", "tags": ["a", "b"], "n": 1.50}');
        assert.equal(await (await fetch(`${store()}/${key('str')}`)).text(), '"hello"');
        assert.equal(await (await fetch(`${store()}/${key('num')}`)).text(), '42');
        const missing = await fetch(`${store()}/${key('missing')}`);
        assert.equal(missing.status, 204);
        assert.equal(await missing.text(), '');
      });

      it('accepts PUT as well as POST, and an empty list', async () => {
        assert.equal((await send(store(), 'PUT', [{ key: key('put'), value: 1 }])).status, 204);
        assert.equal((await send(store(), 'POST', '[]')).status, 204);
        assert.equal(await (await fetch(`${store()}/${key('put')}`)).text(), '1');
      });

      it('checks ETags on save (body etag) and delete (If-Match): 409 on mismatch', async () => {
        const k = key('etag');
        await send(store(), 'POST', [{ key: k, value: 'v1' }]);
        const etag = (await fetch(`${store()}/${k}`)).headers.get('etag') ?? '';
        await expectError(
          await send(store(), 'POST', [{ key: k, value: 'v2', etag: `${etag}0` }]),
          409,
          'ERR_STATE_SAVE',
          /^failed saving state in state store .+: possible etag mismatch/,
        );
        assert.equal((await send(store(), 'POST', [{ key: k, value: 'v2', etag }])).status, 204);
        const next = (await fetch(`${store()}/${k}`)).headers.get('etag') ?? '';
        assert.notEqual(next, etag);
        await expectError(
          await fetch(`${store()}/${k}`, { method: 'DELETE', headers: { 'If-Match': etag } }),
          409,
          'ERR_STATE_DELETE',
          new RegExp(`^failed deleting state with key ${k}: possible etag mismatch`),
        );
        const deleted = await fetch(`${store()}/${k}`, {
          method: 'DELETE',
          headers: { 'If-Match': next },
        });
        assert.equal(deleted.status, 204);
        assert.equal((await fetch(`${store()}/${k}`)).status, 204);
      });

      it('refuses first-write without an ETag on an existing key', async () => {
        const k = key('first');
        const item = { key: k, value: 1, options: { concurrency: 'first-write' } };
        assert.equal((await send(store(), 'POST', [item])).status, 204);
        await expectError(await send(store(), 'POST', [item]), 409, 'ERR_STATE_SAVE');
        const del = await fetch(`${store()}/${k}?concurrency=last-write&consistency=strong`, {
          method: 'DELETE',
        });
        assert.equal(del.status, 204);
      });

      it('expires a value after metadata.ttlInSeconds', async () => {
        const k = key('ttl');
        const saved = await send(store(), 'POST', [
          { key: k, value: 'short', metadata: { ttlInSeconds: '1' } },
        ]);
        assert.equal(saved.status, 204);
        const fresh = await fetch(`${store()}/${k}`);
        assert.equal(fresh.status, 200);
        const expireTime = fresh.headers.get('metadata.ttlexpiretime');
        if (kind.label === 'memory')
          assert.match(expireTime ?? '', /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
        const deadline = Date.now() + 5000;
        let status = 200;
        while (status !== 204 && Date.now() < deadline) {
          await new Promise((resolve) => setTimeout(resolve, 200));
          status = (await fetch(`${store()}/${k}`)).status;
        }
        assert.equal(status, 204);
      });

      it('reads in bulk, with raw JSON data, ETags and missing keys', async () => {
        await send(store(), 'POST', [
          { key: key('b1'), value: { a: 1 } },
          { key: key('b2'), value: 'two' },
        ]);
        const response = await send(`${store()}/bulk?metadata.m=1`, 'POST', {
          keys: [key('b1'), key('b2'), key('b3')],
          parallelism: 2,
        });
        assert.equal(response.status, 200);
        assert.equal(response.headers.get('content-type'), 'application/json');
        const items = await json(response);
        assert.deepEqual(
          items.map((i: Json) => [i.key, i.data, typeof i.etag]),
          [
            [key('b1'), { a: 1 }, 'string'],
            [key('b2'), 'two', 'string'],
            [key('b3'), undefined, 'undefined'],
          ],
        );
        assert.deepEqual(await json(await send(`${store()}/bulk`, 'POST', { keys: [] })), []);
      });

      it('runs transactions, and leaves every key alone when one operation fails', async () => {
        const [a, b] = [key('tx-a'), key('tx-b')];
        await send(store(), 'POST', [{ key: b, value: 'old' }]);
        const ok = await send(`${store()}/transaction`, 'POST', {
          operations: [
            { operation: 'upsert', request: { key: a, value: { v: 1 } } },
            { operation: 'delete', request: { key: b } },
          ],
        });
        assert.equal(ok.status, 204);
        assert.equal(await (await fetch(`${store()}/${a}`)).text(), '{"v":1}');
        assert.equal((await fetch(`${store()}/${b}`)).status, 204);
        await expectError(
          await send(`${store()}/transaction`, 'POST', {
            operations: [
              { operation: 'upsert', request: { key: b, value: 'new' } },
              { operation: 'delete', request: { key: a, etag: 'not-the-etag' } },
            ],
          }),
          500,
          'ERR_STATE_TRANSACTION',
          /^error while executing state transaction: /,
        );
        assert.equal((await fetch(`${store()}/${b}`)).status, 204);
        assert.equal(await (await fetch(`${store()}/${a}`)).text(), '{"v":1}');
        const empty = await send(`${store()}/transaction`, 'POST', { operations: [] });
        assert.equal(empty.status, 204);
      });

      it('round-trips a 1 MiB value', async () => {
        const big = 'x'.repeat(1024 * 1024);
        const k = key('big');
        assert.equal((await send(store(), 'POST', [{ key: k, value: big }])).status, 204);
        const read = await fetch(`${store()}/${k}`);
        assert.equal(await read.text(), JSON.stringify(big));
      });

      it('keeps unicode values and keys intact', async () => {
        const k = key('ünï-键');
        await send(store(), 'POST', [{ key: k, value: { text: 'héllo 世界 🎉' } }]);
        const read = await fetch(`${store()}/${encodeURIComponent(k)}`);
        assert.deepEqual(await json(read), { text: 'héllo 世界 🎉' });
      });
    });
  }

  if (kinds.some((kind) => kind.label === 'redis')) {
    it('stores keys under Dapr’s prefixes on a shared Redis', async () => {
      const key = `pfx-${RUN_TAG}`;
      for (const name of ['redis', 'redis-none', 'redis-name', 'redis-lit']) {
        assert.equal((await send(`${base}/${name}`, 'POST', [{ key, value: name }])).status, 204);
      }
      assert.deepEqual(
        await redisKeys(`*pfx-${RUN_TAG}`),
        [`lit-${RUN_TAG}||${key}`, key, `redis-name||${key}`, `${APP_ID}||${key}`].sort(),
      );
      // Each store reads its own copy back under the app's key.
      assert.equal(await (await fetch(`${base}/redis-none/${key}`)).text(), '"redis-none"');
      assert.equal(await (await fetch(`${base}/redis-appid/${key}`)).text(), '"redis"');
    });
  }

  describe('errors (Dapr’s codes, statuses and details)', () => {
    const memory = (): string => `${base}/memory`;

    it('answers 400 ERR_STATE_STORE_NOT_FOUND before reading the body', async () => {
      const body = await expectError(
        await send(`${base}/nostore`, 'POST', ''),
        400,
        'ERR_STATE_STORE_NOT_FOUND',
        'state store nostore is not found',
      );
      const info = detail(body, 'ErrorInfo');
      assert.equal(info.reason, 'DAPR_STATE_NOT_FOUND');
      assert.equal(info.domain, 'dapr.io');
      assert.deepEqual(info.metadata, { appID: APP_ID });
      await expectError(await fetch(`${base}/nostore/k`), 400, 'ERR_STATE_STORE_NOT_FOUND');
    });

    it('answers 400 DAPR_STATE_ILLEGAL_KEY for a key holding ||', async () => {
      const body = await expectError(
        await send(memory(), 'POST', [{ key: 'ke||y1', value: 'v' }]),
        400,
        'ERR_MALFORMED_REQUEST',
        "input key/keyPrefix 'ke||y1' can't contain '||'",
      );
      assert.equal(detail(body, 'ErrorInfo').reason, 'DAPR_STATE_ILLEGAL_KEY');
      assert.equal(detail(body, 'ResourceInfo').resource_type, 'state');
      assert.equal(detail(body, 'ResourceInfo').resource_name, 'memory');
      assert.equal(detail(body, 'BadRequest').field_violations[0].field, 'ke||y1');
      await expectError(await fetch(`${memory()}/a||b`), 400, 'ERR_MALFORMED_REQUEST');
    });

    it('answers 400 ERR_MALFORMED_REQUEST for bodies Dapr refuses', async () => {
      for (const body of [
        '',
        '{}',
        'foobar',
        '[{}]',
        '[{"key": "key1", "value": "value1"},]',
        '[{"key": "key1", "value": "value1", "etag": 123}]',
        '[{"ey": "key0", "value": "value1"}]',
      ]) {
        const response = await send(memory(), 'POST', body);
        assert.equal(response.status, 400, body);
        assert.equal((await json(response)).errorCode, 'ERR_MALFORMED_REQUEST', body);
      }
      await expectError(
        await send(memory(), 'POST', '[{}]'),
        400,
        'ERR_MALFORMED_REQUEST',
        '"key" is a required field',
      );
      await expectError(await send(memory(), 'POST', ''), 400, 'ERR_MALFORMED_REQUEST', 'EOF');
      await expectError(
        await send(`${memory()}/bulk`, 'POST', ''),
        400,
        'ERR_MALFORMED_REQUEST',
        'failed deserializing HTTP body: EOF',
      );
      await expectError(
        await send(`${memory()}/transaction`, 'POST', '{"operations": 1}'),
        400,
        'ERR_MALFORMED_REQUEST',
        /^failed deserializing HTTP body: json: cannot unmarshal number/,
      );
    });

    it('answers 400 ERR_NOT_SUPPORTED_STATE_OPERATION for an unknown transaction operation', async () => {
      await expectError(
        await send(`${memory()}/transaction`, 'POST', {
          operations: [{ operation: 'merge', request: { key: 'k' } }],
        }),
        400,
        'ERR_NOT_SUPPORTED_STATE_OPERATION',
        'operation type merge not supported',
      );
    });

    it('answers 500 ERR_STATE_STORE_NOT_SUPPORTED for a query on a store without the query API', async () => {
      const body = await expectError(
        await send(
          `${taprd.httpUrl}/v1.0-alpha1/state/memory/query`,
          'POST',
          '{"filter":{"EQ":{"state":"CA"}},"sort":[{"key":"person.id","order":"DESC"}]}',
        ),
        500,
        'ERR_STATE_STORE_NOT_SUPPORTED',
        'state store does not support querying',
      );
      assert.equal(detail(body, 'ErrorInfo').reason, 'DAPR_STATE_QUERYING_NOT_SUPPORTED');
      assert.equal(detail(body, 'ResourceInfo').resource_name, 'memory');
    });

    it('answers 500 ERR_STATE_SAVE for a malformed ttlInSeconds', async () => {
      await expectError(
        await send(memory(), 'POST', [{ key: 'k', value: 1, metadata: { ttlInSeconds: 'soon' } }]),
        500,
        'ERR_STATE_SAVE',
        'failed saving state in state store memory: incorrect value for metadata \'ttlInSeconds\': strconv.ParseInt: parsing "soon": invalid syntax',
      );
      await expectError(
        await send(`${memory()}?metadata.ttlInSeconds=-3`, 'POST', [{ key: 'k', value: 1 }]),
        500,
        'ERR_STATE_SAVE',
        /must be -1 or greater/,
      );
    });

    it('lists the stores’ capabilities in the metadata API, ACTOR included', async () => {
      const metadata = await json(await fetch(`${taprd.httpUrl}/v1.0/metadata`));
      const memoryInfo = metadata.components.find((c: Json) => c.name === 'memory');
      assert.deepEqual(memoryInfo, {
        name: 'memory',
        type: 'state.in-memory',
        version: 'v1',
        capabilities: ['ETAG', 'TRANSACTIONAL', 'TTL', 'ACTOR'],
      });
    });
  });
});
