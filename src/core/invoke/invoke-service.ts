import { GrpcCode } from '../../kernel/index.js';
import type { AppChannel, AppRequest, AppResponse } from '../ports/app-channel.js';
import type { AccessControl } from './access-control.js';
import { type BuiltInRetry, DAPR_BUILT_IN_RETRY, withBuiltInRetries } from './builtin-retry.js';
import {
  directInvokeError,
  isRemoteCallError,
  localCallError,
  RemoteCallError,
  rpcErrorText,
} from './errors.js';
import {
  appendForwarded,
  CALLER_ID_HEADER,
  CALLER_NAMESPACE_HEADER,
  type CallerIdentity,
  type ForwardedHost,
  headersForHttpApp,
  headerValue,
  stampIdentity,
  withoutSidecarHeaders,
} from './headers.js';
import { normalizeMethod } from './method.js';
import type {
  ExternalInvoker,
  ForgetTarget,
  InvokePolicies,
  OutboundCall,
  PolicyFailure,
  PolicyRunner,
  RemoteInvoker,
  ResolveTarget,
} from './ports.js';
import { type HttpEndpointLookup, type InvokeTarget, parseTarget } from './target.js';
import type { HeaderRecord, InvokeRequest, LocalCall, ProxyRoute } from './types.js';

/** What the invocation block needs from the runtime. */
export interface InvokeServiceOptions {
  readonly appId: string;
  /** `NAMESPACE`; Dapr's `default` when unset. */
  readonly namespace?: string | undefined;
  /** This sidecar's app channel, once the app is connected. */
  readonly appChannel: () => AppChannel | undefined;
  /** False while app health checks report the app unhealthy. */
  readonly appHealthy?: () => boolean;
  readonly accessControl: AccessControl;
  readonly resolve: ResolveTarget;
  /** Called when a connection to a resolved address failed (cached answers drop it). */
  readonly forget?: ForgetTarget | undefined;
  readonly remote: RemoteInvoker;
  readonly external?: ExternalInvoker | undefined;
  readonly httpEndpoints?: HttpEndpointLookup;
  readonly policies?: InvokePolicies | undefined;
  readonly forwardedHost?: ForwardedHost | undefined;
  /** Dapr's built-in retries when no policy applies; override for tests. */
  readonly builtInRetry?: BuiltInRetry;
}

const HTTP_PROTOCOLS = new Set(['http', 'https', 'h2c']);

/**
 * Service invocation, once for both APIs (Dapr's `directMessaging` plus the receiving side of
 * `CallLocal`): target parsing, local app or remote sidecar or external HTTP service, identity
 * headers, access control, resiliency, and Dapr's `ERR_DIRECT_INVOKE` errors.
 */
export class InvokeService {
  readonly #options: InvokeServiceOptions;
  readonly #caller: CallerIdentity;
  readonly #endpoints: HttpEndpointLookup;

  constructor(options: InvokeServiceOptions) {
    this.#options = options;
    this.#caller = { appId: options.appId, namespace: options.namespace ?? 'default' };
    this.#endpoints = options.httpEndpoints ?? (() => undefined);
  }

  /** This sidecar's app id. */
  get appId(): string {
    return this.#caller.appId;
  }

