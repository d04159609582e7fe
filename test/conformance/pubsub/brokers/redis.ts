import { Redis } from 'ioredis';
import { PubSubFeature } from '../../../../src/components/contracts/pubsub.js';
import { redisPubSub } from '../../../../src/components/pubsub/redis.js';
import { REDIS_SERVER, serverAddress, uniqueName } from '../../../helpers/test-servers.js';
import type { BrokerUnderTest, IsolatedBroker } from '../broker.js';

/** Redeliver settings short enough that refused and orphaned entries return within a second. */
export const REDIS_TEST_SETTINGS = {
  processingTimeout: '500ms',
  redeliverInterval: '200ms',
} as const;

/** A client on the test server for setting up and inspecting streams directly. */
export function redisTestClient(): Redis {
  return new Redis({ host: REDIS_SERVER.host, port: REDIS_SERVER.port, lazyConnect: true });
}

/**
 * A run on the shared Redis: every topic (stream key) starts with a prefix unique to the run,
 * and cleanup deletes the streams under it (groups and pending lists go with them).
 */
export async function isolateRedis(): Promise<IsolatedBroker> {
  const prefix = uniqueName('pubsub');
  return {
    metadata: (consumerID) => ({
      redisHost: serverAddress(REDIS_SERVER),
      consumerID,
      ...REDIS_TEST_SETTINGS,
    }),
    topic: (label) => `${prefix}:${label}`,
    cleanup: async () => {
      const client = redisTestClient();
      try {
        await client.connect();
        const keys: string[] = [];
        let cursor = '0';
        do {
          const [next, found] = await client.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
          cursor = next;
          keys.push(...found);
        } while (cursor !== '0');
        if (keys.length > 0) await client.del(...keys);
      } finally {
        client.disconnect();
      }
    },
  };
}

/** `pubsub.redis` against the machine's Redis server. */
export const redisBroker: BrokerUnderTest = {
  id: 'redis',
  definition: redisPubSub,
  server: REDIS_SERVER,
  features: [PubSubFeature.BULK_PUBLISH],
  competingConsumers: true,
  durable: true,
  ordered: true,
  isolate: isolateRedis,
};
