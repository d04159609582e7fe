import type { KindedDefinition } from '../../../src/components/contracts/component.js';
import type { PubSubFeature } from '../../../src/components/contracts/pubsub.js';
import type { TestServer } from '../../helpers/test-servers.js';

/** A run's own space on a broker (unique topic prefix, queues, streams, files) and its cleanup. */
export interface IsolatedBroker {
  /**
   * The component's `spec.metadata` for a subscriber in consumer group `consumerID`; short
   * redelivery settings so failed messages come back within about a second.
   */
  metadata(consumerID: string): Readonly<Record<string, string>>;
  /** A topic name unique to this run (`label` keeps cases apart). */
  topic(label: string): string;
  /** Removes everything the run created (streams, queues, exchanges, files). */
  cleanup(): Promise<void>;
}

/** One pub/sub component as the conformance suite runs it. */
export interface BrokerUnderTest {
  /** Names the test file (`<id>.test.ts`). */
  readonly id: string;
  readonly definition: KindedDefinition<'pubsub'>;
  /** The server the broker needs; tests fail naming it, and how to start it, when it is down. */
  readonly server?: TestServer;
  /** Exactly the features the component declares. */
  readonly features: readonly PubSubFeature[];
  /** Instances of one consumer group share a topic's messages (competing consumers). */
  readonly competingConsumers: boolean;
  /** Messages survive the subscriber's process being killed (and the broker keeps them). */
  readonly durable: boolean;
  /** One subscriber in one group receives a topic's messages in publish order (no failures). */
  readonly ordered: boolean;
  /** Why a case is skipped for this broker, by case name; the reason goes into the test name. */
  readonly skips?: Readonly<Record<string, string>>;
  /** Makes this run's isolated space. */
  isolate(): Promise<IsolatedBroker>;
}
