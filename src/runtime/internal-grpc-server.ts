import type {
  Http2Server,
  IncomingHttpHeaders,
  ServerHttp2Session,
  ServerHttp2Stream,
} from 'node:http2';
import { GrpcServer } from '../api/grpc/server/grpc-server.js';
import type { GrpcFallback } from '../api/grpc/server/types.js';
import { serviceInvocationService } from '../api/internal/service-invocation.js';
import type { InvokeService } from '../core/invoke/invoke-service.js';
import { ServiceInvocation } from '../gen/dapr/proto/internals/v1/service_invocation_pb.js';

/** What the internal port serves. */
export interface InternalGrpcServerOptions {
  /** Serves `CallLocal` and `CallLocalStream`; without it every RPC answers UNIMPLEMENTED. */
  readonly invoke?: InvokeService | undefined;
  /**
   * Largest message accepted or sent: `--max-body-size` plus room for the invocation envelope,
   * so a body of exactly the limit fits in one `CallLocal`.
   */
  readonly maxMessageBytes?: number | undefined;
  /** Takes proxied gRPC calls (services other than ServiceInvocation) for this sidecar's app. */
  readonly fallback?: GrpcFallback | undefined;
}

/**
 * The sidecar-to-sidecar port (`dapr.proto.internals.v1.ServiceInvocation`). It listens from
 * the start so peers and name resolution can rely on it; calls wait for the app channel there.
 */
export class InternalGrpcServer {
  readonly #server: GrpcServer;

  constructor(options: InternalGrpcServerOptions = {}) {
    const limit = options.maxMessageBytes;
    this.#server = new GrpcServer({
      ...(limit === undefined ? {} : { maxReceiveMessageBytes: limit, maxSendMessageBytes: limit }),
      ...(options.fallback === undefined ? {} : { fallback: options.fallback }),
    }).registerService(
      ServiceInvocation,
      options.invoke === undefined ? {} : serviceInvocationService(options.invoke),
    );
  }

  /** Listens (port 0: a free port) and resolves with the bound port. */
  listen(port: number, host: string | undefined): Promise<number> {
    return this.#server.listen(port, [host]);
  }

  /** Stops accepting calls, waiting at most `graceMs` for in-flight ones. */
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
}
