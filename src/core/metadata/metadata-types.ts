/** A loaded component as the metadata API lists it. */
export interface RegisteredComponent {
  readonly name: string;
  readonly type: string;
  readonly version: string;
  readonly capabilities: readonly string[];
}

/** Subscription kinds as Dapr reports them. */
export type SubscriptionType = 'DECLARATIVE' | 'PROGRAMMATIC' | 'STREAMING';

/** An active subscription as the metadata API lists it. */
export interface SubscriptionInfo {
  readonly pubsubName: string;
  readonly topic: string;
  readonly metadata: Readonly<Record<string, string>>;
  readonly rules: readonly { readonly match: string; readonly path: string }[];
  readonly deadLetterTopic: string;
  readonly type: SubscriptionType;
}

/** How the sidecar reaches its app. */
export interface AppConnectionInfo {
  readonly port: number;
  readonly protocol: string;
  readonly channelAddress: string;
  readonly maxConcurrency: number;
  readonly health?: {
    readonly healthCheckPath: string;
    readonly healthProbeInterval: string;
    readonly healthProbeTimeout: string;
    readonly healthThreshold: number;
  };
}

/** Actor runtime states, as Dapr names them. */
export type ActorRuntimeStatus = 'INITIALIZING' | 'DISABLED' | 'RUNNING';

/** The actor runtime's part of the metadata. */
export interface ActorRuntimeInfo {
  readonly status: ActorRuntimeStatus;
  readonly activeActors: readonly { readonly type: string; readonly count: number }[];
  readonly hostReady: boolean;
  readonly placement: string;
}

/** Everything `GET /v1.0/metadata` and `GetMetadata` answer, transport-free. */
export interface MetadataSnapshot {
  readonly id: string;
  readonly runtimeVersion: string;
  readonly enabledFeatures: readonly string[];
  readonly components: readonly RegisteredComponent[];
  readonly extended: Readonly<Record<string, string>>;
  readonly subscriptions: readonly SubscriptionInfo[];
  readonly httpEndpoints: readonly { readonly name: string }[];
  readonly appConnection: AppConnectionInfo;
  readonly actorRuntime: ActorRuntimeInfo;
}

/** Live sources the metadata block reads on every call; other blocks plug in here. */
export interface MetadataSources {
  readonly appId: string;
  readonly runtimeVersion: string;
  readonly enabledFeatures: () => readonly string[];
  readonly components: () => readonly RegisteredComponent[];
  readonly subscriptions: () => readonly SubscriptionInfo[];
  readonly httpEndpoints: () => readonly string[];
  readonly appConnection: AppConnectionInfo;
  readonly actorRuntime: () => ActorRuntimeInfo;
}
