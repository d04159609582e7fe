// Resiliency for proxied gRPC calls, as Dapr's proxy applies it (pkg/api/grpc/proxy/handler.go).
// The proxy never decodes messages, so it cannot know a method's kind; like Dapr it trusts the
// `dapr-stream` metadata. A call without it is unary: the policy's timeout, retries and circuit
// breaker cover the whole call, and the request is kept so a retry can send it again. A
// streaming call gets the policy for connecting only; once it flows it is never retried.
import type { OutgoingHttpHeaders, ServerHttp2Stream } from 'node:http2';
import { isInvokePolicyError, isRemoteCallError } from '../../core/invoke/errors.js';
import type { InvokeService } from '../../core/invoke/invoke-service.js';
import type { PolicyFailure, PolicyRunner } from '../../core/invoke/ports.js';
import type { ProxyRoute } from '../../core/invoke/types.js';
import { GrpcCode } from '../../kernel/grpc-code.js';
import { GrpcError, isGrpcError, toGrpcCode } from './server/grpc-error.js';

/** Where a proxied call goes and what it carries. */
export interface ProxyDestination {
  /** `http://host:port` (a peer's internal port, or the app) or `https://` for `grpcs` apps. */
  readonly origin: string;
  /** `/package.Service/Method`. */
  readonly path: string;
  /** Request metadata without pseudo-headers. */
  readonly headers: OutgoingHttpHeaders;
}

/** How one try of a proxied unary call ended (see `src/clients/grpc-unary-proxy.ts`). */
export interface ProxiedUnaryCall {
  /** True once the client got response headers: a failure must end the call with trailers. */
  readonly responded: boolean;
  attempt(
    destination: ProxyDestination,
    signal?: AbortSignal,
  ): Promise<{ readonly code: number; readonly committed: boolean }>;
  /** Relays the last try's answer, held because it failed before any message. */
  relayHeld(): void;
  /** Ends a call whose answer already started with this status. */
  endWith(code: number, message: string): void;
}

/** The wire side of proxying, implemented in src/clients. */
export interface ProxyTransport {
  /**
   * Resolves once a connection to `origin` is up; rejects with an UNAVAILABLE
   * `RemoteCallError` marked `unsent` when it cannot be made.
   */
  connect(origin: string, signal?: AbortSignal): Promise<void>;
  /** Pipes the call to the destination frame for frame; resolves when it is over. */
  forward(inbound: ServerHttp2Stream, destination: ProxyDestination): Promise<void>;
  /** Starts a unary call that may be tried more than once. */
  unary(
    inbound: ServerHttp2Stream,
    options: { readonly keepRequest: boolean; readonly maxKeptBytes: number },
  ): ProxiedUnaryCall;
}

/** A route to another sidecar. */
export type RemoteRoute = ProxyRoute & { readonly kind: 'remote' };

/** What `forwardUnderPolicy` needs. */
export interface PolicyForwardOptions {
  readonly invoke: InvokeService;
  readonly transport: ProxyTransport;
  readonly policy: PolicyRunner;
  /** `dapr-stream` was set. */
  readonly streaming: boolean;
  readonly maxRequestBytes: number;
  /** The route of the first try. */
  readonly first: RemoteRoute;
  /** Resolves the target again for a retry (another instance, when there are several). */
  readonly reroute: () => Promise<RemoteRoute>;
  readonly destination: (route: RemoteRoute) => ProxyDestination;
}

const COMMITTED = Symbol.for('tapr.proxyCommitted');

/** A try whose failing answer already reached the client: it counts, but cannot be retried. */
class CommittedFailure extends Error {
  readonly [COMMITTED] = true;

  constructor(readonly code: number) {
    super(`the proxied call failed with code ${code} after answering`);
  }
}

function isCommittedFailure(value: unknown): value is CommittedFailure {
  return typeof value === 'object' && value !== null && COMMITTED in value;
}

/**
 * Runs `work` against the peer sidecar of `route`; a transport failure (UNAVAILABLE) resets the
 * connection and drops the address from cached name-resolution answers.
 */
export async function atPeer<T>(
  invoke: InvokeService,
  route: RemoteRoute,
  work: () => Promise<T>,
): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (isRemoteCallError(error) && error.grpcCode === GrpcCode.UNAVAILABLE) {
      invoke.proxyFailed(route);
    }
    throw error;
  }
}

