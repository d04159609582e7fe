import {
  createServer,
  type Http2Server,
  type IncomingHttpHeaders,
  type OutgoingHttpHeaders,
  type ServerHttp2Session,
  type ServerHttp2Stream,
} from 'node:http2';
import type { DescMethod, DescService } from '@bufbuild/protobuf';
import { GrpcCode } from '../../../kernel/grpc-code.js';
import { listenOn } from '../../../kernel/listen.js';
import { toGrpcError } from '../errors.js';
import { ACCEPTED_ENCODINGS, isAcceptedEncoding } from './framing.js';
import { GrpcError } from './grpc-error.js';
import { MAX_TIMER_MS, parseGrpcTimeout, statusTrailers, textMetadata } from './metadata.js';
import { runMethod, type UntypedHandler } from './method-runner.js';
import { type CallSettings, ServerCall } from './server-call.js';
import type { GrpcFallback, GrpcInterceptor, GrpcServiceImpl } from './types.js';

/** Settings of a `GrpcServer`. */
export interface GrpcServerOptions {
  /** Largest request message accepted, compressed or not (RESOURCE_EXHAUSTED above); 4 MiB by default. */
  readonly maxReceiveMessageBytes?: number;
  /** Largest reply message sent (RESOURCE_EXHAUSTED above); 2 GiB - 1 by default, as grpc-go. */
  readonly maxSendMessageBytes?: number;
  /** Run in order around every call, fallback calls included. */
  readonly interceptors?: readonly GrpcInterceptor[];
  /** Takes calls to paths no registered method has; UNIMPLEMENTED by default. */
  readonly fallback?: GrpcFallback;
}

interface Route {
  readonly service: DescService;
  readonly method: DescMethod;
  readonly handler: UntypedHandler | undefined;
}

const DEFAULT_MAX_RECEIVE_BYTES = 4 * 1024 * 1024;
const DEFAULT_MAX_SEND_BYTES = 2_147_483_647;
// `application/grpc`, `application/grpc+proto`, optionally with parameters: the codecs we decode.
const PROTO_CONTENT_TYPE = /^application\/grpc(\+proto)?(;|$)/;

/**
 * A gRPC server on node:http2 (h2c): routes `/package.Service/Method` to handlers registered
 * from protobuf-es service descriptors, hands every other path to a fallback with the raw
 * stream (for proxying), and closes gracefully. Chosen over connect-node, whose per-call cost
 * was 5-11x higher in bench/grpc-server (see ARCHITECTURE.md, "gRPC server").
 */
export class GrpcServer {
  readonly #routes = new Map<string, Route>();
  readonly #serviceNames = new Set<string>();
  readonly #interceptors: readonly GrpcInterceptor[];
  readonly #fallback: GrpcFallback | undefined;
  readonly #settings: CallSettings;
  readonly #calls = new Set<ServerCall>();
  readonly #servers: Http2Server[] = [];
  readonly #sessions = new Set<ServerHttp2Session>();
  #closing: Promise<void> | undefined;

