// Plain data produced by validating Dapr resource YAML. Durations are milliseconds, defaults
// are filled in as Dapr fills them, and nothing here refers back to the YAML library.

/** The file a resource was read from, for error messages and reloads. */
export interface ResourceSource {
  readonly file: string;
}

/** A reference to one key of a secret in the resource's `auth.secretStore`. */
export interface SecretKeyRef {
  readonly name: string;
  /** Key inside a multi-key secret; empty means "use `name` as the key", as Dapr does. */
  readonly key: string;
}

/** A literal metadata value, already stringified the way Dapr stringifies YAML scalars. */
export interface MetadataValueItem {
  readonly name: string;
  readonly value: string;
}

/** A metadata value read from a secret store at start-up. */
export interface MetadataSecretItem {
  readonly name: string;
  readonly secretKeyRef: SecretKeyRef;
}

/** A metadata value read from the sidecar's environment at start-up. */
export interface MetadataEnvItem {
  readonly name: string;
  readonly envRef: string;
}

/** One entry of a `spec.metadata` (or HTTPEndpoint `spec.headers`) list. */
export type MetadataItem = MetadataValueItem | MetadataSecretItem | MetadataEnvItem;

/** Fields every loaded resource kind shares. */
export interface ResourceBase {
  readonly name: string;
  readonly namespace?: string;
  /** App IDs allowed to use the resource; empty means every app. */
  readonly scopes: readonly string[];
  readonly source: ResourceSource;
}

/** A `kind: Component` resource. */
export interface ComponentResource extends ResourceBase {
  readonly kind: 'Component';
  /** `<block>.<impl>`, e.g. `state.redis`. */
  readonly type: string;
  readonly version: string;
  /** `spec.initTimeout`; 5s when absent. */
  readonly initTimeoutMs: number;
  readonly ignoreErrors: boolean;
  readonly metadata: readonly MetadataItem[];
  /** `auth.secretStore`: the store `secretKeyRef` entries are read from. */
  readonly authSecretStore?: string;
}

/** One CEL routing rule of a v2 subscription. */
export interface SubscriptionRule {
  /** CEL expression over the CloudEvent; empty matches every event. */
  readonly match: string;
  readonly path: string;
}

/** Routing of a subscription: rules in order, then `default`. */
export interface SubscriptionRoutes {
  readonly rules: readonly SubscriptionRule[];
  readonly default?: string;
}

/** `spec.bulkSubscribe` of a subscription. */
export interface BulkSubscribeSpec {
  readonly enabled: boolean;
  readonly maxMessagesCount?: number;
  readonly maxAwaitDurationMs?: number;
}

/** A `kind: Subscription` resource; v1alpha1 `route` becomes `routes.default`. */
export interface SubscriptionResource extends ResourceBase {
  readonly kind: 'Subscription';
  readonly apiVersion: 'dapr.io/v1alpha1' | 'dapr.io/v2alpha1';
  readonly pubsubName: string;
  readonly topic: string;
  readonly routes: SubscriptionRoutes;
  readonly deadLetterTopic?: string;
  readonly metadata: Readonly<Record<string, string>>;
  readonly bulkSubscribe?: BulkSubscribeSpec;
}

/** An inclusive range of status codes (`502-504` or a single `500`). */
export interface StatusCodeRange {
  readonly from: number;
  readonly to: number;
}

/** A named retry policy with Dapr's defaults applied. */
export interface RetryPolicy {
  readonly policy: 'constant' | 'exponential';
  /** Constant back-off interval; default 5s. */
  readonly durationMs: number;
  /** Exponential back-off first interval: always 500ms (Dapr does not expose it). */
  readonly initialIntervalMs: number;
  /** Exponential growth factor: always 1.5. */
  readonly multiplier: number;
  /** Exponential jitter: always 0.5. */
  readonly randomizationFactor: number;
  /** Exponential back-off cap; default 60s. */
  readonly maxIntervalMs: number;
  /** Exponential back-off gives up after this long: always 15m (backoff library default). */
  readonly maxElapsedMs: number;
  /** -1 retries forever (the default), 0 never retries. */
  readonly maxRetries: number;
  /** HTTP codes to retry (100-599); absent means every failure is retried. */
  readonly httpStatusCodes?: readonly StatusCodeRange[];
  /** gRPC codes to retry (0-16); absent means every failure is retried. */
  readonly grpcStatusCodes?: readonly StatusCodeRange[];
}

