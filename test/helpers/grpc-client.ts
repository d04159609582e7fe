import { type Client, createClient } from '@connectrpc/connect';
import { createGrpcTransport } from '@connectrpc/connect-node';
import { Dapr } from '../../src/gen/dapr/proto/runtime/v1/dapr_pb.js';

/** A plain gRPC client of the sidecar's `Dapr` service (no SDK in between). */
export function daprGrpcClient(port: number, token?: string): Client<typeof Dapr> {
  const transport = createGrpcTransport({
    baseUrl: `http://127.0.0.1:${port}`,
    interceptors:
      token === undefined
        ? []
        : [
            (next) => async (request) => {
              request.header.set('dapr-api-token', token);
              return next(request);
            },
          ],
  });
  return createClient(Dapr, transport);
}