  /**
   * Invokes a method on the target and returns its answer whatever the status (an app's
   * non-2xx answer is not an error); throws `ERR_DIRECT_INVOKE` when the call failed.
   */
  async invoke(request: InvokeRequest): Promise<AppResponse> {
    let target: InvokeTarget;
    let method: string;
    try {
      method = normalizeMethod(request.method);
      target = parseTarget(request.targetId, this.#caller.namespace, this.#endpoints);
    } catch (error) {
      throw directInvokeError(request.targetId, error);
    }
    const outer = this.#options.policies?.forApp(
      request.targetId,
      endpointKey(request.targetId, target, method),
    );
    const call = { ...request, method };
    try {
      if (outer === undefined) return await this.#dispatch(target, call, request.signal);
      return await outer.run((signal) => this.#dispatch(target, call, signal), {
        replayable: request.replayable ?? true,
        signal: request.signal,
        failure: responseFailure,
        // Dapr's API-level policy retries any failed call, whatever its code.
        errorFailure: () => undefined,
      });
    } catch (error) {
      if (request.signal?.aborted) throw request.signal.reason;
      throw directInvokeError(request.targetId, error);
    }
  }

  /**
   * The receiving side of `CallLocal`: checks access control for the caller the peer sidecar
   * names, then calls this sidecar's app. Failures are plain gRPC statuses, as Dapr sends them.
   */
  async callLocal(call: LocalCall): Promise<AppResponse> {
    const channel = this.#options.appChannel();
    if (channel === undefined) {
      throw localCallError(GrpcCode.INTERNAL, 'app channel is not initialized');
    }
    let method: string;
    try {
      method = normalizeMethod(call.method);
    } catch (error) {
      throw localCallError(GrpcCode.INVALID_ARGUMENT, plainMessage(error));
    }
    const httpApp = HTTP_PROTOCOLS.has(channel.protocol);
    this.#authorize(call.headers, method, httpApp ? call.verb : 'NONE', httpApp);
    if (this.#options.appHealthy?.() === false) {
      throw localCallError(GrpcCode.INTERNAL, 'app is not in a healthy state');
    }
    const headers = withoutSidecarHeaders(call.headers);
    try {
      return await channel.invoke(
        appRequest(call, method, httpApp ? headersForHttpApp(headers) : headers),
      );
    } catch (error) {
      if (call.signal?.aborted) throw call.signal.reason;
      throw localCallError(
        GrpcCode.INTERNAL,
        `error invoking app channel: ${errorMessage(error)}`,
        error,
      );
    }
  }

  /**
   * Where a proxied gRPC call for `targetId` goes: this sidecar's app, or the internal port of
   * a sidecar serving it. Throws `RemoteCallError` when the id cannot be resolved.
   */
  async routeProxy(targetId: string, signal?: AbortSignal): Promise<ProxyRoute> {
    let target: InvokeTarget;
    try {
      target = parseTarget(targetId, this.#caller.namespace, () => undefined);
    } catch (error) {
      throw new RemoteCallError(GrpcCode.INVALID_ARGUMENT, plainMessage(error));
    }
    if (target.kind !== 'app') {
      throw new RemoteCallError(GrpcCode.INVALID_ARGUMENT, `cannot proxy gRPC to ${targetId}`);
    }
    if (this.#isSelf(target)) return { kind: 'local', appId: target.appId };
    const address = await this.#options.resolve(target.appId, target.namespace, signal);
    return { kind: 'remote', appId: target.appId, namespace: target.namespace, address };
  }

  /**
   * The receiving side of a proxied gRPC call: throws PERMISSION_DENIED when access control
   * refuses the caller the metadata names for this `/package.Service/Method`.
   */
  authorizeProxied(headers: HeaderRecord, path: string): void {
    let operation: string;
    try {
      operation = normalizeMethod(path);
    } catch (error) {
      throw localCallError(GrpcCode.INVALID_ARGUMENT, plainMessage(error));
    }
    this.#authorize(headers, operation, 'NONE', false);
  }

  /** Metadata for a proxied call leaving for `route`: identity stamped, the API token gone. */
  proxyMetadata(
    headers: HeaderRecord,
    route: ProxyRoute,
  ): Record<string, string | readonly string[]> {
    return stampIdentity(headers, this.#caller, route.appId);
  }

  /** Tells the remote client to drop connections to a peer that failed mid-call. */
  resetPeer(address: string): void {
    this.#options.remote.reset(address);
  }

  /**
   * The resiliency policy for a gRPC call proxied to another sidecar, as Dapr picks it: the
   * target's app policy with `app:/package.Service/Method` keying the breaker. Undefined when
   * nothing applies; calls to this sidecar's own app get none, as in Dapr.
   */
  proxyPolicy(targetId: string, path: string): PolicyRunner | undefined {
    return this.#options.policies?.forApp(targetId, `${targetId}:${path}`);
  }

  /** A proxied call could not reach the peer of `route`: reset its connection and forget it. */
  proxyFailed(route: ProxyRoute): void {
    if (route.kind === 'remote') this.#peerFailed(route, route.address);
  }

  #authorize(headers: HeaderRecord, operation: string, verb: string, httpApp: boolean): void {
    const decision = this.#options.accessControl.check({
      callerAppId: headerValue(headers, CALLER_ID_HEADER),
      callerNamespace: headerValue(headers, CALLER_NAMESPACE_HEADER),
      operation,
      verb,
      httpApp,
    });
    if (!decision.allowed) {
      throw localCallError(GrpcCode.PERMISSION_DENIED, decision.message ?? 'access denied');
    }
  }

  #isSelf(target: { readonly appId: string; readonly namespace: string }): boolean {
    return target.appId === this.#caller.appId && target.namespace === this.#caller.namespace;
  }

  async #dispatch(
    target: InvokeTarget,
    request: InvokeRequest,
    signal: AbortSignal | undefined,
  ): Promise<AppResponse> {
    const replayable = request.replayable ?? true;
    if (target.kind === 'external') {
      const external = this.#options.external;
      if (external === undefined) throw new Error('external HTTP invocation is not available');
      const call = outboundCall(request, withoutSidecarHeaders(request.headers));
      return this.#withHopRetries(target.endpoint.name, replayable, signal, (attemptSignal) =>
        external.invoke(target.endpoint, call, attemptSignal),
      );
    }
    if (this.#isSelf(target)) return this.#invokeSelf(request, signal);
    const headers = stampIdentity(request.headers, this.#caller, target.appId);
    appendForwarded(headers, this.#options.forwardedHost);
    const call = outboundCall(request, headers);
    return this.#withHopRetries(target.appId, replayable, signal, async (attemptSignal) => {
      const address = await this.#options.resolve(target.appId, target.namespace, attemptSignal);
      try {
        return await this.#callRemote(target, address, call, attemptSignal);
      } catch (error) {
        // A request that never left may go to another instance at once, whatever the policy:
        // it cannot run twice. This is how a stopped instance still cached is skipped.
        if (!isRemoteCallError(error) || !error.unsent) throw error;
        const next = await this.#options.resolve(target.appId, target.namespace, attemptSignal);
        return await this.#callRemote(target, next, call, attemptSignal);
      }
    });
  }

  /** One call to a peer sidecar; a transport failure resets its connection and forgets it. */
  async #callRemote(
    target: { readonly appId: string; readonly namespace: string },
    address: string,
    call: OutboundCall,
    signal: AbortSignal | undefined,
  ): Promise<AppResponse> {
    try {
      return await this.#options.remote.invoke(address, call, signal);
    } catch (error) {
      if (isRemoteCallError(error) && error.grpcCode === GrpcCode.UNAVAILABLE) {
        this.#peerFailed(target, address);
      }
      throw error;
    }
  }

  /** A connection to a peer failed: reset it and drop the address from cached answers. */
  #peerFailed(
    target: { readonly appId: string; readonly namespace: string },
    address: string,
  ): void {
    this.#options.remote.reset(address);
    this.#options.forget?.(target.appId, target.namespace, address);
  }

  /**
   * Dapr's built-in service retries around the hop to another sidecar or an external service:
   * only when the app has no policy of its own and the body can be sent again.
   */
  #withHopRetries(
    appId: string,
    replayable: boolean,
    signal: AbortSignal | undefined,
    attempt: (signal: AbortSignal | undefined) => Promise<AppResponse>,
  ): Promise<AppResponse> {
    if (!replayable) return attempt(signal);
    const policies = this.#options.policies;
    if (policies === undefined) {
      const builtIn = this.#options.builtInRetry ?? DAPR_BUILT_IN_RETRY;
      return withBuiltInRetries(builtIn, () => attempt(signal), signal);
    }
    const runner = policies.builtInRetries(appId);
    if (runner === undefined) return attempt(signal);
    return runner.run(attempt, {
      replayable: true,
      signal,
      failure: () => undefined,
      errorFailure: (error) => (isRemoteCallError(error) ? { grpcCode: error.grpcCode } : 'final'),
    });
  }

  /** A call to this sidecar's own app id skips the network, as in Dapr (and skips ACLs). */
  #invokeSelf(request: InvokeRequest, signal: AbortSignal | undefined): Promise<AppResponse> {
    const channel = this.#options.appChannel();
    if (channel === undefined) {
      throw new Error('cannot invoke local endpoint: app channel not initialized');
    }
    const stamped = stampIdentity(request.headers, this.#caller, this.#caller.appId);
    const httpApp = HTTP_PROTOCOLS.has(channel.protocol);
    return channel.invoke(
      appRequest(
        { ...request, ...(signal === undefined ? {} : { signal }) },
        request.method,
        httpApp ? headersForHttpApp(stamped) : stamped,
      ),
    );
  }
}

