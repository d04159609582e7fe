import { GrpcServer } from '../api/grpc/server/grpc-server.js';
import { ServiceInvocation } from '../gen/dapr/proto/internals/v1/service_invocation_pb.js';

/**
 * The sidecar-to-sidecar port (`dapr.proto.internals.v1.ServiceInvocation`). It listens from
 * the start so peers and name resolution can rely on it; the invocation block fills in the RPCs.
 */
export class InternalGrpcServer {
  readonly #server = new GrpcServer().registerService(ServiceInvocation, {});

  /** Listens (port 0: a free port) and resolves with the bound port. */
  listen(port: number, host: string | undefined): Promise<number> {
    return this.#server.listen(port, [host]);
  }

  /** Stops accepting calls, waiting at most `graceMs` for in-flight ones. */
  close(graceMs: number): Promise<void> {
    return this.#server.close(graceMs);
  }
}
