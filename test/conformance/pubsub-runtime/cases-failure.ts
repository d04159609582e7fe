import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { deferred } from '../../helpers/deferred.js';
import type { BrokerUnderTest } from '../pubsub/broker.js';
import { DeliveryLog, keys } from './delivery-log.js';
import { type Received, recordRoute, statusReply } from './event-route.js';
import { publish } from './publisher.js';
import { deadLettersLost } from './runtime-broker.js';
import { inboundRetries, PUBSUB } from './runtime-run.js';
import type { RuntimeCase } from './suite.js';

// The inbound policy's retries in the dead-letter case: N retries mean N+1 attempts.
const MAX_RETRIES = 2;

/** Why a case needing messages kept across processes cannot run, if it cannot. */
function needsDurable(broker: BrokerUnderTest): string | undefined {
  return broker.durable ? undefined : 'messages live only inside one taprd process';
}

/** Cases on failing deliveries: dead letters, expiry and a sidecar crash. */
export const FAILURE_CASES: readonly RuntimeCase[] = [
  {
    name: `an event failing maxRetries+1 (${MAX_RETRIES + 1}) attempts goes to the dead-letter topic`,
    unsupported: deadLettersLost,
    run: async (run) => {
      const topic = run.topic('doomed');
      const dead = run.topic('doomed-dlt');
      const app = await run.httpApp([
        { pubsubname: PUBSUB, topic, route: '/failing', deadLetterTopic: dead },
        { pubsubname: PUBSUB, topic: dead, route: '/dead' },
      ]);
      const attempts = new DeliveryLog<Received>();
      const letters = new DeliveryLog<Received>();
      recordRoute(app, '/failing', attempts, { reply: () => ({ status: 500, body: 'no' }) });
      recordRoute(app, '/dead', letters);
      const taprd = await run.sidecar({
        group: 'doomed',
        appPort: app.port,
        files: { 'resiliency.yaml': inboundRetries(MAX_RETRIES) },
      });
      await publish(taprd, topic, { k: 'doomed' });
      await letters.waitForKey('doomed');
      assert.equal(attempts.counts.get('doomed'), MAX_RETRIES + 1);
      // The dead letter is the original event, unchanged.
      const original = attempts.itemsOf('doomed')[0]?.body;
      const letter = letters.itemsOf('doomed')[0]?.body;
      assert.equal(letter.id, original.id);
      assert.equal(letter.topic, topic);
    },
  },
  {
    name: 'an event the app answers DROP goes to the dead-letter topic at once',
    unsupported: deadLettersLost,
    run: async (run) => {
      const topic = run.topic('dropped');
      const dead = run.topic('dropped-dlt');
      const app = await run.httpApp([
        { pubsubname: PUBSUB, topic, route: '/dropping', deadLetterTopic: dead },
        { pubsubname: PUBSUB, topic: dead, route: '/dead' },
      ]);
      const attempts = new DeliveryLog<Received>();
      const letters = new DeliveryLog<Received>();
      recordRoute(app, '/dropping', attempts, { reply: () => statusReply('DROP') });
      recordRoute(app, '/dead', letters);
      const taprd = await run.sidecar({ group: 'dropping', appPort: app.port });
      const want = keys('d', 3);
      for (const k of want) await publish(taprd, topic, { k });
      await letters.waitForKeys(want);
      for (const k of want) assert.equal(attempts.counts.get(k), 1, `${k} was tried once`);
    },
  },
  {
    name: 'an event whose ttlInSeconds passed before the subscriber came up is not delivered',
    unsupported: (broker) =>
      broker.durable ? undefined : 'messages published with no subscriber are not kept',
    run: async (run) => {
      const topic = run.topic('ttl');
      const subscriptions = [{ pubsubname: PUBSUB, topic, route: '/ttl' }];
      const log = new DeliveryLog<Received>();
      const early = await run.httpApp(subscriptions);
      recordRoute(early, '/ttl', log);
      // The first subscriber makes the broker keep the topic for its group, then goes away.
      const [first, publisher] = await Promise.all([
        run.sidecar({ group: 'ttl', appPort: early.port }),
        run.sidecar({ group: 'ttl-publisher' }),
      ]);
      await first.stop();
      await publish(publisher, topic, { k: 'expiring' }, { metadata: { ttlInSeconds: '1' } });
      await publish(publisher, topic, { k: 'marker' });
      // Expiry runs on the clock: there is no event to await, only time to let pass.
      await sleep(2_100);
      const late = await run.httpApp(subscriptions);
      recordRoute(late, '/ttl', log);
      await run.sidecar({ group: 'ttl', appPort: late.port });
      await log.waitForKey('marker');
      assert.equal(log.counts.get('expiring'), undefined, 'the expired event was delivered');
    },
  },
  {
    name: 'deliveries held when taprd is SIGKILLed come again after a restart',
    unsupported: needsDurable,
    run: async (run, t) => {
      const topic = run.topic('crash');
      const subscriptions = [{ pubsubname: PUBSUB, topic, route: '/crash' }];
      const held = new DeliveryLog<Received>();
      const release = deferred<void>();
      run.onClose(async () => release.resolve());
      const holding = await run.httpApp(subscriptions);
      // The app never answers while taprd lives: every delivery stays unacknowledged.
      recordRoute(holding, '/crash', held, {
        reply: () => release.promise.then(() => ({ status: 500 })),
      });
      const group = 'crash';
      const doomed = await run.sidecar({ group, appPort: holding.port });
      const want = keys('c', 5);
      for (const k of want) await publish(doomed, topic, { k });
      await held.waitForKey('c-0');
      doomed.child.kill('SIGKILL');
      await doomed.exited;
      t.diagnostic(`the killed sidecar had handed over ${held.deliveries.length} deliveries`);
      const after = new DeliveryLog<Received>();
      const answering = await run.httpApp(subscriptions);
      recordRoute(answering, '/crash', after);
      await run.sidecar({ group, appPort: answering.port });
      await after.waitForKeys(want);
    },
  },
];