function appRequest(
  call: Omit<LocalCall, 'headers'>,
  method: string,
  headers: HeaderRecord,
): AppRequest {
  return {
    method: call.verb,
    path: method,
    headers,
    body: call.body,
    ...(call.query === undefined ? {} : { query: call.query }),
    ...(call.contentType === undefined ? {} : { contentType: call.contentType }),
    ...(call.typeUrl === undefined ? {} : { typeUrl: call.typeUrl }),
    ...(call.signal === undefined ? {} : { signal: call.signal }),
  };
}

function outboundCall(request: InvokeRequest, headers: HeaderRecord): OutboundCall {
  return {
    method: request.method,
    verb: request.verb,
    headers,
    body: request.body,
    ...(request.query === undefined ? {} : { query: request.query }),
    ...(request.contentType === undefined ? {} : { contentType: request.contentType }),
    ...(request.typeUrl === undefined ? {} : { typeUrl: request.typeUrl }),
  };
}

/** Dapr counts an HTTP answer outside 200-399, or a gRPC code other than OK, as a failure. */
function responseFailure(response: AppResponse): PolicyFailure | undefined {
  if (response.grpcCode !== undefined) {
    return response.grpcCode === GrpcCode.OK ? undefined : { grpcCode: response.grpcCode };
  }
  return response.status < 200 || response.status > 399
    ? { httpStatus: response.status }
    : undefined;
}

function errorMessage(error: unknown): string {
  if (isRemoteCallError(error)) return rpcErrorText(error.grpcCode, error.message);
  return plainMessage(error);
}

function plainMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** The circuit-breaker key Dapr uses for a call: `app:method`, `url/method`, `endpoint:baseUrl`. */
function endpointKey(targetId: string, target: InvokeTarget, method: string): string {
  if (target.kind === 'app') return `${targetId}:${method}`;
  if (target.endpoint.name === target.endpoint.baseUrl) return `${targetId}/${method}`;
  return `${targetId}:${target.endpoint.baseUrl}`;
}
