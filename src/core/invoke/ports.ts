import type { AppResponse } from '../ports/app-channel.js';
import type { HeaderRecord } from './types.js';

/**
 * Finds a live instance of an app: the `host:port` of its sidecar's internal gRPC port. Name
 * resolution components implement it (the runtime adapts `NameResolver.resolve`).
 */
export type ResolveTarget = (
  appId: string,
  namespace: string,
  signal?: AbortSignal,
) => Promise<string>;

/**
 * Tells name resolution that a connection to `address` failed, so it is not handed out again
 * before the resolver has been asked anew (a stopped instance leaves at once).
 */
export type ForgetTarget = (appId: string, namespace: string, address: string) => void;

/** An invocation on its way to another sidecar or an external HTTP service, headers stamped. */
export interface OutboundCall {
  readonly method: string;
  readonly verb: string;
  readonly query?: string;
  readonly headers: HeaderRecord;
  readonly body: Uint8Array;
  readonly contentType?: string;
  readonly typeUrl?: string;
}

/**
 * Calls a peer sidecar's `ServiceInvocation.CallLocal`. Implemented by src/clients; failures
 * are thrown as `RemoteCallError` with the gRPC code (UNAVAILABLE when the peer cannot be
 * reached), a remote gRPC status other than OK likewise.
 */
export interface RemoteInvoker {
  invoke(address: string, call: OutboundCall, signal?: AbortSignal): Promise<AppResponse>;
  /** Drops pooled connections to `address` after a transport failure, so the next call redials. */
  reset(address: string): void;
}

/** An external HTTP service reached by an HTTPEndpoint resource or a full URL. */
export interface ExternalHttpTarget {
  /** The HTTPEndpoint's name, or the URL itself. */
  readonly name: string;
  /** `spec.baseUrl` (or the URL); the method path is appended to it. */
  readonly baseUrl: string;
  /** `spec.headers`, secrets already read; added to every request. */
  readonly headers: Readonly<Record<string, string>>;
  /** `spec.clientTLS` documents (PEM), secrets already read. */
  readonly tls?: {
    readonly rootCA?: string;
    readonly certificate?: string;
    readonly privateKey?: string;
  };
}

/** Calls external HTTP services directly from this sidecar (no peer sidecar involved). */
export interface ExternalInvoker {
  invoke(
    target: ExternalHttpTarget,
    call: OutboundCall,
    signal?: AbortSignal,
  ): Promise<AppResponse>;
}

/** A failed answer as a resiliency policy's `matching` sees it. */
export type PolicyFailure =
  | { readonly httpStatus: number; readonly grpcCode?: undefined }
  | { readonly grpcCode: number; readonly httpStatus?: undefined };

/** How a resiliency policy should judge one attempt. */
export interface PolicyRunOptions<T> {
  /** False when the request cannot be sent twice; the policy must not retry. */
  readonly replayable: boolean;
  /** The caller's signal: aborting it stops the attempt in flight and further retries. */
  readonly signal?: AbortSignal | undefined;
  /**
   * Whether an answer is a failure for retries and circuit breakers: an HTTP status outside
   * 200-399, or a gRPC code other than OK; undefined for a success. A failed answer that
   * exhausts the retries is returned, not thrown, so the caller still sees the app's reply.
   */
  readonly failure: (result: T) => PolicyFailure | undefined;
  /**
   * The status of a thrown error, checked against `matching`; undefined means a failure
   * retried whatever `matching` says (Dapr's plain errors), `'final'` one never retried.
   */
  readonly errorFailure: (error: unknown) => PolicyFailure | 'final' | undefined;
}

/** Runs one operation under a resiliency policy (timeout, retries, circuit breaker). */
export interface PolicyRunner {
  /** True when a failed attempt may be repeated, so the request must be kept (Dapr's `HasRetries`). */
  readonly hasRetries?: boolean;
  run<T>(
    operation: (signal: AbortSignal | undefined) => Promise<T>,
    options: PolicyRunOptions<T>,
  ): Promise<T>;
}

/**
 * Resiliency for invocation, as Dapr layers it: the app's policy around the whole call, and
 * the built-in service retries around the sidecar-to-sidecar hop when the app has no policy.
 * Policy timeouts and open breakers are thrown as `InvokePolicyError`s.
 */
export interface InvokePolicies {
  /**
   * The policy for calls to a target (an app id, HTTPEndpoint name or URL); `endpoint` keys the
   * circuit breaker (`app:method`, as Dapr). Undefined when nothing applies.
   */
  forApp(targetId: string, endpoint: string): PolicyRunner | undefined;
  /** Dapr's `DaprBuiltInServiceRetries` for the hop to `appId`; undefined when it has a policy. */
  builtInRetries(appId: string): PolicyRunner | undefined;
}
