import type {
  Http2Server,
  IncomingHttpHeaders,
  ServerHttp2Session,
  ServerHttp2Stream,
} from 'node:http2';
import { Dapr } from '../../gen/dapr/proto/runtime/v1/dapr_pb.js';
import { GrpcCode } from '../../kernel/grpc-code.js';
import type { Logger } from '../../kernel/logger.js';
import { toGrpcError } from './errors.js';
import { GrpcError, grpcCodeName } from './server/grpc-error.js';
import { GrpcServer } from './server/grpc-server.js';
import { textMetadata } from './server/metadata.js';
import type { GrpcFallback, GrpcInterceptor, GrpcServiceImpl } from './server/types.js';

/** Settings of the gRPC API server. */
export interface GrpcApiServerOptions {
  /** The implemented part of `dapr.proto.runtime.v1.Dapr`; the rest answers UNIMPLEMENTED. */
  readonly dapr: Partial<GrpcServiceImpl<typeof Dapr>>;
  readonly apiToken: string | undefined;
  /** Largest message received or sent (`--max-body-size`, as daprd applies it to gRPC too). */
  readonly maxMessageBytes: number;
  readonly logger: Logger;
  readonly apiLogging: boolean;
  /**
   * Takes calls for services this server does not know (gRPC proxying by `dapr-app-id`, built
   * by the invocation block), after the API token check. Default: UNIMPLEMENTED.
   */
  readonly fallback?: GrpcFallback;
}

/**
 * Dapr's gRPC API on Tapr's own gRPC server (node:http2): its fallback sees every call for a
 * service we do not serve, which gRPC proxying needs and grpc-js cannot give (see
 * ARCHITECTURE.md, "gRPC server", for the benchmark behind this choice).
 */
export class GrpcApiServer {
  readonly #server: GrpcServer;

  constructor(private readonly options: GrpcApiServerOptions) {
    const interceptors: GrpcInterceptor[] = [];
    if (options.apiToken !== undefined) interceptors.push(apiTokenCheck(options.apiToken));
    if (options.apiLogging) interceptors.push(this.#logging());
    this.#server = new GrpcServer({
      maxReceiveMessageBytes: options.maxMessageBytes,
      maxSendMessageBytes: options.maxMessageBytes,
      interceptors,
      fallback: options.fallback ?? unknownService,
    });
    this.#server.registerService(Dapr, options.dapr);
  }

  /** Listens on `port` at each address (all interfaces when none); resolves with the bound port. */
  listen(port: number, addresses: readonly string[]): Promise<number> {
    return this.#server.listen(port, addresses);
  }

  /** Stops accepting calls and waits for in-flight ones, at most `graceMs`. */
  close(graceMs: number): Promise<void> {
    return this.#server.close(graceMs);
  }

  /** Takes over a port opened before this server was loaded (`DeferredGrpcServer`). */
  adopt(server: Http2Server, sessions: Iterable<ServerHttp2Session>): void {
    this.#server.adopt(server, sessions);
  }

  /** Serves one call that reached a deferred port before the hand-over. */
  handleStream(stream: ServerHttp2Stream, headers: IncomingHttpHeaders): void {
    this.#server.handleStream(stream, headers);
  }

  #logging(): GrpcInterceptor {
    return async (call, next) => {
      const started = performance.now();
      let code: number = GrpcCode.OK;
      try {
        await next();
      } catch (error) {
        code = toGrpcError(error).code;
        throw error;
      } finally {
        this.options.logger.info('gRPC API Called', {
          method: call.path,
          code: grpcCodeName(code),
          duration: Math.round(performance.now() - started),
        });
      }
    };
  }
}

/**
 * Dapr's API token check (`dapr-api-token`), for known methods and proxied calls alike. The
 * token is removed once checked so a proxied call never carries it on to the target app.
 */
function apiTokenCheck(token: string): GrpcInterceptor {
  return (call, next) => {
    const given = textMetadata(call.requestHeader, 'dapr-api-token');
    if (given === undefined) {
      throw new GrpcError(GrpcCode.UNAUTHENTICATED, 'missing api token in request metadata');
    }
    if (given !== token) {
      throw new GrpcError(GrpcCode.UNAUTHENTICATED, 'authentication error: api token mismatch');
    }
    delete call.requestHeader['dapr-api-token'];
    return next();
  };
}

/** The fallback until gRPC proxying exists. */
function unknownService(_stream: unknown, headers: Record<string, unknown>): never {
  const appId = headers['dapr-app-id'];
  throw new GrpcError(
    GrpcCode.UNIMPLEMENTED,
    typeof appId === 'string'
      ? `gRPC proxying to app "${appId}" is not implemented yet`
      : `unknown service or method: ${String(headers[':path'])}`,
  );
}
