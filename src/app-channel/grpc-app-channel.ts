import type { IncomingHttpHeaders } from 'node:http2';
import { fromBinary } from '@bufbuild/protobuf';
import { type Client, createClient, type Interceptor } from '@connectrpc/connect';
import { createGrpcTransport, Http2SessionManager } from '@connectrpc/connect-node';
import { type UnaryOutcome, unaryExchange } from '../clients/grpc-unary.js';
import { Http2SessionPool } from '../clients/http2-session-pool.js';
import { invokeRequestFrame } from '../clients/invoke-wire.js';
import { isRemoteCallError } from '../core/invoke/errors.js';
import type { AppChannel, AppRequest, AppResponse } from '../core/ports/app-channel.js';
import { HTTPExtension_Verb, InvokeResponseSchema } from '../gen/dapr/proto/common/v1/common_pb.js';
import {
  AppCallback,
  AppCallbackAlpha,
  AppCallbackHealthCheck,
} from '../gen/dapr/proto/runtime/v1/appcallback_pb.js';
import { GrpcCode } from '../kernel/index.js';
import { ConcurrencyLimit } from './concurrency-limit.js';
import { metadataForApp, recordFromMetadata } from './grpc-metadata.js';
import {
  decodeStatusDetails,
  grpcStatusJson,
  httpStatusFromGrpcCode,
  type WireDetail,
} from './grpc-status.js';
import { APP_TOKEN_HEADER, firstHeader } from './http-headers.js';
import { waitForPort } from './wait-for-port.js';

/** How to reach an app that serves Dapr's AppCallback gRPC services. */
export interface GrpcAppChannelOptions {
  /** `grpcs` uses TLS without verifying the app's certificate, as Dapr does. */
  readonly protocol?: 'grpc' | 'grpcs' | undefined;
  readonly port: number;
  /** Host the app listens on; Dapr's `--app-channel-address`, default `127.0.0.1`. */
  readonly channelAddress?: string | undefined;
  /** `APP_API_TOKEN`: sent as `dapr-api-token` metadata on every callback when set. */
  readonly appToken?: string | undefined;
  /** `--app-max-concurrency` for `OnInvoke`; zero or below is unlimited. */
  readonly maxConcurrency?: number | undefined;
  /**
   * Deadline for every callback that does not set its own; default 60s. It matters because
   * the JS SDK's server never answers a method it has no handler for.
   */
  readonly callTimeoutMs?: number | undefined;
  /** Deadline of one `HealthCheck` probe; default 500ms. */
  readonly healthProbeTimeoutMs?: number | undefined;
  /** Largest message sent to or accepted from the app; unlimited by default. */
  readonly maxMessageBytes?: number | undefined;
}

/** Typed clients of the services a gRPC app serves, for pub/sub, bindings and jobs. */
export interface AppCallbackClients {
  readonly appCallback: Client<typeof AppCallback>;
  readonly appCallbackAlpha: Client<typeof AppCallbackAlpha>;
  readonly healthCheck: Client<typeof AppCallbackHealthCheck>;
}

const ON_INVOKE = '/dapr.proto.runtime.v1.AppCallback/OnInvoke';
const HEALTH_CHECK = '/dapr.proto.runtime.v1.AppCallbackHealthCheck/HealthCheck';
const EMPTY = new Uint8Array();
const DEFAULT_CALL_TIMEOUT_MS = 60_000;

/**
 * The app channel for gRPC apps. `OnInvoke` and health probes, the calls on the invocation hot
 * path, go through Tapr's lean unary client (`src/clients/grpc-unary.ts`) on a pooled HTTP/2
 * session; the typed connect clients for the other callbacks are built on first use.
 */
export class GrpcAppChannel implements AppChannel {
  readonly protocol: 'grpc' | 'grpcs';
  readonly #options: GrpcAppChannelOptions;
  readonly #host: string;
  readonly #limit: ConcurrencyLimit;
  readonly #pool: Http2SessionPool;
  readonly #origin: string;
  readonly #maxMessageBytes: number;
  readonly #callTimeoutMs: number;
  #connect:
    | { readonly sessions: Http2SessionManager; readonly clients: AppCallbackClients }
    | undefined;

  constructor(options: GrpcAppChannelOptions) {
    this.protocol = options.protocol ?? 'grpc';
    this.#options = options;
    this.#host = options.channelAddress ?? '127.0.0.1';
    this.#limit = new ConcurrencyLimit(options.maxConcurrency ?? -1);
    this.#maxMessageBytes = options.maxMessageBytes ?? Number.MAX_SAFE_INTEGER;
    this.#callTimeoutMs = options.callTimeoutMs ?? DEFAULT_CALL_TIMEOUT_MS;
    const scheme = this.protocol === 'grpcs' ? 'https' : 'http';
    const host = this.#host.includes(':') ? `[${this.#host}]` : this.#host;
    this.#origin = `${scheme}://${host}:${options.port}`;
    // Dapr talks to apps served over TLS without verifying their certificate.
    this.#pool = new Http2SessionPool({ tls: { rejectUnauthorized: false } });
  }

