import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { createComponent } from '../../../../src/components/contracts/component.js';
import { redisPubSub } from '../../../../src/components/pubsub/redis.js';
import { RedisPublishBatcher } from '../../../../src/components/pubsub/redis-publish-batcher.js';
import { silentLogger } from '../../../../src/kernel/logger.js';
import {
  probeServer,
  REDIS_SERVER,
  serverAddress,
  uniqueName,
} from '../../../helpers/test-servers.js';

/** Counts the socket writes that reach the kernel (one `_write` or one `_writev` each). */
function countWrites(client: Redis): { count: () => number } {
  const stream = client.stream as unknown as {
    _write: (...args: unknown[]) => void;
    _writev?: (...args: unknown[]) => void;
  };
  let writes = 0;
  const write = stream._write.bind(stream);
  stream._write = (...args: unknown[]) => {
    writes++;
    write(...args);
  };
  const writev = stream._writev?.bind(stream);
  if (writev) {
    stream._writev = (...args: unknown[]) => {
      writes++;
      writev(...args);
    };
  }
  return { count: () => writes };
}

describe('RedisPublishBatcher', () => {
  let client: Redis;
  const keys: string[] = [];

  before(async () => {
    const failure = await probeServer(REDIS_SERVER);
    if (failure) throw failure;
    client = new Redis({ host: REDIS_SERVER.host, port: REDIS_SERVER.port, lazyConnect: true });
    await client.connect();
  });

  after(async () => {
    if (keys.length > 0) await client.del(...keys);
    client.disconnect();
  });

  it('sends the commands of one turn in one write, in order, with their replies', async () => {
    const key = uniqueName('batcher');
    keys.push(key);
    const batcher = new RedisPublishBatcher(client);
    const writes = countWrites(client);
    const sent: Promise<unknown>[] = [];
    for (let index = 0; index < 50; index++) {
      batcher.hold();
      sent.push(client.call('XADD', key, '*', 'n', String(index)));
    }
    const ids = (await Promise.all(sent)).map(String);
    assert.equal(writes.count(), 1);
    for (const id of ids) assert.match(id, /^\d+-\d+$/);
    const entries = (await client.call('XRANGE', key, '-', '+')) as [string, string[]][];
    assert.deepEqual(
      entries.map(([, fields]) => fields[1]),
      Array.from({ length: 50 }, (_, index) => String(index)),
    );
  });

  it('releases the connection after the turn, and holds again in the next one', async () => {
    const batcher = new RedisPublishBatcher(client);
    batcher.hold();
    assert.equal(client.stream.writableCorked, 1);
    batcher.hold();
    assert.equal(client.stream.writableCorked, 1, 'one hold per turn');
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(client.stream.writableCorked, 0);
    batcher.hold();
    assert.equal(client.stream.writableCorked, 1);
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(client.stream.writableCorked, 0);
  });

  it('leaves a client that is not connected alone; its commands queue as before', async () => {
    const idle = new Redis({ host: REDIS_SERVER.host, port: REDIS_SERVER.port, lazyConnect: true });
    try {
      const batcher = new RedisPublishBatcher(idle);
      assert.doesNotThrow(() => batcher.hold());
      await idle.connect();
      assert.equal(await idle.ping(), 'PONG');
    } finally {
      idle.disconnect();
    }
  });

  it('pubsub.redis publishes concurrent messages in one write, all stored in order', async () => {
    const topic = uniqueName('batcher-topic');
    keys.push(topic);
    const { instance: pubsub } = await createComponent(
      redisPubSub,
      { redisHost: serverAddress(REDIS_SERVER) },
      {
        name: 'batcher-pubsub',
        appId: 'batcher-test',
        logger: silentLogger,
        signal: AbortSignal.timeout(10_000),
      },
    );
    try {
      const signal = AbortSignal.timeout(10_000);
      await Promise.all(
        Array.from({ length: 20 }, (_, index) =>
          pubsub.publish(
            { topic, data: new TextEncoder().encode(`m${index}`), metadata: {} },
            signal,
          ),
        ),
      );
      const entries = (await client.call('XRANGE', topic, '-', '+')) as [string, string[]][];
      assert.deepEqual(
        entries.map(([, fields]) => fields[1]),
        Array.from({ length: 20 }, (_, index) => `m${index}`),
      );
    } finally {
      await pubsub.close();
    }
  });
});
