import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createInterface } from 'node:readline';
import { after, before, describe, it, type TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';
import { isBulkPublisher, PubSubFeature } from '../../../src/components/contracts/pubsub.js';
import type { BrokerUnderTest } from './broker.js';
import { acking, BrokerRun, digest, numbered, publishAll, Receipts, utf8 } from './harness.js';

/** How long a case waits for deliveries; generous, since CI shares the brokers. */
const DELIVERY_LIMIT_MS = 60_000;

/** A case's name, what it needs from the broker, and its body. */
interface ConformanceCase {
  readonly name: string;
  /** Why the broker cannot run this case, or undefined when it can. */
  readonly unsupported?: (broker: BrokerUnderTest) => string | undefined;
  readonly run: (run: BrokerRun, t: TestContext) => Promise<void>;
}

/** Registers one case, skipped with the reason in its name when the broker cannot run it. */
function register(run: BrokerRun, spec: ConformanceCase): void {
  const reason = run.broker.skips?.[spec.name] ?? spec.unsupported?.(run.broker);
  if (reason) {
    it(`${spec.name} (skipped for ${run.broker.id}: ${reason})`, { skip: reason }, () => {});
    return;
  }
  it(spec.name, (t) => spec.run(run, t));
}

/**
 * The pub/sub conformance suite for one broker, run against the component contract (the
 * runtime's delivery rules are covered end to end in test/e2e/pubsub). Each broker's test file
 * calls this once; node's runner runs the files side by side.
 */
export function describePubSubConformance(broker: BrokerUnderTest): void {
  const run = new BrokerRun(broker);
  const { type, version } = broker.definition;
  describe(`pubsub conformance: ${broker.id} (${type}/${version})`, () => {
    before(() => run.open());
    after(() => run.close());
    for (const spec of CASES) register(run, spec);
  });
}

const CASES: readonly ConformanceCase[] = [
  {
    name: 'declares exactly the features of its broker entry',
    run: async (run) => {
      const { features } = await run.instance('features');
      assert.deepEqual([...features].sort(), [...run.broker.features].sort());
    },
  },
  {
    name: 'delivers 1,000 messages with none lost',
    run: async (run, t) => {
      const { instance } = await run.instance('thousand');
      const topic = run.isolated.topic('thousand');
      const receipts = new Receipts();
      await run.subscribe(instance, topic, acking(receipts));
      const payloads = numbered('m', 1000);
      await publishAll(instance, topic, payloads);
      await receipts.waitFor(payloads, DELIVERY_LIMIT_MS);
      t.diagnostic(`duplicates: ${receipts.duplicates}`);
    },
  },
  {
    name: 'a handler failing the 1st, 2nd and every 5th delivery still gets every message',
    run: async (run, t) => {
      const { instance } = await run.instance('flaky');
      const topic = run.isolated.topic('flaky');
      const receipts = new Receipts();
      let deliveries = 0;
      await run.subscribe(instance, topic, async (message) => {
        deliveries += 1;
        if (deliveries <= 2 || deliveries % 5 === 0)
          throw new Error(`refused delivery ${deliveries}`);
        receipts.ack(message);
      });
      const payloads = numbered('f', 40);
      await publishAll(instance, topic, payloads);
      await receipts.waitFor(payloads, DELIVERY_LIMIT_MS);
      assert.ok(deliveries > payloads.length, 'the refused deliveries were retried');
      t.diagnostic(`deliveries: ${deliveries} for ${payloads.length} messages`);
    },
  },
  {
    name: 'runs minInFlight handler calls at once, above its concurrency (bulk batches fill)',
    run: async (run) => {
      const { instance } = await run.instance('in-flight');
      const topic = run.isolated.topic('in-flight');
      const wanted = 40;
      const receipts = new Receipts();
      let held = 0;
      let releaseAll: () => void = () => {};
      const allHeld = new Promise<void>((resolve) => {
        releaseAll = resolve;
      });
      // Each call waits until `wanted` calls wait together: a component capping below that
      // never gets there, and the case fails on the delivery limit.
      await run.subscribe(
        instance,
        topic,
        async (message) => {
          held += 1;
          if (held === wanted) releaseAll();
          await allHeld;
          receipts.ack(message);
        },
        { minInFlight: wanted },
      );
      const payloads = numbered('w', wanted);
      await publishAll(instance, topic, payloads);
      await receipts.waitFor(payloads, DELIVERY_LIMIT_MS);
    },
  },
  {
    name: 'each consumer group gets every message',
    run: async (run) => {
      const first = await run.instance('group-a');
      const second = await run.instance('group-b');
      const topic = run.isolated.topic('groups');
      const a = new Receipts();
      const b = new Receipts();
      await run.subscribe(first.instance, topic, acking(a));
      await run.subscribe(second.instance, topic, acking(b));
      const payloads = numbered('g', 100);
      await publishAll(first.instance, topic, payloads);
      await Promise.all([
        a.waitFor(payloads, DELIVERY_LIMIT_MS),
        b.waitFor(payloads, DELIVERY_LIMIT_MS),
      ]);
    },
  },
  {
    name: 'instances of one consumer group share the messages',
    unsupported: (broker) =>
      broker.competingConsumers ? undefined : 'its instances do not compete for messages',
    run: async (run, t) => {
      const first = await run.instance('shared');
      const second = await run.instance('shared');
      const topic = run.isolated.topic('shared');
      const together = new Receipts();
      const a = new Receipts();
      const b = new Receipts();
      const into = (own: Receipts) => async (message: Parameters<Receipts['ack']>[0]) => {
        own.ack(message);
        together.ack(message);
      };
      await run.subscribe(first.instance, topic, into(a));
      await run.subscribe(second.instance, topic, into(b));
      const payloads = numbered('s', 200);
      await publishAll(first.instance, topic, payloads);
      await together.waitFor(payloads, DELIVERY_LIMIT_MS);
      const both = [...a.acked.keys()].filter((key) => b.acked.has(key)).length;
      t.diagnostic(`instance A: ${a.acked.size}, instance B: ${b.acked.size}, both: ${both}`);
      assert.equal(both, 0, 'no message went to both instances of the group');
    },
  },
  {
    name: 'unicode and binary payloads arrive byte for byte',
    run: async (run) => {
      const { instance } = await run.instance('bytes');
      const topic = run.isolated.topic('bytes');
      const receipts = new Receipts();
      await run.subscribe(instance, topic, acking(receipts));
      const payloads = [
        utf8('héllo wörld — 你好 — 🦄🚀 — \u0000 nul'),
        Uint8Array.from({ length: 256 }, (_, index) => index),
        new Uint8Array(randomBytes(64 * 1024)),
        utf8('{"json":true,"n":1}'),
      ];
      await publishAll(instance, topic, payloads);
      await receipts.waitFor(payloads, DELIVERY_LIMIT_MS);
      const sizes = new Map(payloads.map((data) => [digest(data), data.byteLength]));
      for (const message of receipts.deliveries) {
        assert.equal(message.data.byteLength, sizes.get(digest(message.data)));
        assert.equal(message.topic, topic);
      }
    },
  },
  {
    name: 'one subscriber receives a topic in publish order',
    unsupported: (broker) => (broker.ordered ? undefined : 'the broker does not promise order'),
    run: async (run) => {
      const { instance } = await run.instance('ordered');
      const topic = run.isolated.topic('ordered');
      const receipts = new Receipts();
      await run.subscribe(instance, topic, acking(receipts));
      const payloads = numbered('o', 200);
      for (const data of payloads) await instance.publish({ topic, data, metadata: {} }, never());
      await receipts.waitFor(payloads, DELIVERY_LIMIT_MS);
      const order = receipts.deliveries.map((message) => new TextDecoder().decode(message.data));
      assert.deepEqual(
        order.slice(0, payloads.length),
        payloads.map((data) => new TextDecoder().decode(data)),
      );
    },
  },
  {
    name: 'messages taken by a killed subscriber process are delivered to the next subscriber',
    unsupported: (broker) => (broker.durable ? undefined : 'messages live only in the process'),
    run: async (run, t) => {
      const group = 'killed';
      const topic = run.isolated.topic('killed');
      const child = await startChildSubscriber(run, group, topic);
      try {
        const { instance: publisher } = await run.instance('killed-publisher');
        const payloads = numbered('k', 20);
        await publishAll(publisher, topic, payloads);
        await child.received(1);
        child.kill();
        const { instance } = await run.instance(group);
        const receipts = new Receipts();
        await run.subscribe(instance, topic, acking(receipts));
        await receipts.waitFor(payloads, DELIVERY_LIMIT_MS);
        t.diagnostic(`the killed subscriber had taken ${child.count()} messages`);
      } finally {
        child.kill();
      }
    },
  },
  {
    name: 'a message whose TTL passed is not delivered',
    unsupported: (broker) =>
      broker.features.includes(PubSubFeature.MESSAGE_TTL)
        ? undefined
        : 'the broker has no TTL of its own (the runtime drops expired CloudEvents)',
    run: async (run) => {
      const { instance } = await run.instance('ttl');
      const topic = run.isolated.topic('ttl');
      // Establish the group first so the broker keeps the topic's messages for it.
      const receipts = new Receipts();
      const first = await run.subscribe(instance, topic, acking(receipts));
      await first.close();
      const expiring = utf8('expires');
      const marker = utf8('marker');
      await instance.publish({ topic, data: expiring, metadata: {}, ttlSeconds: 1 }, never());
      // Expiry is on the broker's clock: there is no event to await, only time to let pass.
      await new Promise((resolve) => setTimeout(resolve, 2_500));
      await instance.publish({ topic, data: marker, metadata: {} }, never());
      await run.subscribe(instance, topic, acking(receipts));
      await receipts.waitFor([marker], DELIVERY_LIMIT_MS);
      assert.equal(
        receipts.acked.has(digest(expiring)),
        false,
        'the expired message was delivered',
      );
    },
  },
  {
    name: 'bulk publish delivers every entry',
    unsupported: (broker) =>
      broker.features.includes(PubSubFeature.BULK_PUBLISH) ? undefined : 'no native bulk publish',
    run: async (run) => {
      const created = await run.instance('bulk');
      const topic = run.isolated.topic('bulk');
      assert.ok(isBulkPublisher(created.instance, created.features));
      const receipts = new Receipts();
      await run.subscribe(created.instance, topic, acking(receipts));
      const payloads = numbered('b', 100);
      const failures = await created.instance.bulkPublish(
        topic,
        payloads.map((data, index) => ({ entryId: String(index), data, metadata: {} })),
        {},
        never(),
      );
      assert.deepEqual(failures, []);
      await receipts.waitFor(payloads, DELIVERY_LIMIT_MS);
    },
  },
  {
    name: 'a closed subscription takes no more messages',
    unsupported: (broker) =>
      broker.durable ? undefined : 'messages published with no subscriber are not kept',
    run: async (run) => {
      const group = 'closing';
      const topic = run.isolated.topic('closing');
      const first = await run.instance(group);
      const early = new Receipts();
      const subscription = await run.subscribe(first.instance, topic, acking(early));
      await subscription.close();
      await subscription.close();
      const payloads = numbered('c', 10);
      await publishAll(first.instance, topic, payloads);
      const second = await run.instance(group);
      const late = new Receipts();
      await run.subscribe(second.instance, topic, acking(late));
      await late.waitFor(payloads, DELIVERY_LIMIT_MS);
      assert.equal(early.deliveries.length, 0, 'the closed subscription received messages');
    },
  },
];

/** A signal that never aborts, made per call so a case cannot abort another's. */
function never(): AbortSignal {
  return new AbortController().signal;
}

/** A subscriber child process (subscriber-child.ts) that never acknowledges. */
interface ChildSubscriber {
  /** Resolves once the child has received at least `count` messages. */
  received(count: number): Promise<void>;
  count(): number;
  kill(): void;
}

async function startChildSubscriber(
  run: BrokerRun,
  group: string,
  topic: string,
): Promise<ChildSubscriber> {
  const script = fileURLToPath(new URL('./subscriber-child.js', import.meta.url));
  const brokerModule = new URL(`./brokers/${run.broker.id}.js`, import.meta.url).href;
  const metadata = JSON.stringify(run.isolated.metadata(group));
  const child = spawn(process.execPath, [script, brokerModule, metadata, topic], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  let got = 0;
  let waiters: { count: number; done: () => void }[] = [];
  let ready: () => void = () => {};
  let failed: (error: Error) => void = () => {};
  const readyPromise = new Promise<void>((resolve, reject) => {
    ready = resolve;
    failed = reject;
  });
  child.once('exit', (code, signal) => {
    failed(new Error(`subscriber child exited (${code ?? signal}) before ready: ${stderr}`));
  });
  createInterface({ input: child.stdout }).on('line', (line) => {
    if (line === 'ready') ready();
    if (!line.startsWith('got ')) return;
    got += 1;
    waiters = waiters.filter((waiter) => {
      if (got < waiter.count) return true;
      waiter.done();
      return false;
    });
  });
  await readyPromise;
  return {
    received: (count) =>
      got >= count
        ? Promise.resolve()
        : new Promise<void>((resolve, reject) => {
            const timer = setTimeout(
              () => reject(new Error(`the child received ${got} of ${count} messages: ${stderr}`)),
              DELIVERY_LIMIT_MS,
            );
            waiters.push({
              count,
              done: () => {
                clearTimeout(timer);
                resolve();
              },
            });
          }),
    count: () => got,
    kill: () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    },
  };
}
