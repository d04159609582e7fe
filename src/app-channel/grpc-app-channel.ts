import { type Client, ConnectError, createClient, type Interceptor } from '@connectrpc/connect';
import { createGrpcTransport, Http2SessionManager } from '@connectrpc/connect-node';
import type { AppChannel, AppRequest, AppResponse } from '../core/ports/app-channel.js';
import { HTTPExtension_Verb } from '../gen/dapr/proto/common/v1/common_pb.js';
import {
  AppCallback,
  AppCallbackAlpha,
  AppCallbackHealthCheck,
} from '../gen/dapr/proto/runtime/v1/appcallback_pb.js';
import { ConcurrencyLimit } from './concurrency-limit.js';
import { metadataForApp, recordFromMetadata } from './grpc-metadata.js';
import { grpcStatusJson, httpStatusFromGrpcCode, type WireDetail } from './grpc-status.js';
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

/** The app channel for gRPC apps: `OnInvoke` and the other callbacks over one HTTP/2 session. */
export class GrpcAppChannel implements AppChannel {
  readonly protocol: 'grpc' | 'grpcs';
  readonly #options: GrpcAppChannelOptions;
  readonly #host: string;
  readonly #limit: ConcurrencyLimit;
  readonly #sessions: Http2SessionManager;
  readonly #clients: AppCallbackClients;

  constructor(options: GrpcAppChannelOptions) {
    this.protocol = options.protocol ?? 'grpc';
    this.#options = options;
    this.#host = options.channelAddress ?? '127.0.0.1';
    this.#limit = new ConcurrencyLimit(options.maxConcurrency ?? -1);
    // gRPC transports always speak HTTP/2. Dapr talks to apps served over TLS without
    // verifying their certificate.
    const nodeOptions = this.protocol === 'grpcs' ? { rejectUnauthorized: false } : {};
    this.#sessions = new Http2SessionManager(this.baseUrl, {}, nodeOptions);
    const limits: { readMaxBytes?: number; writeMaxBytes?: number } =
      options.maxMessageBytes === undefined
        ? {}
        : { readMaxBytes: options.maxMessageBytes, writeMaxBytes: options.maxMessageBytes };
    const token = options.appToken;
    const withToken: Interceptor = (next) => (request) => {
      if (token !== undefined) request.header.set(APP_TOKEN_HEADER, token);
      return next(request);
    };
    const callbacks = createGrpcTransport({
      baseUrl: this.baseUrl,
      sessionManager: this.#sessions,
      interceptors: [withToken],
      defaultTimeoutMs: options.callTimeoutMs ?? 60_000,
      ...limits,
    });
    // Dapr's health probe carries no app token, so it gets a transport of its own (sharing
    // the same HTTP/2 session).
    const probes = createGrpcTransport({
      baseUrl: this.baseUrl,
      sessionManager: this.#sessions,
      defaultTimeoutMs: options.healthProbeTimeoutMs ?? 500,
    });
    this.#clients = {
      appCallback: createClient(AppCallback, callbacks),
      appCallbackAlpha: createClient(AppCallbackAlpha, callbacks),
      healthCheck: createClient(AppCallbackHealthCheck, probes),
    };
  }

  /** The app's base URL, e.g. `http://127.0.0.1:50051`. */
  get baseUrl(): string {
    const scheme = this.protocol === 'grpcs' ? 'https' : 'http';
    const host = this.#host.includes(':') ? `[${this.#host}]` : this.#host;
    return `${scheme}://${host}:${this.#options.port}`;
  }

  /** All callback clients; they send the app token and apply the default deadline. */
  get clients(): AppCallbackClients {
    return this.#clients;
  }

  /** The `AppCallback` client (topics, bindings, jobs), the one most callers want. */
  get callbacks(): Client<typeof AppCallback> {
    return this.#clients.appCallback;
  }

  /** Calls currently holding an `OnInvoke` concurrency slot. */
  get inFlight(): number {
    return this.#limit.active;
  }

  /** Calls waiting for an `OnInvoke` concurrency slot. */
  get queued(): number {
    return this.#limit.waiting;
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
    let header: Headers | undefined;
    let trailer: Headers | undefined;
    try {
      const response = await this.#limit.run(
        () =>
          this.#clients.appCallback.onInvoke(
            {
              method: request.path,
              // Always sent, even empty: the JS SDK reads `data.value` without a check.
              data: { typeUrl: request.typeUrl ?? '', value: request.body ?? new Uint8Array() },
              contentType:
                request.contentType ?? firstHeader(request.headers, 'content-type') ?? '',
              // Always sent: the JS SDK's server dereferences it for every call.
              httpExtension: { verb: verbOf(request.method), querystring: request.query ?? '' },
            },
            {
              headers: metadataForApp(request.headers),
              ...(signal === undefined ? {} : { signal }),
              onHeader: (value) => {
                header = value;
              },
              onTrailer: (value) => {
                trailer = value;
              },
            },
          ),
        signal,
      );
      const typeUrl = response.data?.typeUrl ?? '';
      return {
        status: 200,
        headers: recordFromMetadata(header),
        body: response.data?.value ?? new Uint8Array(),
        ...(response.contentType === '' ? {} : { contentType: response.contentType }),
        grpcCode: 0,
        trailers: recordFromMetadata(trailer),
        ...(typeUrl === '' ? {} : { typeUrl }),
      };
    } catch (error) {
      if (signal?.aborted) throw signal.reason;
      return errorResponse(ConnectError.from(error));
    }
  }

  /** Polls the app's port with a short backoff until it accepts a connection. */
  waitUntilReachable(signal: AbortSignal): Promise<void> {
    return waitForPort(
      { host: this.#host, port: this.#options.port, tls: this.protocol === 'grpcs' },
      signal,
    );
  }

  /**
   * Calls `AppCallbackHealthCheck.HealthCheck`; any error counts as unhealthy, including
   * UNIMPLEMENTED, as in Dapr (so an app that does not serve the service, like the JS SDK's
   * `DaprServer`, never becomes healthy when app health checks are on).
   */
  async probeHealth(signal: AbortSignal): Promise<boolean> {
    try {
      await this.#clients.healthCheck.healthCheck({}, { signal });
      return true;
    } catch {
      return false;
    }
  }

  /** Closes the HTTP/2 session, cancelling calls still in flight. */
  async close(): Promise<void> {
    this.#sessions.abort();
  }
}

/** The HTTP-shaped answer Dapr makes of a failed gRPC call. */
function errorResponse(error: ConnectError): AppResponse {
  const details: WireDetail[] = [];
  for (const detail of error.details) {
    if ('type' in detail) details.push({ type: detail.type, value: detail.value });
  }
  return {
    status: httpStatusFromGrpcCode(error.code),
    headers: recordFromMetadata(error.metadata),
    body: grpcStatusJson(error.code, error.rawMessage, details),
    contentType: 'application/json',
    grpcCode: error.code,
    grpcMessage: error.rawMessage,
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
