import { once } from 'node:events';
import {
  createSecureServer,
  createServer,
  type Http2SecureServer,
  type Http2Server,
  type ServerHttp2Session,
} from 'node:http2';
import type { AddressInfo } from 'node:net';
import type { DescService, Message } from '@bufbuild/protobuf';
import {
  Code,
  ConnectError,
  type ConnectRouter,
  type HandlerContext,
  type ServiceImpl,
} from '@connectrpc/connect';
import { connectNodeAdapter } from '@connectrpc/connect-node';
import {
  AppCallback,
  AppCallbackAlpha,
  AppCallbackHealthCheck,
} from '../../src/gen/dapr/proto/runtime/v1/appcallback_pb.js';
import type { KeyAndCert } from './self-signed-cert.js';

/** One call the test app received. */
export interface RecordedGrpcCall {
  /** Fully qualified service name, e.g. `dapr.proto.runtime.v1.AppCallback`. */
  readonly service: string;
  /** Method name as in the proto, e.g. `OnInvoke`. */
  readonly method: string;
  /** The decoded request; narrow it with `isMessage(request, Schema)`. */
  readonly request: Message;
  /** Request metadata as received. */
  readonly headers: Headers;
  /** The deadline the caller sent, in milliseconds, if any. */
  readonly timeoutMs: number | undefined;
}

/** Implementations per service; a method left out answers UNIMPLEMENTED. */
export interface TestGrpcHandlers {
  readonly appCallback?: Partial<ServiceImpl<typeof AppCallback>>;
  readonly appCallbackAlpha?: Partial<ServiceImpl<typeof AppCallbackAlpha>>;
  readonly healthCheck?: Partial<ServiceImpl<typeof AppCallbackHealthCheck>>;
}

/** How to start a `TestGrpcApp`. */
export interface TestGrpcAppOptions {
  /** Default 0: any free port. */
  readonly port?: number;
  readonly host?: string;
  /** Serve over TLS with this key and certificate (`grpcs` apps). */
  readonly tls?: KeyAndCert;
  readonly handlers?: TestGrpcHandlers;
  /**
   * Register `AppCallbackHealthCheck` at all; false mimics the JS SDK's `DaprServer`,
   * which does not serve it. Default true.
   */
  readonly serveHealthCheck?: boolean;
}

type ServiceKey = keyof TestGrpcHandlers;
type AnyUnary = (request: Message, context: HandlerContext) => unknown;

// Answers that make a bare app useful without programming: echo invocations, healthy,
// no subscriptions and no bindings.
const DEFAULT_HANDLERS: TestGrpcHandlers = {
  appCallback: {
    onInvoke: (request) => ({ data: request.data, contentType: request.contentType }),
    listTopicSubscriptions: () => ({ subscriptions: [] }),
    listInputBindings: () => ({ bindings: [] }),
  },
  healthCheck: { healthCheck: () => ({}) },
};

interface Watcher {
  readonly ready: () => boolean;
  readonly wake: () => void;
}

/**
 * A real gRPC app serving Dapr's AppCallback services on a real port; records every call
 * and answers from programmable handlers. Shared by unit and end-to-end tests.
 */
