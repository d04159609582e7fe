import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import FindMyWay from 'find-my-way';
import { listenOn } from '../../kernel/listen.js';
import type { Logger } from '../../kernel/logger.js';
import { readBody } from './body.js';
import { writeError, writeReply } from './render.js';
import type { HttpContext, HttpReply, HttpRoute } from './route.js';

/** Settings of the HTTP API server. */
export interface HttpApiServerOptions {
  readonly routes: readonly HttpRoute[];
  /** `DAPR_API_TOKEN`; when set every non-public route needs the `dapr-api-token` header. */
  readonly apiToken: string | undefined;
  readonly maxBodySize: number;
  readonly logger: Logger;
  readonly apiLogging: boolean;
  /** Handles every path no route matches (service invocation by `dapr-app-id`, as in Dapr). */
  readonly fallback: (context: HttpContext) => Promise<HttpReply> | HttpReply;
}

interface RouteStore {
  readonly route: HttpRoute;
}

/** Dapr's HTTP API on node:http with a find-my-way route table. */
export class HttpApiServer {
  readonly #servers: Server[] = [];
  readonly #router = FindMyWay({ ignoreTrailingSlash: true, ignoreDuplicateSlashes: true });
  readonly #fallbackRoute: HttpRoute;

  /** Signals of handlers running now; aborted when a shutdown's grace period runs out. */
  readonly inFlight = new Set<AbortController>();

  /** The request body limit in bytes. */
  get maxBodySize(): number {
    return this.options.maxBodySize;
  }

  constructor(private readonly options: HttpApiServerOptions) {
    for (const route of options.routes) {
      this.#router.on([...route.methods], route.path, () => undefined, {
        route,
      } satisfies RouteStore);
    }
    this.#fallbackRoute = {
      methods: [],
      path: '*',
      api: 'invoke',
      version: 'v1.0',
      handler: options.fallback,
    };
  }

  /** Listens on `port` at each address (all interfaces when none); resolves with the bound port. */
  async listen(port: number, addresses: readonly string[]): Promise<number> {
    let bound = port;
    for (const host of addresses.length > 0 ? addresses : [undefined]) {
      const server = createServer({ keepAliveTimeout: 65_000 }, (request, response) => {
        void this.#handle(request, response);
      });
      bound = await listenOn(server, bound, host);
      this.#servers.push(server);
    }
    return bound;
  }

  /** Stops accepting connections and waits for in-flight requests, at most `graceMs`. */
  async close(graceMs: number): Promise<void> {
    const closing = this.#servers.map(
      (server) => new Promise<void>((resolve) => server.close(() => resolve())),
    );
    for (const server of this.#servers) server.closeIdleConnections();
    const timer = setTimeout(() => {
      for (const controller of this.inFlight) controller.abort(new Error('sidecar shutting down'));
      for (const server of this.#servers) server.closeAllConnections();
    }, graceMs);
    await Promise.all(closing);
    clearTimeout(timer);
  }

  async #handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const started = performance.now();
    const url = request.url ?? '/';
    const queryIndex = url.indexOf('?');
    const path = queryIndex === -1 ? url : url.slice(0, queryIndex);
    const queryText = queryIndex === -1 ? '' : url.slice(queryIndex + 1);
    const found = this.#router.find(request.method as 'GET', path);
    const route = found ? (found.store as RouteStore).route : this.#fallbackRoute;
    const params = found ? (found.params as Record<string, string | undefined>) : {};

    if (this.options.apiToken !== undefined && !route.public) {
      if (request.headers['dapr-api-token'] !== this.options.apiToken) {
        // Dapr answers a plain-text 401 here, not its JSON error shape.
        response.statusCode = 401;
        response.setHeader('content-type', 'text/plain; charset=utf-8');
        response.end('invalid api token\n');
        return;
      }
    }
    // The token is the sidecar's business only; it is never forwarded.
    if (request.headers['dapr-api-token'] !== undefined) delete request.headers['dapr-api-token'];

    const context = new RequestContext(request, response, params, queryText, this);
    try {
      const reply = await route.handler(context);
      if (!response.headersSent) writeReply(response, reply);
    } catch (error) {
      if (!response.headersSent) writeError(response, error);
      else response.destroy();
    } finally {
      context.release();
      if (this.options.apiLogging && !route.quiet) {
        this.options.logger.info('HTTP API Called', {
          method: `${request.method} ${path}`,
          code: response.statusCode,
          duration: Math.round(performance.now() - started),
          useragent: request.headers['user-agent'],
        });
      }
    }
  }
}

/**
 * One request's view for its handler. The query and the abort signal are built on first use:
 * most handlers need neither, and both cost measurable time per request (see bench/README.md).
 */
class RequestContext implements HttpContext {
  #query: URLSearchParams | undefined;
  #controller: AbortController | undefined;
  readonly #onClose = (): void => {
    if (!this.response.writableFinished)
      this.#controller?.abort(new Error('client closed the request'));
  };

  constructor(
    readonly request: IncomingMessage,
    private readonly response: ServerResponse,
    readonly params: Readonly<Record<string, string | undefined>>,
    private readonly queryText: string,
    private readonly server: {
      readonly inFlight: Set<AbortController>;
      readonly maxBodySize: number;
    },
  ) {}

  get query(): URLSearchParams {
    this.#query ??= new URLSearchParams(this.queryText);
    return this.#query;
  }

  get signal(): AbortSignal {
    if (this.#controller === undefined) {
      this.#controller = new AbortController();
      // `on`, removed in `release()`: a response closes once, and `once` adds a bound wrapper.
      this.response.on('close', this.#onClose);
      this.server.inFlight.add(this.#controller);
    }
    return this.#controller.signal;
  }

  /** An arrow property, so handlers may destructure it. */
  readonly body = (): Promise<Buffer> => readBody(this.request, this.server.maxBodySize);

  /** Drops the close listener once the handler is done. */
  release(): void {
    if (this.#controller === undefined) return;
    this.response.off('close', this.#onClose);
    this.server.inFlight.delete(this.#controller);
  }
}