/** Proxies a call to another sidecar under the target app's resiliency policy. */
export async function forwardUnderPolicy(
  inbound: ServerHttp2Stream,
  options: PolicyForwardOptions,
): Promise<void> {
  const controller = new AbortController();
  const onClose = (): void => {
    controller.abort(new GrpcError(GrpcCode.CANCELLED, 'call cancelled by the client'));
  };
  inbound.once('close', onClose);
  try {
    if (options.streaming) await streamUnderPolicy(inbound, options, controller.signal);
    else await unaryUnderPolicy(inbound, options, controller.signal);
  } finally {
    inbound.off('close', onClose);
  }
}

/** Streaming: the policy covers connecting (retried only while nothing was sent). */
async function streamUnderPolicy(
  inbound: ServerHttp2Stream,
  options: PolicyForwardOptions,
  signal: AbortSignal,
): Promise<void> {
  let tries = 0;
  let route: RemoteRoute;
  try {
    route = await options.policy.run(
      async (attemptSignal) => {
        tries += 1;
        const target = tries === 1 ? options.first : await options.reroute();
        const origin = options.destination(target).origin;
        await atPeer(options.invoke, target, () =>
          options.transport.connect(origin, attemptSignal),
        );
        return target;
      },
      {
        replayable: true,
        signal,
        failure: () => undefined,
        errorFailure: (error) =>
          isRemoteCallError(error) && error.unsent ? { grpcCode: error.grpcCode } : 'final',
      },
    );
  } catch (error) {
    throw policyError(error);
  }
  await atPeer(options.invoke, route, () =>
    options.transport.forward(inbound, options.destination(route)),
  );
}

/** Unary: the policy covers the whole call; the request is kept when retries may follow. */
async function unaryUnderPolicy(
  inbound: ServerHttp2Stream,
  options: PolicyForwardOptions,
  signal: AbortSignal,
): Promise<void> {
  const call = options.transport.unary(inbound, {
    keepRequest: options.policy.hasRetries ?? true,
    maxKeptBytes: options.maxRequestBytes,
  });
  let tries = 0;
  let outcome: { readonly code: number; readonly committed: boolean };
  try {
    outcome = await options.policy.run(
      async (attemptSignal) => {
        tries += 1;
        const target = tries === 1 ? options.first : await options.reroute();
        const result = await atPeer(options.invoke, target, () =>
          call.attempt(options.destination(target), attemptSignal),
        );
        if (result.committed && result.code !== GrpcCode.OK) {
          throw new CommittedFailure(result.code);
        }
        return result;
      },
      {
        replayable: true,
        signal,
        failure: (result) => (result.code === GrpcCode.OK ? undefined : { grpcCode: result.code }),
        errorFailure: classifyError,
      },
    );
  } catch (error) {
    if (isCommittedFailure(error)) return;
    if (call.responded) {
      const status = statusOf(policyError(error));
      call.endWith(status.code, status.message);
      return;
    }
    throw policyError(error);
  }
  // A success was relayed as it came; a failure whose retries ran out is relayed now.
  if (!outcome.committed) call.relayHeld();
}

/**
 * How the policy sees a failed try: an answer already relayed or a request the call cannot
 * carry is final; a transport failure has its gRPC code for `matching`; anything else retries.
 */
function classifyError(error: unknown): PolicyFailure | 'final' | undefined {
  if (isCommittedFailure(error)) return 'final';
  if (!isRemoteCallError(error)) return undefined;
  if (
    error.grpcCode === GrpcCode.FAILED_PRECONDITION ||
    error.grpcCode === GrpcCode.RESOURCE_EXHAUSTED
  ) {
    return 'final';
  }
  return { grpcCode: error.grpcCode };
}

/**
 * A policy's own stop as the status grpc-go gives Dapr's proxy errors: a timeout is
 * DEADLINE_EXCEEDED (a context error), an open breaker UNKNOWN with gobreaker's text.
 */
function policyError(error: unknown): unknown {
  if (!isInvokePolicyError(error)) return error;
  return new GrpcError(
    error.stop === 'timeout' ? GrpcCode.DEADLINE_EXCEEDED : GrpcCode.UNKNOWN,
    error.message,
  );
}

/** The status to end an answered call with. */
function statusOf(error: unknown): { readonly code: number; readonly message: string } {
  if (isGrpcError(error)) return { code: error.code, message: error.message };
  if (isRemoteCallError(error)) return { code: toGrpcCode(error.grpcCode), message: error.message };
  return {
    code: GrpcCode.UNKNOWN,
    message: error instanceof Error ? error.message : String(error),
  };
}