export class TestGrpcApp {
  /** Every call received, in arrival order. */
  readonly calls: RecordedGrpcCall[] = [];
  readonly #server: Http2Server | Http2SecureServer;
  readonly #sessions = new Set<ServerHttp2Session>();
  readonly #handlers: Record<ServiceKey, Record<string, AnyUnary>> = {
    appCallback: {},
    appCallbackAlpha: {},
    healthCheck: {},
  };
  readonly #watchers = new Set<Watcher>();
  readonly #host: string;
  #inFlight = 0;
  #maxInFlight = 0;
  #port = 0;

  private constructor(options: TestGrpcAppOptions) {
    this.#host = options.host ?? '127.0.0.1';
    this.setHandlers(DEFAULT_HANDLERS);
    if (options.handlers) this.setHandlers(options.handlers);
    const routes = (router: ConnectRouter): void => {
      router.service(AppCallback, this.#recording(AppCallback, 'appCallback'));
      router.service(AppCallbackAlpha, this.#recording(AppCallbackAlpha, 'appCallbackAlpha'));
      if (options.serveHealthCheck ?? true) {
        router.service(
          AppCallbackHealthCheck,
          this.#recording(AppCallbackHealthCheck, 'healthCheck'),
        );
      }
    };
    const adapter = connectNodeAdapter({ routes, grpc: true, grpcWeb: false, connect: false });
    this.#server = options.tls
      ? createSecureServer({ key: options.tls.key, cert: options.tls.cert }, adapter)
      : createServer(adapter);
    this.#server.on('session', (session: ServerHttp2Session) => {
      this.#sessions.add(session);
      session.once('close', () => this.#sessions.delete(session));
    });
  }

  /** Starts listening and resolves once the port is bound. */
  static async start(options: TestGrpcAppOptions = {}): Promise<TestGrpcApp> {
    const app = new TestGrpcApp(options);
    app.#server.listen(options.port ?? 0, app.#host);
    await once(app.#server, 'listening');
    app.#port = (app.#server.address() as AddressInfo).port;
    return app;
  }

  /** The bound port. */
  get port(): number {
    return this.#port;
  }

  /** Calls being handled right now. */
  get inFlight(): number {
    return this.#inFlight;
  }

  /** The most calls ever handled at once. */
  get maxInFlight(): number {
    return this.#maxInFlight;
  }

  /** Replaces the given methods' handlers; methods not named keep theirs. */
  setHandlers(handlers: TestGrpcHandlers): this {
    for (const key of Object.keys(handlers) as ServiceKey[]) {
      Object.assign(this.#handlers[key], handlers[key]);
    }
    return this;
  }

  /** Makes a method answer UNIMPLEMENTED again. */
  unsetHandler(service: ServiceKey, localName: string): this {
    delete this.#handlers[service][localName];
    return this;
  }

  /** Calls received for one method (proto name, e.g. `OnInvoke`). */
  callsTo(method: string): RecordedGrpcCall[] {
    return this.calls.filter((call) => call.method === method);
  }

  /** Resolves once at least `count` calls have arrived. */
  waitForCalls(count: number): Promise<readonly RecordedGrpcCall[]> {
    return this.#waitFor(() => this.calls.length >= count).then(() => this.calls);
  }

  /** Resolves once at least `count` calls are being handled at the same time. */
  waitForInFlight(count: number): Promise<void> {
    return this.#waitFor(() => this.#inFlight >= count);
  }

  /** Forgets recorded calls and the in-flight high-water mark. */
  clear(): void {
    this.calls.length = 0;
    this.#maxInFlight = this.#inFlight;
  }

  /** Stops listening and drops open sessions. */
  async close(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.#server.close(() => resolve()));
    for (const session of this.#sessions) session.destroy();
    await closed;
  }

  #recording<T extends DescService>(service: T, key: ServiceKey): ServiceImpl<T> {
    const impl: Record<string, AnyUnary> = {};
    for (const method of service.methods) {
      impl[method.localName] = async (request, context) => {
        this.#inFlight += 1;
        this.#maxInFlight = Math.max(this.#maxInFlight, this.#inFlight);
        try {
          this.calls.push({
            service: service.typeName,
            method: method.name,
            request,
            headers: new Headers(context.requestHeader),
            timeoutMs: context.timeoutMs(),
          });
          this.#notify();
          const handler = this.#handlers[key][method.localName];
          if (!handler) {
            throw new ConnectError(`${method.name} not implemented`, Code.Unimplemented);
          }
          return await handler(request, context);
        } finally {
          this.#inFlight -= 1;
        }
      };
    }
    // Each entry above has the unary signature its method expects; the map is built by name.
    return impl as unknown as ServiceImpl<T>;
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
