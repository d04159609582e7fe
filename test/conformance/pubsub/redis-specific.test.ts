import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  createComponent,
  isComponentMetadataError,
  parseComponentMetadata,
} from '../../../src/components/contracts/component.js';
import { type BulkPublisher, isBulkPublisher } from '../../../src/components/contracts/pubsub.js';
import { redisPubSub } from '../../../src/components/pubsub/redis.js';
import { silentLogger } from '../../../src/kernel/logger.js';
import { deferred, freePort } from '../../helpers/deferred.js';
import { waitUntil } from '../../helpers/test-servers.js';
import { APP_ID, never, utf8 } from './harness.js';
import { fieldMap, Inbox, LIMIT_MS, RedisFixture } from './redis-fixture.js';

describe('pubsub.redis specifics', () => {
  const fixture = new RedisFixture();
  before(() => fixture.open());
  after(() => fixture.close());

  describe('stream layout shared with Dapr', () => {
    it('delivers entries written the way Dapr writes them', async () => {
      const topic = fixture.isolated.topic('dapr-written');
      const binary = Buffer.from([0, 1, 2, 254, 255]);
      // Dapr's go-redis writes a map, so the field order varies; metadata first here.
      await fixture.raw.xadd(
        topic,
        '*',
        'metadata',
        '{"rawPayload":"true","k":"v"}',
        'data',
        binary,
      );
      await fixture.raw.xadd(topic, '*', 'data', 'no metadata');
      await fixture.raw.xadd(topic, '*', 'data', 'bad metadata', 'metadata', '{"n":1}');
      const inbox = new Inbox();
      await fixture.subscribe(await fixture.pubsub('dapr-layout'), topic, inbox.handler);
      await inbox.until(3);
      const [first, second, third] = inbox.messages;
      assert.deepEqual(Buffer.from(first?.data ?? []), binary);
      assert.deepEqual(first?.metadata, { rawPayload: 'true', k: 'v' });
      assert.equal(first?.topic, topic);
      assert.deepEqual(second?.metadata, {});
      assert.equal(Buffer.from(third?.data ?? []).toString(), 'bad metadata');
      assert.deepEqual(third?.metadata, {}, 'metadata that is not a string map is dropped');
    });

    it("publishes entries with Dapr's data and metadata fields", async () => {
      const topic = fixture.isolated.topic('tapr-written');
      const pubsub = await fixture.pubsub('layout-writer');
      const data = utf8('{"specversion":"1.0","data":"é"}');
      await pubsub.publish({ topic, data, metadata: { z: '1', a: 'x"y' } }, never);
      const entries = await fixture.raw.xrangeBuffer(topic, '-', '+');
      assert.equal(entries.length, 1);
      const fields = fieldMap(entries[0]?.[1] ?? []);
      assert.deepEqual([...fields.keys()].sort(), ['data', 'metadata']);
      assert.deepEqual(fields.get('data'), Buffer.from(data));
      assert.equal(fields.get('metadata')?.toString(), '{"a":"x\\"y","z":"1"}');
    });

    it('bulk publishes each entry with its own metadata only', async () => {
      const topic = fixture.isolated.topic('bulk-layout');
      const pubsub = await fixture.pubsub('bulk-writer');
      assert.ok(isBulkPublisher(pubsub, redisPubSub.features));
      const failures = await (pubsub as BulkPublisher).bulkPublish(
        topic,
        [
          { entryId: 'a', data: utf8('one'), metadata: { n: '1' } },
          { entryId: 'b', data: utf8('two'), metadata: {} },
        ],
        { ignored: 'request-level' },
        never,
      );
      assert.deepEqual(failures, []);
      const entries = await fixture.raw.xrangeBuffer(topic, '-', '+');
      const metadata = entries.map((entry) => fieldMap(entry[1]).get('metadata')?.toString());
      assert.deepEqual(metadata, ['{"n":"1"}', '{}']);
    });

    it('starts a new consumer group at the beginning of the stream', async () => {
      const topic = fixture.isolated.topic('from-start');
      const pubsub = await fixture.pubsub('from-start');
      await pubsub.publish({ topic, data: utf8('before the group'), metadata: {} }, never);
      const inbox = new Inbox();
      await fixture.subscribe(pubsub, topic, inbox.handler);
      await inbox.until(1);
      assert.deepEqual(inbox.texts(), ['before the group']);
    });
  });

  describe('redelivery', () => {
    it('keeps a refused entry pending and redelivers it after processingTimeout', async () => {
      const topic = fixture.isolated.topic('refused');
      const group = 'refused';
      const pubsub = await fixture.pubsub(group);
      const inbox = new Inbox();
      const secondCall = deferred();
      let calls = 0;
      await fixture.subscribe(pubsub, topic, async (message) => {
        calls += 1;
        if (calls === 1) throw new Error('not yet');
        // Still unacknowledged while the redelivery is being handled.
        assert.equal(await fixture.pendingCount(topic, group), 1);
        secondCall.resolve();
        inbox.record(message);
      });
      await pubsub.publish({ topic, data: utf8('retry me'), metadata: {} }, never);
      await secondCall.promise;
      await inbox.until(1);
      await waitUntil(
        'the entry to be acknowledged',
        async () => (await fixture.pendingCount(topic, group)) === 0,
        LIMIT_MS,
      );
      assert.equal(calls, 2);
    });

    it('reclaims entries left pending by a consumer that died, dropping deleted ones', async () => {
      const topic = fixture.isolated.topic('orphans');
      const group = 'orphans';
      await fixture.raw.xgroup('CREATE', topic, group, '0', 'MKSTREAM');
      const ids: string[] = [];
      for (const text of ['o1', 'o2', 'o3'])
        ids.push((await fixture.raw.xadd(topic, '*', 'data', text)) as string);
      // A consumer takes them and vanishes without acknowledging; one entry is then deleted.
      await fixture.raw.xreadgroup(
        'GROUP',
        group,
        'dead-consumer',
        'COUNT',
        10,
        'STREAMS',
        topic,
        '>',
      );
      await fixture.raw.xdel(topic, ids[1] as string);
      assert.equal(await fixture.pendingCount(topic, group), 3);
      const inbox = new Inbox();
      await fixture.subscribe(await fixture.pubsub(group), topic, inbox.handler);
      await inbox.until(2);
      await waitUntil(
        'the orphans to be settled',
        async () => (await fixture.pendingCount(topic, group)) === 0,
        LIMIT_MS,
      );
      assert.deepEqual(inbox.texts().sort(), ['o1', 'o3']);
    });
  });

  describe('consumers and close', () => {
    it('gives each subscription its own consumer and removes it when closed idle', async () => {
      const topic = fixture.isolated.topic('consumers');
      const group = 'consumers';
      const first = await fixture.subscribe(await fixture.pubsub(group), topic, async () => {});
      const second = await fixture.subscribe(await fixture.pubsub(group), topic, async () => {});
      const consumers = (await fixture.raw.xinfo('CONSUMERS', topic, group)) as unknown[][];
      const names = consumers.map((info) => String(info[1]));
      assert.equal(new Set(names).size, 2);
      for (const name of names) assert.ok(name.startsWith(`${group}-`), name);
      await first.close();
      await second.close();
      assert.deepEqual(await fixture.raw.xinfo('CONSUMERS', topic, group), []);
    });

    it('close waits for a handler in flight, acknowledges it and takes nothing more', async () => {
      const topic = fixture.isolated.topic('closing');
      const group = 'closing';
      const pubsub = await fixture.pubsub(group);
      const started = deferred();
      const release = deferred();
      let calls = 0;
      const subscription = await fixture.subscribe(pubsub, topic, async () => {
        calls += 1;
        started.resolve();
        await release.promise;
      });
      await pubsub.publish({ topic, data: utf8('slow'), metadata: {} }, never);
      await started.promise;
      let closed = false;
      const closing = subscription.close().then(() => {
        closed = true;
      });
      await new Promise((resolve) => setImmediate(resolve));
      assert.equal(closed, false, 'close returned while a handler ran');
      release.resolve();
      await closing;
      assert.equal(await fixture.pendingCount(topic, group), 0);
      await pubsub.publish({ topic, data: utf8('after close'), metadata: {} }, never);
      assert.equal(calls, 1);
    });

    it('close hands entries read but not yet handled back to the group', async () => {
      const topic = fixture.isolated.topic('handback');
      const group = 'handback';
      const pubsub = await fixture.pubsub(group, { concurrency: '1' });
      for (let index = 0; index < 5; index += 1) {
        await pubsub.publish({ topic, data: utf8(`h${index}`), metadata: {} }, never);
      }
      const started = deferred();
      const release = deferred();
      const subscription = await fixture.subscribe(pubsub, topic, async () => {
        started.resolve();
        await release.promise;
      });
      await started.promise;
      const closing = subscription.close();
      release.resolve();
      await closing;
      // A successor with a long processingTimeout still gets the four at once: they were
      // marked idle at close, so its first reclaim takes them.
      const inbox = new Inbox();
      const successor = await fixture.pubsub(group, {
        processingTimeout: '10m',
        redeliverInterval: '10m',
      });
      await fixture.subscribe(successor, topic, inbox.handler);
      await inbox.until(4);
      assert.deepEqual(inbox.texts().sort(), ['h1', 'h2', 'h3', 'h4']);
    });

    it('names the group after the app id when consumerID is empty', async () => {
      const topic = fixture.isolated.topic('app-group');
      await fixture.subscribe(await fixture.pubsub('', { consumerID: '' }), topic, async () => {});
      const groups = (await fixture.raw.xinfo('GROUPS', topic)) as unknown[][];
      assert.deepEqual(
        groups.map((info) => String(info[1])),
        [APP_ID],
      );
    });

    it('reports a topic key that is not a stream on subscribe and publish', async () => {
      const topic = fixture.isolated.topic('not-a-stream');
      await fixture.raw.set(topic, 'plain string');
      const pubsub = await fixture.pubsub('wrong-type');
      await assert.rejects(
        pubsub.subscribe({ topic, metadata: {} }, async () => {}, never),
        /WRONGTYPE/,
      );
      await assert.rejects(
        pubsub.publish({ topic, data: utf8('x'), metadata: {} }, never),
        /redis streams: error from publish: WRONGTYPE/,
      );
    });

    it('refuses to publish or subscribe once closed', async () => {
      const pubsub = await fixture.pubsub('closed');
      await pubsub.close();
      await pubsub.close();
      const topic = fixture.isolated.topic('closed');
      await assert.rejects(
        pubsub.publish({ topic, data: utf8('x'), metadata: {} }, never),
        /closed/,
      );
      await assert.rejects(
        pubsub.subscribe({ topic, metadata: {} }, async () => {}, never),
        /closed/,
      );
    });
  });

  describe('stream trimming', () => {
    it('maxLenApprox trims the stream to about that length on publish', async () => {
      const topic = fixture.isolated.topic('maxlen');
      const pubsub = await fixture.pubsub('maxlen', { maxLenApprox: '10' });
      for (let index = 0; index < 500; index += 1) {
        await pubsub.publish({ topic, data: utf8(`m${index}`), metadata: {} }, never);
      }
      const length = await fixture.raw.xlen(topic);
      // `~` trims whole stream nodes (up to 100 entries each), never below the limit.
      assert.ok(length >= 10 && length <= 110, `stream length ${length}`);
    });

    it('streamTTL trims entries older than the TTL on publish', async () => {
      const topic = fixture.isolated.topic('ttl-trim');
      for (let index = 1; index <= 250; index += 1) {
        await fixture.raw.xadd(topic, `1000-${index}`, 'data', `old${index}`);
      }
      const pubsub = await fixture.pubsub('ttl-trim', { streamTTL: '1h' });
      await pubsub.publish({ topic, data: utf8('fresh'), metadata: {} }, never);
      const length = await fixture.raw.xlen(topic);
      assert.ok(length < 251, `stream length ${length}: nothing was trimmed`);
      const [newest] = await fixture.raw.xrevrange(topic, '+', '-', 'COUNT', 1);
      assert.deepEqual(newest?.[1], ['data', 'fresh', 'metadata', '{}']);
    });
  });

  describe('metadata', () => {
    const parse = (metadata: Record<string, string>) =>
      parseComponentMetadata(redisPubSub, 'redis-pubsub', metadata);

    it("applies Dapr's pub/sub defaults and reads bare numbers as milliseconds", () => {
      const defaults = parse({ redisHost: 'localhost:6379' });
      assert.equal(defaults.processingTimeout, 60_000);
      assert.equal(defaults.redeliverInterval, 15_000);
      assert.equal(defaults.queueDepth, 100);
      assert.equal(defaults.concurrency, 10);
      assert.equal(defaults.maxLenApprox, 0);
      assert.equal(defaults.streamTTL, 0);
      const given = parse({
        redisHost: 'localhost',
        processingTimeout: '1500',
        redeliverInterval: '2s',
        streamTTL: '30d',
      });
      assert.equal(given.processingTimeout, 1500);
      assert.equal(given.redeliverInterval, 2000);
      assert.equal(given.streamTTL, 30 * 86_400_000);
      assert.equal(parse({ redisHost: 'h', streamTTL: '90' }).streamTTL, 90_000);
      assert.equal(parse({ redisHost: 'h', redeliverInterval: '0' }).redeliverInterval, 0);
    });

    const bad: [string, Record<string, string>, string][] = [
      ['no redisHost', {}, 'redisHost'],
      ['a malformed processingTimeout', { processingTimeout: 'soon' }, 'processingTimeout'],
      ['a negative redeliverInterval', { redeliverInterval: '-1s' }, 'redeliverInterval'],
      ['queueDepth 0', { queueDepth: '0' }, 'queueDepth'],
      ['a non-numeric concurrency', { concurrency: 'many' }, 'concurrency'],
      ['a negative maxLenApprox', { maxLenApprox: '-5' }, 'maxLenApprox'],
      ['a malformed streamTTL', { streamTTL: 'forever' }, 'streamTTL'],
      ['redisType cluster', { redisType: 'cluster' }, 'redisType'],
      ['failover without sentinelMasterName', { failover: 'true' }, 'sentinelMasterName'],
      ['ports that disagree', { redisHost: 'localhost:6380', redisPort: '6379' }, 'redisPort'],
      ['a non-boolean enableTLS', { enableTLS: 'maybe' }, 'enableTLS'],
    ];
    for (const [label, metadata, field] of bad) {
      it(`refuses ${label}, naming ${field}`, () => {
        const input =
          'redisHost' in metadata || label === 'no redisHost'
            ? metadata
            : { redisHost: 'localhost:6379', ...metadata };
        assert.throws(
          () => parse(input),
          (error: unknown) => isComponentMetadataError(error) && error.field === field,
        );
      });
    }

    it('fails to start when the server does not answer, naming the address', async () => {
      const port = await freePort();
      await assert.rejects(
        createComponent(
          redisPubSub,
          { redisHost: `127.0.0.1:${port}`, redisMaxRetries: '-1', dialTimeout: '1s' },
          { name: 'redis-pubsub', appId: APP_ID, logger: silentLogger, signal: never },
        ),
        new RegExp(`error connecting to redis at 127\\.0\\.0\\.1:${port}`),
      );
    });
  });
});
