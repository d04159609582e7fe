import type { ConnectRouter } from '@connectrpc/connect';
import { connectNodeAdapter } from '@connectrpc/connect-node';
import { Http2Host } from '../api/grpc/http2-host.js';
import { ServiceInvocation } from '../gen/dapr/proto/internals/v1/service_invocation_pb.js';

/**
 * The sidecar-to-sidecar port (`dapr.proto.internals.v1.ServiceInvocation`). It listens from
 * the start so peers and name resolution can rely on it; the invocation block fills in the RPCs.
 */
export class InternalGrpcServer {
  readonly #host = new Http2Host(
    connectNodeAdapter({
      grpc: true,
      grpcWeb: false,
      connect: false,
      routes: (router: ConnectRouter) => {
        router.service(ServiceInvocation, {});
      },
    }),
  );

  /** Listens (port 0: a free port) and resolves with the bound port. */
  listen(port: number, host: string | undefined): Promise<number> {
    return this.#host.listen(port, [host]);
  }

  /** Stops accepting calls, waiting at most `graceMs` for open sessions. */
  close(graceMs: number): Promise<void> {
    return this.#host.close(graceMs);
  }
}
