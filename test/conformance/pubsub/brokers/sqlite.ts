import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PubSubFeature } from '../../../../src/components/contracts/pubsub.js';
import { sqlitePubSub } from '../../../../src/components/pubsub/sqlite.js';
import type { BrokerUnderTest, IsolatedBroker } from '../broker.js';

/** Delivery settings short enough that refused and orphaned messages return within a second. */
export const SQLITE_TEST_SETTINGS = {
  visibilityTimeout: '1s',
  redeliverInterval: '200ms',
  pollInterval: '50ms',
} as const;

/** A run in its own temporary directory holding one database file, removed by cleanup. */
export async function isolateSqlite(): Promise<IsolatedBroker> {
  const dir = await mkdtemp(join(tmpdir(), 'tapr-pubsub-sqlite-'));
  const file = join(dir, 'pubsub.db');
  let topics = 0;
  return {
    metadata: (consumerID) => ({ connectionString: file, consumerID, ...SQLITE_TEST_SETTINGS }),
    topic: (label) => `${label}-${++topics}`,
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
}

/** `pubsub.sqlite` on a temporary file: durable across processes, no server. */
export const sqliteBroker: BrokerUnderTest = {
  id: 'sqlite',
  definition: sqlitePubSub,
  features: [PubSubFeature.MESSAGE_TTL, PubSubFeature.BULK_PUBLISH],
  competingConsumers: true,
  durable: true,
  ordered: true,
  isolate: isolateSqlite,
};
