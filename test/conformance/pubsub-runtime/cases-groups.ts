import assert from 'node:assert/strict';
import type { TaprdProcess } from '../../helpers/taprd-process.js';
import type { BrokerUnderTest } from '../pubsub/broker.js';
import { DeliveryLog, keys } from './delivery-log.js';
import { keyOfData, type Received, recordRoute } from './event-route.js';
import { publishAll } from './publisher.js';
import { PUBSUB, type RuntimeRun } from './runtime-run.js';
import type { RuntimeCase } from './suite.js';

/** Why two taprd processes cannot share the broker's messages, if they cannot. */
function acrossProcesses(broker: BrokerUnderTest): string | undefined {
  // A broker that is neither a server nor a file lives inside one process.
  return broker.server !== undefined || broker.durable
    ? undefined
    : 'its bus lives inside one taprd process';
}

/** Starts an app subscribed to `topic` at `/events` and its sidecar in `group`. */
async function subscriber(
  run: RuntimeRun,
  group: string,
  topic: string,
  log: DeliveryLog<Received>,
  also?: DeliveryLog<Received>,
): Promise<TaprdProcess> {
  const app = await run.httpApp([{ pubsubname: PUBSUB, topic, route: '/events' }]);
  recordRoute(app, '/events', log, {
    reply: (received) => {
      also?.record(keyOfData(received.body), received);
      return { status: 200 };
    },
  });
  return run.sidecar({ group, appPort: app.port });
}

/** Cases on several subscribers: consumer groups and competing instances. */
export const GROUP_CASES: readonly RuntimeCase[] = [
  {
    name: 'two app ids (consumer groups) each get every message',
    unsupported: acrossProcesses,
    run: async (run) => {
      const topic = run.topic('groups');
      const a = new DeliveryLog<Received>();
      const b = new DeliveryLog<Received>();
      const [publisher] = await Promise.all([
        subscriber(run, 'group-a', topic, a),
        subscriber(run, 'group-b', topic, b),
      ]);
      const want = keys('g', 100);
      await publishAll(
        publisher,
        topic,
        want.map((k) => ({ k })),
      );
      await Promise.all([a.waitForKeys(want), b.waitForKeys(want)]);
    },
  },
  {
    name: 'two instances of one app id share the messages',
    unsupported: (broker) =>
      acrossProcesses(broker) ??
      (broker.competingConsumers ? undefined : 'its instances do not compete for messages'),
    run: async (run, t) => {
      const topic = run.topic('shared');
      const together = new DeliveryLog<Received>();
      const a = new DeliveryLog<Received>();
      const b = new DeliveryLog<Received>();
      const [publisher] = await Promise.all([
        subscriber(run, 'shared', topic, a, together),
        subscriber(run, 'shared', topic, b, together),
      ]);
      const want = keys('s', 200);
      await publishAll(
        publisher,
        topic,
        want.map((k) => ({ k })),
      );
      await together.waitForKeys(want);
      const both = [...a.counts.keys()].filter((key) => b.counts.has(key)).length;
      t.diagnostic(`instance A: ${a.counts.size}, instance B: ${b.counts.size}, both: ${both}`);
      // Ideally no message reaches both; one does when a slow delivery outlives the broker's
      // processing timeout and is redelivered (at-least-once), so only "not every message went
      // to both", which is what tells a shared group from two groups, is asserted.
      assert.ok(both < want.length, 'the instances shared the messages instead of each taking all');
    },
  },
];
