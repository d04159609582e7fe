import { PubSubFeature } from '../../../../src/components/contracts/pubsub.js';
import { inMemoryPubSub } from '../../../../src/components/pubsub/in-memory.js';
import type { BrokerUnderTest, IsolatedBroker } from '../broker.js';

/** A run's topics on the shared definition's bus; nothing to clean up outside the process. */
async function isolateInMemory(): Promise<IsolatedBroker> {
  let topics = 0;
  return {
    metadata: (consumerID) => ({ consumerID, redeliverInterval: '100ms' }),
    topic: (label) => `${label}-${++topics}`,
    cleanup: async () => {},
  };
}

/** `pubsub.in-memory`: one definition, so the run's instances share one bus. */
export const inMemoryBroker: BrokerUnderTest = {
  id: 'in-memory',
  definition: inMemoryPubSub(),
  features: [PubSubFeature.SUBSCRIBE_WILDCARDS],
  competingConsumers: true,
  durable: false,
  ordered: true,
  isolate: isolateInMemory,
};
