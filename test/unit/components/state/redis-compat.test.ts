import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { clientOptions, retryDelay } from '../../../../src/components/common/redis-connection.js';
import {
  createComponent,
  isComponentMetadataError,
  parseComponentMetadata,
} from '../../../../src/components/contracts/component.js';
import {
  isStateETagError,
  type TransactionalStateStore,
} from '../../../../src/components/contracts/state.js';
import { redisStateStore } from '../../../../src/components/state/redis.js';
import {
  context,
  deleteRequest,
  getRequest,
  REDIS_HOST,
  RedisFixture,
  setRequest,
  signal,
  utf8,
} from './redis-fixture.js';

const fixture = new RedisFixture();
let store: TransactionalStateStore;

before(async () => {
  await fixture.start();
  store = await fixture.store();
});

after(async () => {
  await fixture.stop();
});

async function read(key: string, from: TransactionalStateStore = store) {
  return from.get(getRequest(key), signal);
}

/** Polls until `check` holds, at most `limitMs`; expiry is the server's, so no fixed sleep. */
async function eventually(check: () => Promise<boolean>, limitMs: number): Promise<void> {
  const deadline = Date.now() + limitMs;
  while (!(await check())) {
    if (Date.now() > deadline) assert.fail(`condition not met within ${limitMs}ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('state.redis: TTL', () => {
  it('expires a value and reports ttlExpireTime', async () => {
    const key = fixture.key('ttl');
    const before = Date.now();
    await store.set(setRequest(key, '"short"', { ttlSeconds: 1 }), signal);
    const got = await read(key);
    const expires = Date.parse(got?.metadata?.ttlExpireTime ?? '');
    assert.match(got?.metadata?.ttlExpireTime ?? '', /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    assert.ok(expires >= before - 1000 && expires <= before + 2000, `expiry ${expires}`);
    await eventually(async () => (await read(key)) === undefined, 3000);
  });

  it('applies the ttlInSeconds metadata default, and -1 or an absent TTL removes expiry', async () => {
    const withDefault = await fixture.store({ ttlInSeconds: '100' });
    const key = fixture.key('ttl-default');
    await withDefault.set(setRequest(key, '"d"'), signal);
    const ttl = await fixture.raw.ttl(key);
    assert.ok(ttl > 90 && ttl <= 100, `ttl ${ttl}`);
    await withDefault.set(setRequest(key, '"d"', { ttlSeconds: -1 }), signal);
    assert.equal(await fixture.raw.ttl(key), -1);
    assert.equal((await read(key))?.metadata, undefined);
    await store.set(setRequest(key, '"d"', { ttlSeconds: 100 }), signal);
    await store.set(setRequest(key, '"e"'), signal);
    assert.equal(await fixture.raw.ttl(key), -1);
  });

  it('sets TTLs inside a transaction and reports them in bulk reads', async () => {
    const [a, b] = [fixture.key('ttl-tx-a'), fixture.key('ttl-tx-b')];
    await store.multi(
      [
        { operation: 'upsert', request: setRequest(a, '"a"', { ttlSeconds: 1 }) },
        { operation: 'upsert', request: setRequest(b, '"b"', { ttlSeconds: 3600 }) },
      ],
      {},
      signal,
    );
    const items = (await store.bulkGet?.([getRequest(a), getRequest(b)], signal)) ?? [];
    assert.ok(items.every((item) => item.response?.metadata?.ttlExpireTime !== undefined));
    await eventually(async () => (await read(a)) === undefined, 3000);
    assert.deepEqual((await read(b))?.data, utf8('"b"'));
  });
});

describe('state.redis: Dapr storage layout', () => {
  it('reads a hash written the way Dapr writes it', async () => {
    const key = fixture.key('from-dapr');
    // Dapr's set script: HSET data, HINCRBY version (JSON values are stored as JSON text).
    await fixture.raw.hset(key, 'data', '{"name":"dapr"}');
    await fixture.raw.hincrby(key, 'version', 7);
    const got = await read(key);
    assert.deepEqual(got?.data, utf8('{"name":"dapr"}'));
    assert.equal(got?.etag, '7');
    await store.set(setRequest(key, '"tapr"', { etag: '7' }), signal);
    assert.equal(await fixture.raw.hget(key, 'version'), '8');
  });

  it('writes the hash Dapr reads: data bytes as given, version as an integer', async () => {
    const key = fixture.key('to-dapr');
    const binary = new Uint8Array([0, 1, 2, 200, 255]);
    await store.set(setRequest(key, binary), signal);
    assert.deepEqual(await fixture.raw.hgetallBuffer(key), {
      data: Buffer.from(binary),
      version: Buffer.from('1'),
    });
    await store.set(setRequest(key, '{"x":1}', { concurrency: 'first-write', etag: '1' }), signal);
    assert.deepEqual(await fixture.raw.hgetall(key), {
      data: '{"x":1}',
      version: '2',
      'first-write': '0',
    });
    assert.equal(await fixture.raw.type(key), 'hash');
  });

  it("honours Dapr's first-write marker on keys Dapr wrote", async () => {
    const key = fixture.key('dapr-first-write');
    await fixture.raw.hset(key, 'data', '"dapr"', 'first-write', '0', 'version', '3');
    await assert.rejects(store.set(setRequest(key, '"tapr"'), signal), isStateETagError);
    await store.set(setRequest(key, '"tapr"', { etag: '3' }), signal);
    assert.equal((await read(key))?.etag, '4');
  });

  it('reads a plain string value (oldest layout) and replaces it with a hash on write', async () => {
    const key = fixture.key('legacy');
    await fixture.raw.set(key, '"legacy"');
    const got = await read(key);
    assert.deepEqual(got?.data, utf8('"legacy"'));
    assert.equal(got?.etag, undefined);
    await store.set(setRequest(key, '"new"', { etag: '5' }), signal);
    assert.deepEqual(await fixture.raw.hgetall(key), { data: '"new"', version: '1' });
    await fixture.raw.set(key, 'again');
    await store.delete(deleteRequest(key, '9'), signal);
    assert.equal(await fixture.raw.exists(key), 0);
  });

  it("reports Dapr's error for a hash missing data or version", async () => {
    const key = fixture.key('broken');
    await fixture.raw.hset(key, 'data', 'x');
    await assert.rejects(read(key), /required hash field 'data' or 'version' was not found/);
    const items = (await store.bulkGet?.([getRequest(key)], signal)) ?? [];
    assert.match(items[0]?.error ?? '', /required hash field/);
  });
});

describe('state.redis: metadata', () => {
  const parse = (metadata: Record<string, string>) =>
    parseComponentMetadata(redisStateStore, 'statestore', metadata);

  function rejectsField(metadata: Record<string, string>, field: string): void {
    assert.throws(
      () => parse(metadata),
      (error: unknown) => {
        assert.ok(isComponentMetadataError(error), String(error));
        assert.equal(error.field, field);
        assert.match(error.message, new RegExp(field));
        return true;
      },
    );
  }

  it('names the field that is wrong', () => {
    rejectsField({}, 'redisHost');
    rejectsField({ redisHost: REDIS_HOST, redisDB: 'one' }, 'redisDB');
    rejectsField({ redisHost: REDIS_HOST, redisType: 'cluster' }, 'redisType');
    rejectsField({ redisHost: REDIS_HOST, enableTLS: 'maybe' }, 'enableTLS');
    rejectsField({ redisHost: REDIS_HOST, ttlInSeconds: '1.5' }, 'ttlInSeconds');
    rejectsField({ redisHost: REDIS_HOST, dialTimeout: 'soon' }, 'dialTimeout');
    rejectsField({ redisHost: REDIS_HOST, redisPort: '6380' }, 'redisPort');
    rejectsField({ redisHost: 'a:1,b:2' }, 'redisHost');
    rejectsField({ redisHost: REDIS_HOST, failover: 'true' }, 'sentinelMasterName');
    rejectsField({ redisHost: REDIS_HOST, useAzureAD: 'true' }, 'useEntraID');
    rejectsField({ redisHost: REDIS_HOST, maxRetryBackoff: '2s' }, 'maxRetryBackoff');
  });

  it("accepts Dapr's names, aliases and defaults and maps them onto ioredis", () => {
    const options = parse({
      REDISHOST: 'localhost',
      redisPort: '6380',
      redisPassword: 'pw',
      redisDB: '2',
      maxRetries: '5',
      readTimeout: '-1',
      dialTimeout: '250ms',
      poolSize: '20',
      idleTimeout: '5m',
      queryIndexes: '[]',
      actorStateStore: 'true',
      keyPrefix: 'none',
    });
    assert.equal(options.redisMaxRetries, 5);
    const client = clientOptions(options, [{ host: 'localhost', port: 6380 }]);
    assert.equal(client.host, 'localhost');
    assert.equal(client.port, 6380);
    assert.equal(client.db, 2);
    assert.equal(client.password, 'pw');
    assert.equal(client.username, undefined);
    assert.equal(client.commandTimeout, undefined);
    assert.equal(client.connectTimeout, 250);
    assert.equal(client.maxRetriesPerRequest, 5);
    const defaults = parse({ redisHost: REDIS_HOST });
    assert.equal(clientOptions(defaults, []).commandTimeout, 3000);
    // Dapr's state default minimum back-off (2s) exceeds go-redis's 512ms cap.
    assert.equal(retryDelay(defaults, 1), 512);
    const tuned = parse({ redisHost: REDIS_HOST, maxRetryBackoff: '100000000' });
    assert.deepEqual(
      [1, 2, 3, 4].map((n) => retryDelay(tuned, n)),
      [100, 200, 400, 512],
    );
    const sentinel = parse({
      redisHost: 's1:26379,s2',
      failover: 'true',
      sentinelMasterName: 'mymaster',
    });
    const viaSentinel = clientOptions(sentinel, [
      { host: 's1', port: 26379 },
      { host: 's2', port: 6379 },
    ]);
    assert.equal(viaSentinel.name, 'mymaster');
    assert.equal(viaSentinel.sentinels?.length, 2);
  });

  it('fails to start naming the address when no server answers', async () => {
    await assert.rejects(
      createComponent(
        redisStateStore,
        { redisHost: '127.0.0.1:1', dialTimeout: '500ms', maxRetries: '-1' },
        context(),
      ),
      /error connecting to redis at 127\.0\.0\.1:1/,
    );
  });
});
