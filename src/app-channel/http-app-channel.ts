import { type Dispatcher, H2CClient, Pool } from 'undici';
import type { AppChannel, AppRequest, AppResponse } from '../core/ports/app-channel.js';
import { GrpcCode, taprError } from '../kernel/index.js';
import { appRequestTarget } from './app-path.js';
import { ConcurrencyLimit } from './concurrency-limit.js';
import { withDeadline } from './deadline.js';
import { firstHeader, headersForApp, headersFromApp } from './http-headers.js';
import { waitForPort } from './wait-for-port.js';

/** How to reach an app that speaks HTTP. */
export interface HttpAppChannelOptions {
  /** `https` uses TLS without verifying the app's certificate; `h2c` is HTTP/2 cleartext. */
  readonly protocol?: 'http' | 'https' | 'h2c' | undefined;
  readonly port: number;
  /** Host the app listens on; Dapr's `--app-channel-address`, default `127.0.0.1`. */
  readonly channelAddress?: string | undefined;
  /** `APP_API_TOKEN`: sent as `dapr-api-token` on every call when set. */
  readonly appToken?: string | undefined;
  /** `--app-max-concurrency`: calls in flight to the app at once; zero or below is unlimited. */
  readonly maxConcurrency?: number | undefined;
  /** `--app-health-check-path`, default `/healthz`. */
  readonly healthCheckPath?: string | undefined;
  /** Upper bound on one health probe, on top of the caller's signal; default 500ms. */
  readonly healthProbeTimeoutMs?: number | undefined;
  /** Limit on one TCP/TLS connect; default 10s. */
  readonly connectTimeoutMs?: number | undefined;
  /**
   * Deadline for one invocation; none by default, because Dapr leaves invocation deadlines
   * to the caller's signal and resiliency policies.
   */
  readonly invokeTimeoutMs?: number | undefined;
  /** Largest response body accepted from the app, in bytes; unlimited by default. */
  readonly maxResponseBodyBytes?: number | undefined;
  /** How long an idle pooled connection stays open; default 4s as undici's. */
  readonly keepAliveTimeoutMs?: number | undefined;
}

// Verbs Dapr refuses to forward: Go's HTTP client cannot send CONNECT, and `NONE` has no
// HTTP form.
const REFUSED_VERBS = new Set(['CONNECT', 'NONE', '']);

/** The app channel for HTTP apps: pooled keep-alive connections through undici. */
export class HttpAppChannel implements AppChannel {
  readonly protocol: 'http' | 'https' | 'h2c';
  readonly #options: HttpAppChannelOptions;
  readonly #host: string;
  readonly #dispatcher: Dispatcher;
  readonly #limit: ConcurrencyLimit;
  readonly #healthPath: string;

  constructor(options: HttpAppChannelOptions) {
    this.protocol = options.protocol ?? 'http';
    this.#options = options;
    this.#host = options.channelAddress ?? '127.0.0.1';
    this.#limit = new ConcurrencyLimit(options.maxConcurrency ?? -1);
    this.#healthPath = `/${(options.healthCheckPath ?? '/healthz').replace(/^\/+/, '')}`;
    this.#dispatcher = this.#createDispatcher();
  }

  /** The app's origin, e.g. `http://127.0.0.1:3000`. */
  get origin(): string {
    const scheme = this.protocol === 'https' ? 'https' : 'http';
    const host = this.#host.includes(':') ? `[${this.#host}]` : this.#host;
    return `${scheme}://${host}:${this.#options.port}`;
  }

  /** Calls currently holding a concurrency slot (for metrics and tests). */
  get inFlight(): number {
    return this.#limit.active;
  }

  /** Calls waiting for a concurrency slot. */
  get queued(): number {
    return this.#limit.waiting;
  }

  /**
   * Sends the request to the app and relays its answer whatever the status; throws only
   * when the app cannot be reached, the signal aborts or the verb cannot be forwarded.
   */
  async invoke(request: AppRequest): Promise<AppResponse> {
    const method = request.method.toUpperCase();
    if (REFUSED_VERBS.has(method)) {
      throw taprError(
        'ERR_DIRECT_INVOKE',
        { detail: 'invalid HTTP verb' },
        { grpcCode: GrpcCode.INVALID_ARGUMENT },
      );
    }
    const signal = withDeadline(request.signal, this.#options.invokeTimeoutMs);
    // The slot is held until the whole body has arrived, as Dapr holds it until the
    // response has been read, so a slow reader still counts against the limit.
    return this.#limit.run(async () => {
      const response = await this.#dispatcher.request({
        method,
        path: appRequestTarget(request.path, request.query),
        headers: headersForApp(request.headers, {
          contentType: request.contentType,
          appToken: this.#options.appToken,
        }),
        body: request.body && request.body.byteLength > 0 ? request.body : null,
        signal: signal ?? null,
      });
      const body = await response.body.bytes();
      const headers = headersFromApp(response.headers);
      const contentType = firstHeader(headers, 'content-type');
      return {
        status: response.statusCode,
        headers,
        body,
        ...(contentType === undefined ? {} : { contentType }),
      };
    }, signal);
  }

  /** Polls the app's port with a short backoff until it accepts a connection. */
  waitUntilReachable(signal: AbortSignal): Promise<void> {
    return waitForPort(
      { host: this.#host, port: this.#options.port, tls: this.protocol === 'https' },
      signal,
    );
  }

  /**
   * GETs the health path; a 2xx answer is healthy, anything else (including an unreachable
   * app) is not. Like Dapr's probe it bypasses the concurrency limit and sends no app token.
   */
  async probeHealth(signal: AbortSignal): Promise<boolean> {
    const probeSignal = withDeadline(signal, this.#options.healthProbeTimeoutMs ?? 500);
    try {
      const response = await this.#dispatcher.request({
        method: 'GET',
        path: this.#healthPath,
        signal: probeSignal ?? null,
      });
      await response.body.dump();
      return response.statusCode >= 200 && response.statusCode < 300;
    } catch {
      return false;
    }
  }

  /** Closes pooled connections after in-flight calls finish. */
  async close(): Promise<void> {
    await this.#dispatcher.close();
  }

  #createDispatcher(): Dispatcher {
    const common = {
      // Deadlines belong to the caller's signal, not to the connection.
      headersTimeout: 0,
      bodyTimeout: 0,
      connectTimeout: this.#options.connectTimeoutMs ?? 10_000,
      keepAliveTimeout: this.#options.keepAliveTimeoutMs ?? 4_000,
      maxResponseSize: this.#options.maxResponseBodyBytes ?? -1,
    };
    if (this.protocol === 'h2c') return new H2CClient(this.origin, common);
    return new Pool(this.origin, {
      ...common,
      // Dapr talks to apps served over TLS without verifying their certificate.
      ...(this.protocol === 'https' ? { connect: { rejectUnauthorized: false } } : {}),
    });
  }
}
