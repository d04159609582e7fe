import { metadataField, metadataSchema, type OptionsOf } from '../contracts/metadata.js';

/**
 * `pubsub.in-memory` metadata. Dapr's in-memory pub/sub takes none; Tapr's adds consumer groups
 * and redelivery, so it reads the settings other brokers spell this way.
 */
export const inMemoryPubSubMetadata = metadataSchema({
  /** The consumer group; the runtime fills in the app id when absent. */
  consumerID: metadataField.string(),
  /** How long a rejected message waits before it is offered again (a bare number is ms). */
  redeliverInterval: metadataField.duration({ default: 500, bareUnit: 'ms' }),
  /**
   * Handler calls in flight per subscription. 1 (the default) delivers a topic in publish order,
   * like Dapr's in-memory bus.
   */
  concurrency: metadataField.int({ default: 1, min: 1 }),
});

/** Parsed `pubsub.in-memory` options. */
export type InMemoryPubSubOptions = OptionsOf<typeof inMemoryPubSubMetadata>;