  /** The app's base URL, e.g. `http://127.0.0.1:50051`. */
  get baseUrl(): string {
    return this.#origin;
  }

  /** All callback clients; they send the app token and apply the default deadline. */
  get clients(): AppCallbackClients {
    this.#connect ??= this.#createConnectClients();
    return this.#connect.clients;
  }

  /** The `AppCallback` client (topics, bindings, jobs), the one most callers want. */
  get callbacks(): Client<typeof AppCallback> {
    return this.clients.appCallback;
  }

  /** Calls currently holding an `OnInvoke` concurrency slot. */
  get inFlight(): number {
    return this.#limit.active;
  }

  /** Calls waiting for an `OnInvoke` concurrency slot. */
  get queued(): number {
    return this.#limit.waiting;
  }

  /** True when `--app-max-concurrency` limits calls to the app. */
  get concurrencyLimited(): boolean {
    return !this.#limit.unlimited;
  }

  /** Runs `work` under the `--app-max-concurrency` limit shared with `invoke`. */
  runLimited<T>(work: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    return this.#limit.run(work, signal);
  }

  /**
   * Calls `OnInvoke`. A gRPC error from the app is a response, not a throw: `status` holds
   * Dapr's HTTP mapping of the code, `grpcCode` the code, and the body the status as JSON,
   * as Dapr answers HTTP callers. Throws only the signal's reason when the caller aborts.
   */
  async invoke(request: AppRequest): Promise<AppResponse> {
    const signal = request.signal;
    const frame = invokeRequestFrame({
      method: request.path,
      typeUrl: request.typeUrl ?? '',
      // Always sent, even empty: the JS SDK reads `data.value` without a check.
      body: request.body ?? EMPTY,
      contentType: request.contentType ?? firstHeader(request.headers, 'content-type') ?? '',
      // Always sent: the JS SDK's server dereferences it for every call.
      verb: verbOf(request.method),
      query: request.query ?? '',
    });
    let messageBytes = -5;
    for (const part of frame) messageBytes += part.byteLength;
    if (messageBytes > this.#maxMessageBytes) {
      return errorResponse(
        GrpcCode.RESOURCE_EXHAUSTED,
        `message size ${messageBytes} is larger than configured writeMaxBytes ${this.#maxMessageBytes}`,
      );
    }
    const metadata = metadataForApp(request.headers);
    if (this.#options.appToken !== undefined) metadata[APP_TOKEN_HEADER] = this.#options.appToken;
    let outcome: UnaryOutcome;
    try {
      outcome = await this.#limit.run(
        () =>
          unaryExchange(this.#pool.session(this.#origin), ON_INVOKE, frame, {
            signal,
            metadata,
            maxResponseBytes: this.#maxMessageBytes,
            timeoutMs: this.#callTimeoutMs,
          }),
        signal,
      );
    } catch (error) {
      if (signal?.aborted) throw signal.reason;
      if (!isRemoteCallError(error)) {
        return errorResponse(
          GrpcCode.INTERNAL,
          error instanceof Error ? error.message : String(error),
        );
      }
      if (error.grpcCode === GrpcCode.UNAVAILABLE) this.#pool.reset(this.#origin);
      return errorResponse(error.grpcCode, error.message);
    }
    if (outcome.code !== GrpcCode.OK || outcome.response === undefined) {
      return failedResponse(outcome);
    }
    let decoded: ReturnType<typeof decodeInvokeResponse>;
    try {
      decoded = decodeInvokeResponse(outcome.response);
    } catch (error) {
      return errorResponse(
        GrpcCode.INTERNAL,
        `failed to decode the app's answer: ${error instanceof Error ? error.message : String(error)}`,
      );
    }
    return {
      status: 200,
      headers: recordFromMetadata(outcome.headers),
      body: decoded.body,
      ...(decoded.contentType === '' ? {} : { contentType: decoded.contentType }),
      grpcCode: 0,
      trailers: recordFromMetadata(outcome.trailers),
      ...(decoded.typeUrl === '' ? {} : { typeUrl: decoded.typeUrl }),
    };
  }

  /** Polls the app's port with a short backoff until it accepts a connection. */
  waitUntilReachable(signal: AbortSignal): Promise<void> {
    return waitForPort(
      { host: this.#host, port: this.#options.port, tls: this.protocol === 'grpcs' },
      signal,
    );
  }

  /**
   * Calls `AppCallbackHealthCheck.HealthCheck` (without the app token, as Dapr's probe); any
   * error counts as unhealthy, including UNIMPLEMENTED, as in Dapr (so an app that does not
   * serve the service, like the JS SDK's `DaprServer`, never becomes healthy when app health
   * checks are on).
   */
  async probeHealth(signal: AbortSignal): Promise<boolean> {
    try {
      const outcome = await unaryExchange(this.#pool.session(this.#origin), HEALTH_CHECK, EMPTY, {
        signal,
        maxResponseBytes: 1024,
        timeoutMs: this.#options.healthProbeTimeoutMs ?? 500,
      });
      return outcome.code === GrpcCode.OK;
    } catch (error) {
      if (isRemoteCallError(error) && error.grpcCode === GrpcCode.UNAVAILABLE) {
        this.#pool.reset(this.#origin);
      }
      return false;
    }
  }

  /** Closes the HTTP/2 sessions, cancelling calls still in flight. */
  async close(): Promise<void> {
    this.#connect?.sessions.abort();
    await this.#pool.close();
  }

  #createConnectClients(): {
    readonly sessions: Http2SessionManager;
    readonly clients: AppCallbackClients;
  } {
    const nodeOptions = this.protocol === 'grpcs' ? { rejectUnauthorized: false } : {};
    const sessions = new Http2SessionManager(this.#origin, {}, nodeOptions);
    const limits: { readMaxBytes?: number; writeMaxBytes?: number } =
      this.#options.maxMessageBytes === undefined
        ? {}
        : { readMaxBytes: this.#maxMessageBytes, writeMaxBytes: this.#maxMessageBytes };
    const token = this.#options.appToken;
    const withToken: Interceptor = (next) => (request) => {
      if (token !== undefined) request.header.set(APP_TOKEN_HEADER, token);
      return next(request);
    };
    const callbacks = createGrpcTransport({
      baseUrl: this.#origin,
      sessionManager: sessions,
      interceptors: [withToken],
      defaultTimeoutMs: this.#callTimeoutMs,
      ...limits,
    });
    // Dapr's health probe carries no app token, so it gets a transport of its own.
    const probes = createGrpcTransport({
      baseUrl: this.#origin,
      sessionManager: sessions,
      defaultTimeoutMs: this.#options.healthProbeTimeoutMs ?? 500,
    });
    return {
      sessions,
      clients: {
        appCallback: createClient(AppCallback, callbacks),
        appCallbackAlpha: createClient(AppCallbackAlpha, callbacks),
        healthCheck: createClient(AppCallbackHealthCheck, probes),
      },
    };
  }
}

function decodeInvokeResponse(bytes: Uint8Array): {
  readonly body: Uint8Array;
  readonly typeUrl: string;
  readonly contentType: string;
} {
  const response = fromBinary(InvokeResponseSchema, bytes);
  return {
    body: response.data?.value ?? EMPTY,
    typeUrl: response.data?.typeUrl ?? '',
    contentType: response.contentType,
  };
}

/**
 * The answer for an app's non-OK status. When `grpc-status-details-bin` decodes, its status
 * wins, as in grpc-go (and so in Dapr).
 */
function failedResponse(outcome: UnaryOutcome): AppResponse {
  const status = decodeStatusDetails(outcome.details);
  const metadata: IncomingHttpHeaders = { ...outcome.headers, ...outcome.trailers };
  if (status !== undefined && status.code !== GrpcCode.OK) {
    return errorResponse(status.code, status.message, status.details, metadata);
  }
  return errorResponse(outcome.code, outcome.message, [], metadata);
}

/** The HTTP-shaped answer Dapr makes of a failed gRPC call. */
function errorResponse(
  code: number,
  message: string,
  details: readonly WireDetail[] = [],
  metadata?: IncomingHttpHeaders,
): AppResponse {
  return {
    status: httpStatusFromGrpcCode(code),
    headers: recordFromMetadata(metadata),
    body: grpcStatusJson(code, message, details),
    contentType: 'application/json',
    grpcCode: code,
    grpcMessage: message,
    grpcDetails: details.map(({ type, value }) => ({
      typeUrl: `type.googleapis.com/${type}`,
      value,
    })),
  };
}

/** The HTTP extension verb for a method name; unknown verbs become NONE as in Dapr. */
function verbOf(method: string): HTTPExtension_Verb {
  const verb: unknown = (HTTPExtension_Verb as unknown as Record<string, unknown>)[
    method.toUpperCase()
  ];
  return typeof verb === 'number' ? verb : HTTPExtension_Verb.NONE;
}