/** A named circuit breaker with Dapr's (gobreaker's) defaults applied. */
export interface CircuitBreakerPolicy {
  /** Requests let through while half-open; default 1. */
  readonly maxRequests: number;
  /** Period after which closed-state counts reset; 0 (default) never resets. */
  readonly intervalMs: number;
  /** How long the breaker stays open; default 60s. */
  readonly timeoutMs: number;
  /** CEL over the counts; default `consecutiveFailures > 5`. */
  readonly trip: string;
}

/** Policy names a target refers to; absent names mean "no policy of that sort". */
export interface PolicyNames {
  readonly timeout?: string;
  readonly retry?: string;
  readonly circuitBreaker?: string;
}

/** Policies for calls to one app ID. */
export interface AppTargetPolicies extends PolicyNames {
  /** Per-endpoint breaker cache; default 100. */
  readonly circuitBreakerCacheSize: number;
}

/** Policies for one actor type. */
export interface ActorTargetPolicies extends PolicyNames {
  /** Required by Dapr whenever `circuitBreaker` is set. */
  readonly circuitBreakerScope?: 'id' | 'type' | 'both';
  /** Per-actor breaker cache; default 5000. */
  readonly circuitBreakerCacheSize: number;
}

/** Policies for one component, per direction. */
export interface ComponentTargetPolicies {
  readonly inbound: PolicyNames;
  readonly outbound: PolicyNames;
}

/** A `kind: Resiliency` resource. */
export interface ResiliencyResource extends ResourceBase {
  readonly kind: 'Resiliency';
  readonly policies: {
    readonly timeouts: Readonly<Record<string, number>>;
    readonly retries: Readonly<Record<string, RetryPolicy>>;
    readonly circuitBreakers: Readonly<Record<string, CircuitBreakerPolicy>>;
  };
  readonly targets: {
    readonly apps: Readonly<Record<string, AppTargetPolicies>>;
    readonly actors: Readonly<Record<string, ActorTargetPolicies>>;
    readonly components: Readonly<Record<string, ComponentTargetPolicies>>;
  };
}

/** A PEM document given inline or through a secret. */
export type TlsDocument = { readonly value: string } | { readonly secretKeyRef: SecretKeyRef };

/** `spec.clientTLS` of an HTTPEndpoint. */
export interface ClientTlsSpec {
  readonly rootCA?: TlsDocument;
  readonly certificate?: TlsDocument;
  readonly privateKey?: TlsDocument;
  readonly renegotiation?: 'Never' | 'OnceAsClient' | 'FreelyAsClient';
}

/** A `kind: HTTPEndpoint` resource: a non-Dapr HTTP service callable through service invocation. */
export interface HTTPEndpointResource extends ResourceBase {
  readonly kind: 'HTTPEndpoint';
  readonly baseUrl: string;
  readonly headers: readonly MetadataItem[];
  readonly clientTLS?: ClientTlsSpec;
  readonly authSecretStore?: string;
}

/** Any resource kind the loader returns. */
export type Resource =
  | ComponentResource
  | SubscriptionResource
  | ResiliencyResource
  | HTTPEndpointResource;

/** Free-form YAML data kept as is (name-resolution configuration, token validator options). */
export type JsonValue =
  | string
  | number
  | boolean
  | null
  | readonly JsonValue[]
  | { readonly [key: string]: JsonValue };

/** A plain name/value pair after stringification. */
export interface NameValue {
  readonly name: string;
  readonly value: string;
}

/** `spec.tracing` of a Configuration. */
export interface TracingConfig {
  /** Kept as written: Dapr parses it late (unparsable = 1e-4, "0" disables tracing). */
  readonly samplingRate: string;
  readonly stdout: boolean;
  readonly zipkin?: { readonly endpointAddress: string };
  readonly otel: {
    readonly endpointAddress?: string;
    readonly protocol?: 'grpc' | 'http';
    /** Default true. */
    readonly isSecure: boolean;
    readonly headers: readonly NameValue[];
    readonly timeoutMs?: number;
  };
}

/** `spec.metric` (alias `spec.metrics`, whose fields win) of a Configuration. */
export interface MetricConfig {
  /** Default true. */
  readonly enabled: boolean;
  readonly recordErrorCodes: boolean;
  readonly http: {
    /** Default true, as in Dapr. */
    readonly increasedCardinality: boolean;
    readonly pathMatching: readonly string[];
    readonly excludeVerbs: boolean;
  };
  readonly rules: readonly {
    readonly name: string;
    readonly labels: readonly {
      readonly name: string;
      readonly regex: Readonly<Record<string, string>>;
    }[];
  }[];
  /** Absent means Dapr's default buckets. */
  readonly latencyDistributionBuckets?: readonly number[];
  readonly workflow?: {
    readonly latencyDistributionBuckets?: readonly number[];
    readonly latencyDistributionUnitsMs?: number;
  };
}

