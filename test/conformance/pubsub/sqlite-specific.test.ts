import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { deferred } from '../../helpers/deferred.js';
import { waitUntil } from '../../helpers/test-servers.js';
import {
  type ChildPubSub,
  Collector,
  FAST,
  labels,
  never,
  openPubSub,
  publishTexts,
  rawDatabase,
  spawnChild,
  type TestPubSub,
  tempDir,
  textOf,
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

/** A fresh database file for one test. */
function freshFile(): string {
  return join(home.dir, `case-${++files}.db`);
}

/** Opens instances and closes them all at the end of a test, even a failing one. */
async function withInstances(
  body: (open: (metadata: Record<string, string>) => Promise<TestPubSub>) => Promise<void>,
): Promise<void> {
  const opened: TestPubSub[] = [];
  try {
    await body(async (metadata) => {
      const instance = await openPubSub(metadata);
      opened.push(instance);
      return instance;
    });
  } finally {
    await Promise.allSettled(opened.map((instance) => instance.close()));
  }
}

describe('pubsub.sqlite across processes', () => {
  it('two processes publishing and consuming one file concurrently lose nothing', async () => {
    const file = freshFile();
    const children: ChildPubSub[] = [];
    await withInstances(async (open) => {
      // The default visibility timeout: no claim can lapse, so no message may reach both workers.
      const workers = { connectionString: file, consumerID: 'workers' };
      children.push(await spawnChild(workers), await spawnChild(workers));
      const [a, b] = children as [ChildPubSub, ChildPubSub];
      const watcher = await open({ connectionString: file, consumerID: 'watcher' });
      const watched = new Collector();
      await watcher.subscribe({ topic: 'orders', metadata: {} }, watched.handler, never);
      await Promise.all([a.command('subscribe orders'), b.command('subscribe orders')]);

      const fromA = labels('a', 600);
      const fromB = labels('b', 600);
      const fromHere = labels('p', 200);
      await Promise.all([
        a.command('publish orders a 600'),
        b.command('publish orders b 600'),
        publishTexts(watcher, 'orders', fromHere),
      ]);
      const all = [...fromA, ...fromB, ...fromHere];
      const workersGot = new Collector();
      const merge = (): void => {
        for (const text of [...a.received.counts.keys(), ...b.received.counts.keys()]) {
          if (!workersGot.counts.has(text)) workersGot.add(text);
        }
      };
      await watched.waitFor(all);
      const atWorkers = (): boolean => {
        merge();
        return workersGot.has(all);
      };
      await waitUntil('every message at a worker', atWorkers, 30_000);
      const both = [...a.received.counts.keys()].filter((text) => b.received.counts.has(text));
      assert.deepEqual(both, [], 'a message reached both workers of one group');
      assert.ok(a.received.counts.size > 0 && b.received.counts.size > 0, 'both workers worked');
      assert.equal(watched.duplicates, 0);
      assert.equal(await a.stop(), 0);
      assert.equal(await b.stop(), 0);
    }).finally(() => Promise.all(children.map((child) => child.kill())));
  });

  it("redelivers a SIGKILLed subscriber's messages once its claims lapse", async () => {
    const file = freshFile();
    const metadata = { connectionString: file, consumerID: 'crashy', ...FAST };
    const child = await spawnChild(metadata);
    try {
      await withInstances(async (open) => {
        await child.command('hold jobs');
        const publisher = await open({ connectionString: file, consumerID: 'publisher' });
        const jobs = labels('job', 5);
        await publishTexts(publisher, 'jobs', jobs, 1);
        await child.received.waitFor(jobs);
        const db = rawDatabase(file);
        try {
          const held = db
            .prepare("SELECT COUNT(*) AS n FROM pubsub_leases WHERE consumer_group = 'crashy'")
            .get() as { n: number };
          assert.equal(held.n, 5, 'the child holds a claim on every message');
        } finally {
          db.close();
        }
        await child.kill();
        const survivor = await open(metadata);
        const got = new Collector();
        await survivor.subscribe({ topic: 'jobs', metadata: {} }, got.handler, never);
        await got.waitFor(jobs);
        assert.equal(got.duplicates, 0);
      });
    } finally {
      await child.kill();
    }
  });
});

describe('pubsub.sqlite claims', () => {
  it('keeps a slow handler’s claim alive past visibilityTimeout by renewing it', async () => {
    const file = freshFile();
    await withInstances(async (open) => {
      const metadata = { connectionString: file, consumerID: 'slow', ...FAST };
      const first = await open(metadata);
      const second = await open(metadata);
      const release = deferred();
      const entered = deferred();
      const firstGot = new Collector();
      await first.subscribe(
        { topic: 'slow', metadata: {} },
        async (message) => {
          entered.resolve();
          await release.promise;
          firstGot.add(textOf(message));
        },
        never,
      );
      await first.publish({ topic: 'slow', data: utf8('long job'), metadata: {} }, never);
      await entered.promise;
      const secondGot = new Collector();
      await second.subscribe({ topic: 'slow', metadata: {} }, secondGot.handler, never);
      // Three visibility timeouts: without renewal the second instance would take the message.
      await new Promise((resolve) => setTimeout(resolve, 3000));
      assert.equal(secondGot.order.length, 0, 'a live claim lapsed to another subscriber');
      release.resolve();
      await firstGot.waitFor(['long job']);
      await first.close();
      await second.publish({ topic: 'slow', data: utf8('next'), metadata: {} }, never);
      await secondGot.waitFor(['next']);
      assert.deepEqual(secondGot.order, ['next'], 'the acknowledged message came again');
    });
  });

  it('close() waits for handlers and hands back claims never given to the handler', async () => {
    const file = freshFile();
    await withInstances(async (open) => {
      // A long visibility timeout: only the hand-back on close can make the rest come soon.
      const metadata = { connectionString: file, consumerID: 'hand-back', concurrency: '1' };
      const first = await open({ ...metadata, visibilityTimeout: '5m' });
      const release = deferred();
      const entered = deferred();
      const firstGot = new Collector();
      const subscription = await first.subscribe(
        { topic: 'work', metadata: {} },
        async (message) => {
          entered.resolve();
          await release.promise;
          firstGot.add(textOf(message));
        },
        never,
      );
      await publishTexts(first, 'work', labels('w', 3), 1);
      await entered.promise;
      const closing = subscription.close();
      let closed = false;
      void closing.then(() => {
        closed = true;
      });
      await new Promise((resolve) => setImmediate(resolve));
      assert.equal(closed, false, 'close() returned while a handler was running');
      release.resolve();
      await closing;
      assert.deepEqual(firstGot.order, ['w-0']);
      const second = await open({ ...metadata, visibilityTimeout: '5m' });
      const secondGot = new Collector();
      await second.subscribe({ topic: 'work', metadata: {} }, secondGot.handler, never);
      await secondGot.waitFor(['w-1', 'w-2'], 10_000);
      assert.equal(secondGot.counts.has('w-0'), false, 'the acknowledged message came again');
    });
  });

  it('never runs more handlers than concurrency; with 1 they run in publish order', async () => {
    const file = freshFile();
    await withInstances(async (open) => {
      for (const concurrency of [3, 1]) {
        const topic = `limit-${concurrency}`;
        const instance = await open({ connectionString: file, concurrency: String(concurrency) });
        let running = 0;
        let peak = 0;
        const got = new Collector();
        await instance.subscribe(
          { topic, metadata: {} },
          async (message) => {
            running += 1;
            peak = Math.max(peak, running);
            // Handlers finish out of order, so order could only hold by running one at a time.
            await new Promise((resolve) => setTimeout(resolve, Math.random() * 4));
            running -= 1;
            got.add(textOf(message));
          },
          never,
        );
        const texts = labels('n', 40);
        // One commit, so the first claim already finds more messages than the limit.
        const entries = texts.map((text) => ({ entryId: text, data: utf8(text), metadata: {} }));
        assert.deepEqual(await instance.bulkPublish(topic, entries, {}, never), []);
        await got.waitFor(texts);
        assert.equal(peak, concurrency, `peak handlers in flight with concurrency ${concurrency}`);
        if (concurrency === 1) assert.deepEqual(got.order, texts);
      }
    });
  });

  it('starts a new group at subscribe time and lets a returning group catch up', async () => {
    const file = freshFile();
    await withInstances(async (open) => {
      const instance = await open({ connectionString: file, consumerID: 'late', ...FAST });
      await instance.publish({ topic: 'news', data: utf8('before'), metadata: {} }, never);
      const got = new Collector();
      const first = await instance.subscribe({ topic: 'news', metadata: {} }, got.handler, never);
      await instance.publish({ topic: 'news', data: utf8('after'), metadata: {} }, never);
      await got.waitFor(['after']);
      await first.close();
      await instance.publish({ topic: 'news', data: utf8('while away'), metadata: {} }, never);
      await instance.subscribe({ topic: 'news', metadata: {} }, got.handler, never);
      await got.waitFor(['while away']);
      assert.deepEqual(got.order, ['after', 'while away']);
    });
  });

  it('delivers content type, metadata and empty payloads as published', async () => {
    const file = freshFile();
    await withInstances(async (open) => {
      const instance = await open({ connectionString: file });
      const seen = deferred<{ contentType?: string; metadata: unknown; size: number }[]>();
      const messages: { contentType?: string; metadata: unknown; size: number }[] = [];
      await instance.subscribe(
        { topic: 'shapes', metadata: {} },
        async (message) => {
          messages.push({
            ...(message.contentType === undefined ? {} : { contentType: message.contentType }),
            metadata: message.metadata,
            size: message.data.byteLength,
          });
          if (messages.length === 2) seen.resolve(messages);
        },
        never,
      );
      const metadata = { traceparent: '00-abc-01', ünïcode: '✓' };
      await instance.publish(
        { topic: 'shapes', data: utf8('{}'), contentType: 'application/json', metadata },
        never,
      );
      await instance.publish({ topic: 'shapes', data: new Uint8Array(0), metadata: {} }, never);
      assert.deepEqual(await seen.promise, [
        { contentType: 'application/json', metadata, size: 2 },
        { metadata: {}, size: 0 },
      ]);
    });
  });
});
