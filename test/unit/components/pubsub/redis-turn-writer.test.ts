import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { createComponent } from '../../../../src/components/contracts/component.js';
import { redisPubSub } from '../../../../src/components/pubsub/redis.js';
import { AckBatcher } from '../../../../src/components/pubsub/redis-ack-batcher.js';
import { RedisTurnWriter } from '../../../../src/components/pubsub/redis-turn-writer.js';
import { silentLogger } from '../../../../src/kernel/logger.js';
import { redisSuite } from '../../../helpers/redis-suite.js';
import { countSocketWrites } from '../../../helpers/socket-writes.js';
import { REDIS_SERVER, serverAddress } from '../../../helpers/test-servers.js';

/** Counts the socket writes of a client's connection. */
function countWrites(client: Redis): { count: () => number } {
  return countSocketWrites(client.stream);
}

describe('RedisTurnWriter', () => {
  const redis = redisSuite();

  it('sends the commands of one turn in one write, in order, with their replies', async () => {
    const key = redis.key('batcher');
    const writer = new RedisTurnWriter(redis.client);
    const writes = countWrites(redis.client);
    const sent: Promise<unknown>[] = [];
    for (let index = 0; index < 50; index++) {
      writer.hold();
      sent.push(redis.client.call('XADD', key, '*', 'n', String(index)));
    }
    const ids = (await Promise.all(sent)).map(String);
    assert.equal(writes.count(), 1);
    for (const id of ids) assert.match(id, /^\d+-\d+$/);
    const entries = (await redis.client.call('XRANGE', key, '-', '+')) as [string, string[]][];
    assert.deepEqual(
      entries.map(([, fields]) => fields[1]),
      Array.from({ length: 50 }, (_, index) => String(index)),
    );
  });

  it('releases the connection after the turn, and holds again in the next one', async () => {
    const writer = new RedisTurnWriter(redis.client);
    writer.hold();
    assert.equal(redis.client.stream.writableCorked, 1);
    writer.hold();
    assert.equal(redis.client.stream.writableCorked, 1, 'one hold per turn');
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(redis.client.stream.writableCorked, 0);
    writer.hold();
    assert.equal(redis.client.stream.writableCorked, 1);
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(redis.client.stream.writableCorked, 0);
  });

  it('runs end-of-turn sends inside the held write: XACKs of a turn join its XADDs', async () => {
    const key = redis.key('turn-acks');
    await redis.client.call('XGROUP', 'CREATE', key, 'g', '0', 'MKSTREAM');
    const ids = await Promise.all(
      Array.from({ length: 5 }, (_, index) =>
        redis.client.call('XADD', key, '*', 'n', String(index)),
      ),
    );
    await redis.client.call('XREADGROUP', 'GROUP', 'g', 'c', 'COUNT', 10, 'STREAMS', key, '>');
    const writer = new RedisTurnWriter(redis.client);
    const acks = new AckBatcher(redis.client, writer, key, 'g', silentLogger);
    const writes = countWrites(redis.client);
    writer.hold();
    const added = redis.client.call('XADD', key, '*', 'n', 'late');
    const acked = ids.map((id) => acks.ack(String(id)));
    await Promise.all([added, ...acked]);
    assert.equal(writes.count(), 1, 'the XADD and one XACK for all five ids in one write');
    const pending = (await redis.client.call('XPENDING', key, 'g')) as [number, ...unknown[]];
    assert.equal(pending[0], 0);
  });

  /** A stream with two entries read by group `g` and not acknowledged yet, and its batcher. */
  async function twoPending(label: string) {
    const key = redis.key(label);
    await redis.client.call('XGROUP', 'CREATE', key, 'g', '0', 'MKSTREAM');
    const first = String(await redis.client.call('XADD', key, '*', 'n', '1'));
    const second = String(await redis.client.call('XADD', key, '*', 'n', '2'));
    await redis.client.call('XREADGROUP', 'GROUP', 'g', 'c', 'COUNT', 10, 'STREAMS', key, '>');
    const writer = new RedisTurnWriter(redis.client);
    const acks = new AckBatcher(redis.client, writer, key, 'g', silentLogger);
    return { key, first, second, writer, acks, writes: countWrites(redis.client) };
  }

  it('acks of a later turn go in a later XACK', async () => {
    const { key, first, second, acks, writes } = await twoPending('turn-acks-later');
    await acks.ack(first);
    assert.equal(((await redis.client.call('XPENDING', key, 'g')) as [number])[0], 1);
    await acks.ack(second);
    assert.equal(((await redis.client.call('XPENDING', key, 'g')) as [number])[0], 0);
    assert.equal(writes.count(), 4, 'two XACKs and two XPENDINGs');
  });

  it('an ack waits for the next publish to share its write, or goes alone after 5 ms', async () => {
    const { key, first, second, writer, acks, writes } = await twoPending('turn-acks-ride');
    const acked = acks.ack(first);
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(writes.count(), 0, 'the ack waits');
    writer.hold();
    const added = redis.client.call('XADD', key, '*', 'n', '3');
    await Promise.all([acked, added]);
    assert.equal(writes.count(), 1, 'the ack rode with the publish');
    await acks.ack(second);
    assert.equal(writes.count(), 2, 'with no publish, the ack went alone');
    assert.equal(((await redis.client.call('XPENDING', key, 'g')) as [number])[0], 0);
  });

  it('leaves a client that is not connected alone; its commands queue as before', async () => {
    const idle = new Redis({ host: REDIS_SERVER.host, port: REDIS_SERVER.port, lazyConnect: true });
    try {
      const writer = new RedisTurnWriter(idle);
      assert.doesNotThrow(() => writer.hold());
      await idle.connect();
      assert.equal(await idle.ping(), 'PONG');
    } finally {
      idle.disconnect();
    }
  });

  it('pubsub.redis publishes concurrent messages in one write, all stored in order', async () => {
    const topic = redis.key('batcher-topic');
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
      const entries = (await redis.client.call('XRANGE', topic, '-', '+')) as [string, string[]][];
      assert.deepEqual(
        entries.map(([, fields]) => fields[1]),
        Array.from({ length: 20 }, (_, index) => `m${index}`),
      );
    } finally {
      await pubsub.close();
    }
  });
});
