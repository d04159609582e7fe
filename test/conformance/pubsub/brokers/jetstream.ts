import { type JetStreamManager, jetstreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { jetstreamPubSub } from '../../../../src/components/pubsub/jetstream.js';
import { NATS_SERVER, serverAddress, uniqueName } from '../../../helpers/test-servers.js';
import type { BrokerUnderTest, IsolatedBroker } from '../broker.js';

/** The test server's URL as Dapr's `natsURL` takes it. */
export const NATS_URL = `nats://${serverAddress(NATS_SERVER)}`;

/**
 * Settings the suite runs with: a consumer group is a durable consumer shared through a queue
 * group of the same name (Dapr's component ignores `consumerID`), and an unacknowledged or
 * refused message comes back after a second.
 */
export function jetstreamTestSettings(consumerID: string): Record<string, string> {
  return { durableName: consumerID, queueGroupName: consumerID, ackWait: '1s' };
}

/** A connection and manager on the test server, for making and inspecting streams directly. */
export async function natsTestManager(): Promise<{ nc: NatsConnection; jsm: JetStreamManager }> {
  const nc = await connect({ servers: serverAddress(NATS_SERVER) });
  return { nc, jsm: await jetstreamManager(nc) };
}

/**
 * A run on the shared NATS server: a stream of its own whose subjects are `<prefix>.>`, as the
 * user creates streams for Dapr's component, deleted (with its consumers) by cleanup.
 */
export async function isolateJetstream(): Promise<IsolatedBroker> {
  const prefix = uniqueName('pubsub');
  const { nc, jsm } = await natsTestManager();
  try {
    await jsm.streams.add({ name: prefix, subjects: [`${prefix}.>`] });
  } finally {
    await nc.close();
  }
  return {
    metadata: (consumerID) => ({ natsURL: NATS_URL, ...jetstreamTestSettings(consumerID) }),
    topic: (label) => `${prefix}.${label}`,
    cleanup: async () => {
      const manager = await natsTestManager();
      try {
        await manager.jsm.streams.delete(prefix);
      } finally {
        await manager.nc.close();
      }
    },
  };
}

/** `pubsub.jetstream` against the machine's NATS server with JetStream. */
export const jetstreamBroker: BrokerUnderTest = {
  id: 'jetstream',
  definition: jetstreamPubSub,
  server: NATS_SERVER,
  features: [],
  competingConsumers: true,
  durable: true,
  ordered: true,
  skips: {
    'runs minInFlight handler calls at once, above its concurrency (bulk batches fill)':
      'concurrencyMode single, the default, hands messages over one at a time, as in Dapr',
  },
  isolate: isolateJetstream,
};