/** `spec.mtls` of a Configuration. */
export interface MtlsConfig {
  readonly enabled: boolean;
  readonly workloadCertTtlMs?: number;
  readonly allowedClockSkewMs?: number;
  readonly sentryAddress?: string;
  readonly controlPlaneTrustDomain?: string;
  readonly tokenValidators: readonly { readonly name: string; readonly options?: JsonValue }[];
}

/** One operation rule of an access-control app policy. */
export interface AccessControlOperation {
  /** Path glob such as `/op*`. */
  readonly name: string;
  readonly httpVerb: readonly string[];
  readonly action: 'allow' | 'deny';
}

/** One app's access-control policy. */
export interface AccessControlPolicy {
  readonly appId: string;
  readonly defaultAction?: 'allow' | 'deny';
  readonly trustDomain: string;
  readonly namespace: string;
  readonly operations: readonly AccessControlOperation[];
}

/** `spec.accessControl` of a Configuration; defaults allow / `public`. */
export interface AccessControlConfig {
  readonly defaultAction: 'allow' | 'deny';
  readonly trustDomain: string;
  readonly policies: readonly AccessControlPolicy[];
}

/** A middleware handler of an HTTP pipeline. */
export interface PipelineHandler {
  readonly name: string;
  readonly type: string;
  readonly version?: string;
  readonly selector?: {
    readonly fields: readonly { readonly field: string; readonly value: string }[];
  };
}

/** One entry of `spec.api.allowed` / `spec.api.denied`. */
export interface ApiAccessRule {
  readonly name: string;
  readonly version: string;
  /** Absent when the rule does not name a protocol. */
  readonly protocol?: 'http' | 'grpc';
}

/** One entry of `spec.secrets.scopes`. */
export interface SecretsScope {
  readonly storeName: string;
  readonly defaultAccess: 'allow' | 'deny';
  readonly allowedSecrets: readonly string[];
  readonly deniedSecrets: readonly string[];
}

/** A per-name workflow or activity concurrency limit. */
export interface NamedConcurrencyLimit {
  readonly name: string;
  readonly maxConcurrent: number;
}

/** `spec.workflow` of a Configuration; limits at or below zero mean "no limit" and are absent. */
export interface WorkflowConfig {
  readonly maxConcurrentWorkflowInvocations?: number;
  readonly maxConcurrentActivityInvocations?: number;
  readonly globalMaxConcurrentWorkflowInvocations?: number;
  readonly globalMaxConcurrentActivityInvocations?: number;
  readonly workflowConcurrencyLimits: readonly NamedConcurrencyLimit[];
  readonly activityConcurrencyLimits: readonly NamedConcurrencyLimit[];
  readonly stateRetentionPolicy?: {
    readonly anyTerminalMs?: number;
    readonly completedMs?: number;
    readonly failedMs?: number;
    readonly terminatedMs?: number;
  };
}

/** A `kind: Configuration` (the `--config` file), with Dapr's defaults filled in. */
export interface ConfigurationResource {
  readonly kind: 'Configuration';
  readonly name: string;
  readonly namespace?: string;
  /** Absent for the built-in default configuration. */
  readonly source?: ResourceSource;
  readonly tracing: TracingConfig;
  readonly metric: MetricConfig;
  readonly mtls: MtlsConfig;
  readonly accessControl: AccessControlConfig;
  /** Includes Dapr's default-on features (`HotReload`, ...) unless the file names them. */
  readonly features: readonly { readonly name: string; readonly enabled: boolean }[];
  readonly nameResolution?: {
    readonly component: string;
    readonly version: string;
    readonly configuration?: JsonValue;
  };
  /** Middleware on calls to the app. */
  readonly appHttpPipeline?: { readonly handlers: readonly PipelineHandler[] };
  /** Middleware on the Dapr HTTP API. */
  readonly httpPipeline?: { readonly handlers: readonly PipelineHandler[] };
  readonly api: {
    readonly allowed?: readonly ApiAccessRule[];
    readonly denied?: readonly ApiAccessRule[];
  };
  readonly secrets: { readonly scopes: readonly SecretsScope[] };
  /** Component types (`bindings.smtp`) or `type/version` refused by this sidecar. */
  readonly components: { readonly deny: readonly string[] };
  readonly logging: {
    readonly apiLogging: {
      readonly enabled: boolean;
      readonly obfuscateURLs: boolean;
      readonly omitHealthChecks: boolean;
    };
  };
  readonly wasm: { readonly strictSandbox: boolean };
  readonly workflow: WorkflowConfig;
}
