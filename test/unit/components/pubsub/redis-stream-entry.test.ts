import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createComponent } from '../../../../src/components/contracts/component.js';
import type { BulkPublisher } from '../../../../src/components/contracts/pubsub.js';
import { redisPubSub } from '../../../../src/components/pubsub/redis.js';
import {
  decodeEntry,
  metadataJson,
  payloadOf,
  streamEntries,
} from '../../../../src/components/pubsub/redis-stream-entry.js';
import { silentLogger } from '../../../../src/kernel/logger.js';
import { redisSuite } from '../../../helpers/redis-suite.js';
import { REDIS_SERVER, serverAddress } from '../../../helpers/test-servers.js';

const bytes = (text: string): Buffer => Buffer.from(text, 'utf8');

describe('redis stream entries', () => {
  it('hands the data on without a copy and reads metadata "{}" as no metadata', () => {
    const data = bytes('{"n":123456789012345678901234}');
    const decoded = decodeEntry({ data, metadata: bytes('{}') });
    assert.equal(decoded.data, data, 'the reply buffer itself');
    assert.deepEqual(decoded.metadata, {});
    assert.equal(decoded.metadataError, undefined);
  });

  it('reads other metadata as before: a string map, null, or dropped with a reason', () => {
    assert.deepEqual(decodeEntry({ data: undefined, metadata: bytes('{"a":"1"}') }), {
      data: new Uint8Array(0),
      metadata: { a: '1' },
    });
    assert.deepEqual(decodeEntry({ data: bytes('x'), metadata: bytes('null') }).metadata, {});
    assert.deepEqual(decodeEntry({ data: bytes('x'), metadata: undefined }).metadata, {});
    const bad = decodeEntry({ data: bytes('x'), metadata: bytes('{"n":1}') });
    assert.deepEqual(bad.metadata, {});
    assert.equal(bad.metadataError, 'value of "n" is not a string');
    assert.match(
      decodeEntry({ data: bytes('x'), metadata: bytes('{ }x') }).metadataError ?? '',
      /JSON/,
    );
  });

  it('reads data and metadata fields in any order, the last of a repeated one winning', () => {
    const [entry, deleted] = streamEntries([
      [
        bytes('1-0'),
        [bytes('metadata'), bytes('{}'), bytes('other'), bytes('?'), bytes('data'), bytes('a')],
      ],
      [bytes('2-0'), null],
    ]);
    assert.equal(entry?.id, '1-0');
    assert.equal(entry?.fields?.data?.toString(), 'a');
    assert.equal(entry?.fields?.metadata?.toString(), '{}');
    assert.deepEqual(deleted, { id: '2-0', fields: undefined });
    const [repeated] = streamEntries([['3-0', ['data', 'x', 'data', 'y']]]);
    assert.equal(repeated?.fields?.data?.toString(), 'y');
    assert.equal(repeated?.fields?.metadata, undefined);
  });

  it('sends a payload built as text as that text, other payloads as their bytes', () => {
    const data = bytes('raw');
    const request = { topic: 't', data, metadata: {} };
    assert.equal(payloadOf({ ...request, dataText: 'text' }), 'text');
    const sent = payloadOf(request);
    assert.ok(Buffer.isBuffer(sent));
    assert.equal(sent.toString(), 'raw');
  });

  it("writes metadata as Go's json.Marshal of a map: keys sorted", () => {
    assert.equal(metadataJson({}), '{}');
    assert.equal(metadataJson({ z: '1', a: 'x"y' }), '{"a":"x\\"y","z":"1"}');
  });
});

describe('pubsub.redis bulk publish', () => {
  const redis = redisSuite();

  async function bulkPublisher(
    name: string,
    metadata: Record<string, string> = {},
  ): Promise<BulkPublisher> {
    const { instance } = await createComponent(
      redisPubSub,
      { redisHost: serverAddress(REDIS_SERVER), ...metadata },
      { name, appId: `${name}-test`, logger: silentLogger, signal: AbortSignal.timeout(10_000) },
    );
    return instance as BulkPublisher;
  }

  async function storedFields(topic: string): Promise<string[][]> {
    const entries = await redis.client.xrangeBuffer(topic, '-', '+');
    return entries.map(([, fields]) => fields.map((field) => field.toString('utf8')));
  }

  it('stores text payloads byte for byte without reading their bytes, in order', async () => {
    const topic = redis.key('bulk-text');
    const pubsub = await bulkPublisher('bulk-text');
    try {
      // A payload the runtime built as text: `data` is never read for it.
      const text = {
        entryId: 't',
        dataText: '{"é":123456789012345678901234}',
        get data(): Uint8Array {
          throw new Error('the bytes were read');
        },
        metadata: {},
      };
      const failures = await pubsub.bulkPublish(
        topic,
        [text, { entryId: 'b', data: bytes('bytes'), metadata: { k: 'v' } }],
        {},
        AbortSignal.timeout(10_000),
      );
      assert.deepEqual(failures, []);
      assert.deepEqual(await storedFields(topic), [
        ['data', '{"é":123456789012345678901234}', 'metadata', '{}'],
        ['data', 'bytes', 'metadata', '{"k":"v"}'],
      ]);
    } finally {
      await pubsub.close();
    }
  });

  it('reports each entry the server refused', async () => {
    const topic = redis.key('bulk-wrongtype');
    await redis.client.set(topic, 'not a stream');
    const pubsub = await bulkPublisher('bulk-wrongtype');
    try {
      const failures = await pubsub.bulkPublish(
        topic,
        [
          { entryId: 'a', data: bytes('1'), metadata: {} },
          { entryId: 'b', data: bytes('2'), metadata: {} },
        ],
        {},
        AbortSignal.timeout(10_000),
      );
      assert.deepEqual(
        failures.map((failure) => failure.entryId),
        ['a', 'b'],
      );
      for (const failure of failures) assert.match(failure.error, /WRONGTYPE/);
    } finally {
      await pubsub.close();
    }
  });

  it('publishes a large batch whole, trimming as configured', async () => {
    const topic = redis.key('bulk-large');
    const pubsub = await bulkPublisher('bulk-large', { maxLenApprox: '5000' });
    try {
      const entries = Array.from({ length: 1001 }, (_, index) => ({
        entryId: String(index),
        data: bytes(String(index)),
        metadata: {},
      }));
      assert.deepEqual(
        await pubsub.bulkPublish(topic, entries, {}, AbortSignal.timeout(10_000)),
        [],
      );
      const stored = await storedFields(topic);
      assert.equal(stored.length, 1001);
      assert.deepEqual(stored.at(-1), ['data', '1000', 'metadata', '{}']);
    } finally {
      await pubsub.close();
    }
  });
});
