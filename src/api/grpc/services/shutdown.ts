import type { Dapr } from '../../../gen/dapr/proto/runtime/v1/dapr_pb.js';
import type { GrpcServiceImpl } from '../server/types.js';

/** `Shutdown`: answers, then shuts the sidecar down gracefully. */
export function shutdownService(
  requestShutdown: (reason: string) => void,
): Pick<GrpcServiceImpl<typeof Dapr>, 'shutdown'> {
  return {
    shutdown() {
      setImmediate(() => requestShutdown('shutdown API called'));
      return {};
    },
  };
}
