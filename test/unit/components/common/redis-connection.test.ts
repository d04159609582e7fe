import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { openRedisClient } from '../../../../src/components/common/redis-client.js';
import {
  blockingOptions,
  clientOptions,
  RedisAddressError,
  resolveAddresses,
} from '../../../../src/components/common/redis-connection.js';
import {
  isComponentMetadataError,
  parseComponentMetadata,
} from '../../../../src/components/contracts/component.js';
import { redisPubSub } from '../../../../src/components/pubsub/redis.js';
import { redisStateStore } from '../../../../src/components/state/redis.js';
import { silentLogger } from '../../../../src/kernel/logger.js';

const pubsub = (metadata: Record<string, string>) =>
  parseComponentMetadata(redisPubSub, 'pubsub', metadata);
const state = (metadata: Record<string, string>) =>
  parseComponentMetadata(redisStateStore, 'statestore', metadata);

describe('components/common: Redis connection', () => {
  it('splits hosts and applies redisPort as Dapr does', () => {
    assert.deepEqual(resolveAddresses('a:7000, [::1]:7001', 0), [
      { host: 'a', port: 7000 },
      { host: '::1', port: 7001 },
    ]);
    assert.deepEqual(resolveAddresses('b', 0), [{ host: 'b', port: 6379 }]);
    assert.deepEqual(resolveAddresses('::1', 7002), [{ host: '::1', port: 7002 }]);
    const blame = (hosts: string, port: number): string | undefined => {
      try {
        resolveAddresses(hosts, port);
        return undefined;
      } catch (error) {
        assert.ok(error instanceof RedisAddressError);
        return error.field;
      }
    };
    assert.equal(blame('a:7000', 7001), 'redisPort');
    assert.equal(blame('a:port', 0), 'redisHost');
    assert.equal(blame('a:70000', 0), 'redisHost');
    assert.equal(blame('a,,b', 0), 'redisHost');
  });

  it("gives both kinds go-redis's meanings of zero and -1", () => {
    for (const parse of [pubsub, state]) {
      const zero = clientOptions(
        parse({ redisHost: 'h', redisMaxRetries: '0', readTimeout: '0', dialTimeout: '0' }),
        [],
      );
      assert.equal(zero.maxRetriesPerRequest, 3);
      assert.equal(zero.commandTimeout, 3000);
      assert.equal(zero.connectTimeout, 5000);
      const off = clientOptions(parse({ redisHost: 'h', maxRetries: '-1', readTimeout: '-1' }), []);
      assert.equal(off.maxRetriesPerRequest, 0);
      assert.equal(off.commandTimeout, undefined);
      assert.deepEqual(blockingOptions(parse({ redisHost: 'h', readTimeout: '-1' }), 5000), {
        commandTimeout: 8000,
      });
    }
  });

  it("keeps each kind's own first back-off", () => {
    assert.equal(pubsub({ redisHost: 'h' }).redisMinRetryInterval, 0);
    assert.equal(state({ redisHost: 'h' }).redisMinRetryInterval, 2000);
    assert.equal(state({ redisHost: 'h', maxRetryBackoff: '5000000' }).redisMinRetryInterval, 5);
    const both = state({ redisHost: 'h', redisMinRetryInterval: '40ms', maxRetryBackoff: '5' });
    assert.equal(both.redisMinRetryInterval, 40);
  });

  it('rejects the shared fields alike in both kinds, naming the field', () => {
    const cases: [Record<string, string>, string][] = [
      [{ redisHost: 'h', failover: 'true' }, 'sentinelMasterName'],
      [{ redisHost: 'a,b' }, 'redisHost'],
      [{ redisHost: 'h:1', redisPort: '2' }, 'redisPort'],
      [{ redisHost: 'h', redisPort: '70000' }, 'redisPort'],
      [{ redisHost: 'h', redisType: 'cluster' }, 'redisType'],
      [{ redisHost: 'h', useAzureAD: 'true' }, 'useEntraID'],
      [{ redisHost: 'h', readTimeout: 'soon' }, 'readTimeout'],
      [{}, 'redisHost'],
    ];
    for (const parse of [pubsub, state]) {
      for (const [metadata, field] of cases) {
        assert.throws(
          () => parse(metadata),
          (error: unknown) =>
            isComponentMetadataError(error) && error.issues.some((i) => i.field === field),
          `${JSON.stringify(metadata)} -> ${field}`,
        );
      }
    }
  });

  it('fails to open naming the component and the address, and honours an abort', async () => {
    const settings = pubsub({ redisHost: '127.0.0.1:1', dialTimeout: '300ms', maxRetries: '-1' });
    const open = (signal: AbortSignal) =>
      openRedisClient(settings, {
        label: 'probe',
        logger: silentLogger,
        signal,
        probe: (client) => client.ping(),
      });
    await assert.rejects(
      open(AbortSignal.timeout(30_000)),
      /^Error: probe: error connecting to redis at 127\.0\.0\.1:1/,
    );
    const aborted = AbortSignal.abort(new Error('gave up'));
    await assert.rejects(open(aborted), (error: unknown) => {
      assert.ok(error instanceof Error);
      assert.equal((error.cause as Error).message, 'gave up');
      return true;
    });
  });
});
