import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { isComponentMetadataError } from '../../../src/components/contracts/component.js';
import { waitUntil } from '../../helpers/test-servers.js';
import {
  Collector,
  FAST,
  labels,
  never,
  openPubSub,
  publishTexts,
  rawDatabase,
  type TestPubSub,
  tempDir,
  utf8,
} from './sqlite-fixture.js';

let home: Awaited<ReturnType<typeof tempDir>>;
let files = 0;
before(async () => {
  home = await tempDir();
});
after(async () => {
  await home.cleanup();
});

function freshFile(): string {
  return join(home.dir, `retention-${++files}.db`);
}

/** Runs one query on the file with the raw driver. */
function query<T>(file: string, sql: string, ...params: unknown[]): T {
  const db = rawDatabase(file);
  try {
    return db.prepare(sql).get(...params) as T;
  } finally {
    db.close();
  }
}

function messageCount(file: string, topic: string): number {
  return query<{ n: number }>(
    file,
    'SELECT COUNT(*) AS n FROM pubsub_messages WHERE topic = ?',
    topic,
  ).n;
}

function leaseCount(file: string, topic: string): number {
  return query<{ n: number }>(
    file,
    'SELECT COUNT(*) AS n FROM pubsub_leases WHERE topic = ?',
    topic,
  ).n;
}

/** Opens an instance, runs the body, and closes the instance. */
async function using(
  metadata: Record<string, string>,
  body: (pubsub: TestPubSub) => Promise<void>,
): Promise<void> {
  const pubsub = await openPubSub(metadata);
  try {
    await body(pubsub);
  } finally {
    await pubsub.close();
  }
}

describe('pubsub.sqlite retention', () => {
  it('keeps the newest maxMessages once acknowledged, and what a group still owes', async () => {
    const file = freshFile();
    await using({ connectionString: file, maxMessages: '5', ...FAST }, async (pubsub) => {
      // Topic "done": its one group acknowledged everything.
      const got = new Collector();
      await pubsub.subscribe({ topic: 'done', metadata: {} }, got.handler, never);
      const done = labels('d', 20);
      await publishTexts(pubsub, 'done', done, 1);
      await got.waitFor(done);
      // Acks are written just after the handler resolves; wait for them to land.
      await waitUntil('acks recorded', () => leaseCount(file, 'done') === 0, 10_000);
      // Topic "owed": a group exists but has consumed nothing.
      const idle = await pubsub.subscribe({ topic: 'owed', metadata: {} }, async () => {}, never);
      await idle.close();
      await publishTexts(pubsub, 'owed', labels('o', 20), 1);
      // Topic "nobody": no group at all, so nothing is owed to anyone.
      await publishTexts(pubsub, 'nobody', labels('x', 20), 1);

      const removed = await pubsub.cleanupNow();
      assert.equal(removed.messages, 30);
      assert.equal(messageCount(file, 'done'), 5);
      assert.equal(messageCount(file, 'owed'), 20);
      assert.equal(messageCount(file, 'nobody'), 5);
      const newest = query<{ low: number }>(
        file,
        "SELECT MIN(CAST(data AS TEXT)) AS low FROM pubsub_messages WHERE topic = 'nobody'",
      );
      assert.equal(newest.low, 'x-15', 'the newest messages are the ones kept');
    });
  });

  it('deletes messages past retentionPeriod, owed or not, and forgets idle groups', async () => {
    const file = freshFile();
    const metadata = { connectionString: file, retentionPeriod: '1s', consumerID: 'g', ...FAST };
    await using(metadata, async (pubsub) => {
      const idle = await pubsub.subscribe({ topic: 'old', metadata: {} }, async () => {}, never);
      await idle.close();
      await publishTexts(pubsub, 'old', labels('old', 3), 1);
      // Age is measured on the clock: there is no event to await, only time to let pass.
      await new Promise((resolve) => setTimeout(resolve, 1100));
      await pubsub.publish({ topic: 'old', data: utf8('fresh'), metadata: {} }, never);
      const removed = await pubsub.cleanupNow();
      assert.equal(removed.messages, 3);
      assert.equal(messageCount(file, 'old'), 1);
      // The group was last seen over a retention period ago with nothing claimed: forgotten.
      assert.equal(removed.groups, 1);
      // Subscribing again starts the group afresh; the kept message predates it.
      const got = new Collector();
      await pubsub.subscribe({ topic: 'old', metadata: {} }, got.handler, never);
      await pubsub.publish({ topic: 'old', data: utf8('new'), metadata: {} }, never);
      await got.waitFor(['new']);
      assert.deepEqual(got.order, ['new']);
    });
  });

  it('deletes messages whose TTL passed', async () => {
    const file = freshFile();
    await using({ connectionString: file, ...FAST }, async (pubsub) => {
      await pubsub.publish(
        { topic: 'ttl', data: utf8('short'), metadata: {}, ttlSeconds: 1 },
        never,
      );
      await pubsub.publish({ topic: 'ttl', data: utf8('kept'), metadata: {} }, never);
      const expired = (): boolean =>
        query<{ n: number }>(
          file,
          'SELECT COUNT(*) AS n FROM pubsub_messages WHERE expires_at <= ?',
          Date.now(),
        ).n === 1;
      await waitUntil('the TTL to pass', expired, 5000);
      const removed = await pubsub.cleanupNow();
      assert.equal(removed.messages, 1);
      assert.equal(messageCount(file, 'ttl'), 1);
    });
  });

  it('drops claims whose message retention removed', async () => {
    const file = freshFile();
    const metadata = { connectionString: file, retentionPeriod: '1s', ...FAST };
    await using(metadata, async (pubsub) => {
      const held = new Collector();
      await pubsub.subscribe(
        { topic: 'held', metadata: {} },
        async (message) => {
          held.handler(message);
          throw new Error('not yet');
        },
        never,
      );
      await pubsub.publish({ topic: 'held', data: utf8('h'), metadata: {} }, never);
      await held.waitFor(['h']);
      await new Promise((resolve) => setTimeout(resolve, 1100));
      const removed = await pubsub.cleanupNow();
      assert.equal(removed.messages, 1);
      assert.equal(leaseCount(file, 'held'), 0);
    });
  });
});

