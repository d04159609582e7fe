import { once } from 'node:events';
import {
  createServer as createHttpServer,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import {
  createServer as createH2cServer,
  type Http2Server,
  type Http2ServerRequest,
  type Http2ServerResponse,
} from 'node:http2';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';

/** One request as the test app received it. */
export interface RecordedHttpRequest {
  readonly method: string;
  /** The raw request target, e.g. `/orders/1?x=1`. */
  readonly url: string;
  /** The target before `?`. */
  readonly path: string;
  /** The raw query after `?`, or `''`. */
  readonly query: string;
  /** Header names in lower case, as node parses them. */
  readonly headers: IncomingHttpHeaders;
  /** Names and values exactly as sent, alternating. */
  readonly rawHeaders: readonly string[];
  readonly body: Buffer;
  readonly httpVersion: string;
}

/** What the test app answers; everything optional (default 200, empty body). */
export interface TestHttpReply {
  readonly status?: number;
  readonly headers?: Readonly<Record<string, string | readonly string[]>>;
  readonly body?: string | Uint8Array;
}

/** Decides a reply; may return a promise to hold the response until the test releases it. */
export type TestHttpHandler = (
  request: RecordedHttpRequest,
) => TestHttpReply | Promise<TestHttpReply>;

/** How to start a `TestHttpApp`. */
export interface TestHttpAppOptions {
  /** Default 0: any free port. */
  readonly port?: number;
  readonly host?: string;
  /** Serve HTTPS with this key and certificate. */
  readonly tls?: { readonly key: string; readonly cert: string };
  /** Serve HTTP/2 without TLS (prior knowledge), for `h2c` apps. */
  readonly h2c?: boolean;
  /** Answers requests no route matches; default 200 with an empty body. */
  readonly fallback?: TestHttpHandler;
}

interface Route {
  readonly method: string;
  readonly path: string;
  readonly handler: TestHttpHandler;
}

interface Watcher {
  readonly ready: () => boolean;
  readonly wake: () => void;
}

type AnyRequest = IncomingMessage | Http2ServerRequest;
type AnyResponse = ServerResponse | Http2ServerResponse;

/**
 * A real HTTP app on a real port that records every request and answers from programmable
 * routes; shared by unit and end-to-end tests.
 */
export class TestHttpApp {
  /** Every request received, in arrival order. */
  readonly requests: RecordedHttpRequest[] = [];
  readonly #server: Server | Http2Server;
  readonly #sockets = new Set<Socket>();
  readonly #routes: Route[] = [];
  readonly #watchers = new Set<Watcher>();
  #fallback: TestHttpHandler;
  #inFlight = 0;
  #maxInFlight = 0;
  #port = 0;
  #host: string;

  private constructor(options: TestHttpAppOptions) {
    this.#host = options.host ?? '127.0.0.1';
    this.#fallback = options.fallback ?? (() => ({ status: 200 }));
    const listener = (req: AnyRequest, res: AnyResponse): void => {
      void this.#handle(req, res);
    };
    if (options.h2c) this.#server = createH2cServer(listener);
    else if (options.tls) this.#server = createHttpsServer(options.tls, listener);
    else this.#server = createHttpServer(listener);
    this.#server.on('connection', (socket: Socket) => {
      this.#sockets.add(socket);
      socket.once('close', () => this.#sockets.delete(socket));
    });
  }

  /** Starts listening and resolves once the port is bound. */
  static async start(options: TestHttpAppOptions = {}): Promise<TestHttpApp> {
    const app = new TestHttpApp(options);
    app.#server.listen(options.port ?? 0, app.#host);
    await once(app.#server, 'listening');
    app.#port = (app.#server.address() as AddressInfo).port;
    return app;
  }

  /** The bound port. */
  get port(): number {
    return this.#port;
  }

  /** The bound host. */
  get host(): string {
    return this.#host;
  }

  /** Requests being handled right now. */
  get inFlight(): number {
    return this.#inFlight;
  }

  /** The most requests ever handled at once. */
  get maxInFlight(): number {
    return this.#maxInFlight;
  }

  /** Answers `method path` (exact path, `*` for any method) with `handler`; later routes win. */
  route(method: string, path: string, handler: TestHttpHandler): this {
    this.#routes.unshift({ method: method.toUpperCase(), path, handler });
    return this;
  }

  /** Replaces the handler for requests no route matches. */
  setFallback(handler: TestHttpHandler): this {
    this.#fallback = handler;
    return this;
  }

  /** Requests received for one path. */
  requestsTo(path: string): RecordedHttpRequest[] {
    return this.requests.filter((request) => request.path === path);
  }

  /** Resolves once at least `count` requests have arrived (their bodies read). */
  waitForRequests(count: number): Promise<readonly RecordedHttpRequest[]> {
    return this.#waitFor(() => this.requests.length >= count).then(() => this.requests);
  }

  /** Resolves once at least `count` requests are being handled at the same time. */
  waitForInFlight(count: number): Promise<void> {
    return this.#waitFor(() => this.#inFlight >= count);
  }

  /** Forgets recorded requests and the in-flight high-water mark. */
  clear(): void {
    this.requests.length = 0;
    this.#maxInFlight = this.#inFlight;
  }

  /** Stops listening and drops open connections. */
  async close(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.#server.close(() => resolve()));
    for (const socket of this.#sockets) socket.destroy();
    await closed;
  }

  async #handle(req: AnyRequest, res: AnyResponse): Promise<void> {
    this.#inFlight += 1;
    this.#maxInFlight = Math.max(this.#maxInFlight, this.#inFlight);
    try {
      const chunks: Buffer[] = [];
      for await (const chunk of req) chunks.push(chunk as Buffer);
      const url = req.url ?? '/';
      const mark = url.indexOf('?');
      const recorded: RecordedHttpRequest = {
        method: req.method ?? 'GET',
        url,
        path: mark < 0 ? url : url.slice(0, mark),
        query: mark < 0 ? '' : url.slice(mark + 1),
        headers: req.headers,
        rawHeaders: req.rawHeaders,
        body: Buffer.concat(chunks),
        httpVersion: req.httpVersion,
      };
      this.requests.push(recorded);
      this.#notify();
      const route = this.#routes.find(
        (candidate) =>
          candidate.path === recorded.path &&
          (candidate.method === '*' || candidate.method === recorded.method),
      );
      const reply = await (route?.handler ?? this.#fallback)(recorded);
      const headers: Record<string, string | string[]> = {};
      for (const [name, value] of Object.entries(reply.headers ?? {})) {
        headers[name] = typeof value === 'string' ? value : [...value];
      }
      const body = reply.body ?? '';
      res.writeHead(reply.status ?? 200, headers);
      res.end(typeof body === 'string' ? body : Buffer.from(body));
    } catch (error) {
      res.writeHead(500);
      res.end(String(error));
    } finally {
      this.#inFlight -= 1;
    }
  }

  #waitFor(ready: () => boolean): Promise<void> {
    if (ready()) return Promise.resolve();
    return new Promise((resolve) => {
      const watcher: Watcher = {
        ready,
        wake: () => {
          this.#watchers.delete(watcher);
          resolve();
        },
      };
      this.#watchers.add(watcher);
    });
  }

  #notify(): void {
    for (const watcher of [...this.#watchers]) if (watcher.ready()) watcher.wake();
  }
}