  constructor(options: GrpcServerOptions = {}) {
    this.#interceptors = [...(options.interceptors ?? [])];
    this.#fallback = options.fallback;
    this.#settings = {
      maxReceiveMessageBytes: positive(options.maxReceiveMessageBytes, DEFAULT_MAX_RECEIVE_BYTES),
      maxSendMessageBytes: positive(options.maxSendMessageBytes, DEFAULT_MAX_SEND_BYTES),
      onDone: (call) => this.#calls.delete(call),
    };
  }

  /** Serves a service; its methods missing from `impl` answer UNIMPLEMENTED (after interceptors). */
  registerService<S extends DescService>(service: S, impl: Partial<GrpcServiceImpl<S>>): this {
    const handlers = impl as Partial<Record<string, UntypedHandler>>;
    for (const method of service.methods) {
      const path = `/${service.typeName}/${method.name}`;
      if (this.#routes.has(path)) throw new Error(`gRPC method ${path} is registered twice`);
      const handler = handlers[method.localName];
      this.#routes.set(path, {
        service,
        method,
        handler: typeof handler === 'function' ? handler.bind(impl) : undefined,
      });
    }
    this.#serviceNames.add(service.typeName);
    return this;
  }

  /** Listens on `port` at each address (all interfaces when none); resolves with the bound port. */
  async listen(port: number, addresses: readonly (string | undefined)[] = []): Promise<number> {
    if (this.#closing !== undefined) throw new Error('GrpcServer: listen() after close()');
    let bound = port;
    for (const host of addresses.length > 0 ? addresses : [undefined]) {
      const server = createServer();
      server.on('stream', (stream, headers) => this.handleStream(stream, headers));
      server.on('session', (session) => this.#track(session));
      // Port 0 picks a free port on the first address; the others bind the same one.
      bound = await listenOn(server, bound, host);
      this.#servers.push(server);
    }
    return bound;
  }

  /**
   * Serves an http2 server that is already listening, and the sessions it already accepted: a
   * port opened before this server was loaded hands itself over (`DeferredGrpcServer`).
   */
  adopt(server: Http2Server, sessions: Iterable<ServerHttp2Session> = []): void {
    if (this.#closing !== undefined) throw new Error('GrpcServer: adopt() after close()');
    server.on('stream', (stream, headers) => this.handleStream(stream, headers));
    server.on('session', (session) => this.#track(session));
    for (const session of sessions) this.#track(session);
    this.#servers.push(server);
  }

  /**
   * Stops accepting connections and sends GOAWAY; in-flight calls may finish within `graceMs`,
   * then the rest are aborted (UNAVAILABLE to their handlers) and their connections destroyed.
   */
  close(graceMs: number): Promise<void> {
    this.#closing ??= this.#close(graceMs);
    return this.#closing;
  }

  /** Serves one HTTP/2 stream; public so another http2 server (TLS, tests) can reuse the dispatcher. */
  handleStream(stream: ServerHttp2Stream, headers: IncomingHttpHeaders): void {
    // Stream errors surface as a 'close' without a finished call: the call turns them into CANCELLED.
    stream.on('error', ignore);
    const contentType = headers['content-type'];
    if (headers[':method'] !== 'POST' || !contentType?.startsWith('application/grpc')) {
      // The gRPC spec's answers for requests that are not gRPC at all.
      respondOnly(stream, { ':status': headers[':method'] === 'POST' ? 415 : 405 });
      return;
    }
    let timeoutMs: number | undefined;
    const timeout = textMetadata(headers, 'grpc-timeout');
    try {
      timeoutMs = timeout === undefined ? undefined : parseGrpcTimeout(timeout);
    } catch (error) {
      rejectStream(stream, toGrpcError(error));
      return;
    }
    const route = this.#routes.get(headers[':path'] ?? '');
    if (route === undefined) {
      this.#serveFallback(
        new ServerCall(stream, headers, undefined, timeoutMs, this.#settings),
        stream,
        headers,
      );
      return;
    }
    if (!PROTO_CONTENT_TYPE.test(contentType)) {
      rejectStream(
        stream,
        new GrpcError(GrpcCode.INTERNAL, `grpc: no codec for content-type "${contentType}"`),
      );
      return;
    }
    const encoding = textMetadata(headers, 'grpc-encoding');
    if (!isAcceptedEncoding(encoding)) {
      rejectStream(
        stream,
        new GrpcError(
          GrpcCode.UNIMPLEMENTED,
          `grpc: Decompressor is not installed for grpc-encoding "${encoding}"`,
        ),
        { 'grpc-accept-encoding': ACCEPTED_ENCODINGS },
      );
      return;
    }
    const call = new ServerCall(stream, headers, route, timeoutMs, this.#settings);
    this.#calls.add(call);
    if (timeoutMs !== undefined && timeoutMs <= MAX_TIMER_MS) call.armDeadline(timeoutMs);
    const { method, handler } = route;
    let invoke: () => Promise<void>;
    if (handler === undefined) {
      invoke = () =>
        Promise.reject(
          new GrpcError(GrpcCode.UNIMPLEMENTED, `method ${method.name} not implemented`),
        );
    } else {
      const kind = method.methodKind;
      call.startReading(kind === 'unary' || kind === 'server_streaming');
      invoke = () => runMethod(call, method, handler);
    }
    this.#run(call, invoke).then(
      () => call.finish(undefined),
      (error: unknown) => call.finish(toGrpcError(error)),
    );
  }

  // No deadline timer here: a proxy forwards grpc-timeout and the target enforces it.
  #serveFallback(call: ServerCall, stream: ServerHttp2Stream, headers: IncomingHttpHeaders): void {
    this.#calls.add(call);
    const invoke = async (): Promise<void> => {
      const fallback = this.#fallback;
      if (fallback === undefined) {
        throw new GrpcError(GrpcCode.UNIMPLEMENTED, this.#unknownPathMessage(call.path));
      }
      call.handOff();
      await fallback(stream, headers);
    };
    this.#run(call, invoke).then(
      () => call.finish(undefined),
      (error: unknown) => call.finish(toGrpcError(error)),
    );
  }

  /** Runs the interceptors in order, then `last`; a synchronous throw becomes a rejection. */
  #run(call: ServerCall, last: () => Promise<void>): Promise<void> {
    const interceptors = this.#interceptors;
    if (interceptors.length === 0) {
      // The common case (no API token, no API logging): no chain to build per call.
      try {
        return last();
      } catch (error) {
        return Promise.reject(error);
      }
    }
    const step = (index: number): Promise<void> => {
      const interceptor = interceptors[index];
      return interceptor === undefined ? last() : interceptor(call, () => step(index + 1));
    };
    try {
      return step(0);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  // grpc-go's wording, which clients and Dapr's tests match on.
  #unknownPathMessage(path: string): string {
    const match = /^\/([^/]+)\/([^/]+)$/.exec(path);
    if (match?.[1] === undefined) return `malformed method name: "${path}"`;
    return this.#serviceNames.has(match[1])
      ? `unknown method ${match[2]} for service ${match[1]}`
      : `unknown service ${match[1]}`;
  }

  #track(session: ServerHttp2Session): void {
    session.on('error', ignore);
    if (this.#closing !== undefined) {
      session.close();
      return;
    }
    this.#sessions.add(session);
    session.once('close', () => this.#sessions.delete(session));
  }

  async #close(graceMs: number): Promise<void> {
    const closed = Promise.all(
      this.#servers.map((server) => new Promise<void>((resolve) => server.close(() => resolve()))),
    );
    for (const session of this.#sessions) session.close();
    const timer = setTimeout(() => {
      const shutdown = new GrpcError(GrpcCode.UNAVAILABLE, 'the server is shutting down');
      for (const call of [...this.#calls]) call.abort(shutdown);
      for (const session of this.#sessions) session.destroy();
    }, graceMs);
    await closed;
    clearTimeout(timer);
  }
}

function rejectStream(
  stream: ServerHttp2Stream,
  error: GrpcError,
  extra: OutgoingHttpHeaders = {},
): void {
  respondOnly(stream, {
    ':status': 200,
    'content-type': 'application/grpc',
    ...extra,
    ...statusTrailers(error),
  });
}

/** Answers with one HEADERS frame and drops the request body. */
function respondOnly(stream: ServerHttp2Stream, headers: OutgoingHttpHeaders): void {
  try {
    stream.respond(headers, { endStream: true });
    stream.resume();
  } catch {
    // Reset by the client before the answer: nobody is left to tell.
  }
}

function positive(value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value <= 0) {
    throw new RangeError(`gRPC message size limit must be a positive integer, got ${value}`);
  }
  return value;
}

function ignore(): void {}
