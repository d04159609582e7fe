// The subscription model shared by the three sources (declarative resources, the app's own
// list, streaming calls) and by delivery. Plain data: no transport, no component.

/** Where a subscription came from, spelled as Dapr's metadata API reports it. */
export type SubscriptionType = 'DECLARATIVE' | 'PROGRAMMATIC' | 'STREAMING';

/**
 * One routing rule: a CEL `match` over the event and the path it selects. An empty `match`
 * always matches; Dapr appends the default route as such a rule, after the others.
 */
export interface RouteRule {
  readonly match: string;
  readonly path: string;
}

/** `bulkSubscribe` of a subscription; zero or absent limits mean Dapr's defaults. */
export interface BulkSubscribeOptions {
  readonly enabled: boolean;
  readonly maxMessagesCount?: number;
  readonly maxAwaitDurationMs?: number;
}

/** A subscription before its rules are compiled, whichever source it came from. */
export interface SubscriptionSpec {
  readonly type: SubscriptionType;
  /** The Subscription resource's name (declarative only), used in logs and errors. */
  readonly name?: string;
  /** The file a declarative subscription was read from, for start-up errors. */
  readonly file?: string;
  readonly pubsubName: string;
  readonly topic: string;
  /** Passed to the component's subscribe call (`rawPayload`, broker-specific keys). */
  readonly metadata: Readonly<Record<string, string>>;
  /** Rules in evaluation order, the default route last with an empty `match`. */
  readonly rules: readonly RouteRule[];
  /** Empty or absent: no dead-letter topic. */
  readonly deadLetterTopic?: string;
  readonly bulkSubscribe?: BulkSubscribeOptions;
}

/** A live subscription as the metadata API lists it. */
export interface ActiveSubscription {
  readonly type: SubscriptionType;
  readonly pubsubName: string;
  readonly topic: string;
  readonly metadata: Readonly<Record<string, string>>;
  readonly rules: readonly RouteRule[];
  readonly deadLetterTopic: string;
}

/** Dapr's default bulk-subscribe limits (pkg/runtime/pubsub/default_bulksub.go). */
export const BULK_DEFAULTS = { maxMessagesCount: 100, maxAwaitDurationMs: 1000 } as const;
