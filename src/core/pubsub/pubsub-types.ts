import type { MetadataRecord } from '../../components/contracts/component.js';
import type { PubSub } from '../../components/contracts/pubsub.js';

/**
 * The topic scopes of one pub/sub component for this app, read from its metadata
 * (`allowedTopics`, `protectedTopics`, `publishingScopes`, `subscriptionScopes`) when it was
 * built. Empty lists mean "not set". `topic-scopes.ts` decides on them.
 */
export interface TopicScopes {
  /** `allowedTopics`: when not empty, no other topic may be published or subscribed. */
  readonly allowedTopics: readonly string[];
  /** `protectedTopics`: these need an explicit scope for this app, for both directions. */
  readonly protectedTopics: readonly string[];
  /** This app's entry of `publishingScopes` (`app1=t1,t2;app2=t3`). */
  readonly publishingScopes: readonly string[];
  /** This app's entry of `subscriptionScopes`. */
  readonly subscriptionScopes: readonly string[];
}

/** A built pub/sub component as the pub/sub block sees it; the runtime makes one per component. */
export interface PubSubEntry {
  /** The component's name (`metadata.name`), the `pubsubname` of its events. */
  readonly name: string;
  readonly pubsub: PubSub;
  /** The features the component declared (`MESSAGE_TTL`, `BULK_PUBSUB`, ...). */
  readonly features: readonly string[];
  /** The resolved metadata, with `consumerID` filled in (the app id when not given), as Dapr. */
  readonly metadata: MetadataRecord;
  readonly scopes: TopicScopes;
  /**
   * True when a raw metadata value held `{namespace}`; Dapr then prefixes every topic with
   * the namespace on the broker, when publishing and when subscribing.
   */
  readonly namespaceScoped: boolean;
}

/** The pub/sub components of a sidecar by name; read live, so a later component shows up. */
export type PubSubRegistry = ReadonlyMap<string, PubSubEntry>;

/** The topic name used on the broker: namespace-prefixed for namespace-scoped components. */
export function brokerTopic(entry: PubSubEntry, namespace: string, topic: string): string {
  return entry.namespaceScoped ? `${namespace}${topic}` : topic;
}