describe('pubsub.sqlite configuration', () => {
  const bad: [string, Record<string, string>, RegExp][] = [
    ['no connectionString', {}, /connectionString.*is required/],
    ['a table prefix with SQL in it', { tablePrefix: 'x; DROP' }, /tablePrefix.*invalid/],
    ['concurrency 0', { concurrency: '0' }, /concurrency.*below the minimum 1/],
    ['a non-duration pollInterval', { pollInterval: 'soon' }, /pollInterval.*not a duration/],
    ['a tiny visibilityTimeout', { visibilityTimeout: '10ms' }, /visibilityTimeout.*at least/],
    ['a negative redeliverInterval', { redeliverInterval: '-1s' }, /redeliverInterval/],
    ['a negative maxMessages', { maxMessages: '-3' }, /maxMessages/],
    ['a non-boolean disableWAL', { disableWAL: 'maybe' }, /disableWAL.*not a boolean/],
  ];
  for (const [name, extra, message] of bad) {
    it(`rejects ${name}`, async () => {
      const connection = name === 'no connectionString' ? {} : { connectionString: freshFile() };
      await assert.rejects(openPubSub({ ...connection, ...extra }), (error: unknown) => {
        assert.ok(isComponentMetadataError(error), String(error));
        assert.match(error.message, message);
        return true;
      });
    });
  }

  const badTargets: [string, string, RegExp][] = [
    ['a read-only file', 'file:/tmp/x.db?mode=ro', /cannot be read-only/],
    ['a journal_mode pragma', 'file:/tmp/x.db?_pragma=journal_mode(DELETE)', /forbidden/],
    ['a remote authority', 'file://elsewhere/x.db', /invalid uri authority/],
    ['mode=rw on a missing file', `file:${'/nonexistent-dir'}/x.db?mode=rw`, /./],
  ];
  for (const [name, connectionString, message] of badTargets) {
    it(`refuses ${name}`, async () => {
      await assert.rejects(openPubSub({ connectionString }), message);
    });
  }

  it('refuses tables written by a newer schema', async () => {
    const file = freshFile();
    await (await openPubSub({ connectionString: file })).close();
    const db = rawDatabase(file);
    db.prepare("UPDATE pubsub_metadata SET value = '99' WHERE key = 'migrations'").run();
    db.close();
    await assert.rejects(openPubSub({ connectionString: file }), /schema level 99/);
  });

  it('keeps two prefixes in one file apart, and creates missing directories', async () => {
    const file = join(home.dir, 'nested', 'deeper', 'prefixes.db');
    await using({ connectionString: file, tablePrefix: 'one_' }, async (one) => {
      await using({ connectionString: file, tablePrefix: 'two_' }, async (two) => {
        const got = new Collector();
        await two.subscribe({ topic: 't', metadata: {} }, got.handler, never);
        await one.publish({ topic: 't', data: utf8('for one'), metadata: {} }, never);
        await two.publish({ topic: 't', data: utf8('for two'), metadata: {} }, never);
        await got.waitFor(['for two']);
        assert.deepEqual(got.order, ['for two']);
      });
    });
  });

  const variants: [string, (file: string) => Record<string, string>][] = [
    [
      'the rollback journal (disableWAL)',
      (file) => ({ connectionString: file, disableWAL: 'true' }),
    ],
    [
      'a synchronous pragma of its own',
      (file) => ({ connectionString: `file:${file}?_pragma=synchronous(FULL)` }),
    ],
    ['an in-memory database', () => ({ connectionString: ':memory:' })],
  ];
  for (const [name, metadata] of variants) {
    it(`delivers with ${name}`, async () => {
      await using({ ...metadata(freshFile()), ...FAST }, async (pubsub) => {
        const got = new Collector();
        await pubsub.subscribe({ topic: 't', metadata: {} }, got.handler, never);
        const texts = labels('v', 20);
        await publishTexts(pubsub, 't', texts);
        await got.waitFor(texts);
      });
    });
  }

  it('rejects bad calls: empty topic, a closed instance, a bad bulk TTL', async () => {
    const pubsub = await openPubSub({ connectionString: freshFile() });
    await assert.rejects(
      pubsub.publish({ topic: '', data: utf8('x'), metadata: {} }, never),
      /topic is required/,
    );
    await assert.rejects(pubsub.subscribe({ topic: '', metadata: {} }, async () => {}, never));
    const failures = await pubsub.bulkPublish(
      'bulk',
      [
        { entryId: 'good', data: utf8('g'), metadata: {} },
        { entryId: 'bad', data: utf8('b'), metadata: { ttlInSeconds: 'soon' } },
      ],
      {},
      never,
    );
    assert.deepEqual(
      failures.map((failure) => failure.entryId),
      ['bad'],
    );
    const aborted = new AbortController();
    aborted.abort(new Error('gave up'));
    await assert.rejects(
      pubsub.publish({ topic: 't', data: utf8('x'), metadata: {} }, aborted.signal),
      /gave up/,
    );
    await pubsub.close();
    await pubsub.close();
    await assert.rejects(
      pubsub.publish({ topic: 't', data: utf8('x'), metadata: {} }, never),
      /closed/,
    );
  });
});
