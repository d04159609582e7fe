import type { ServiceImpl } from '@connectrpc/connect';
import type { Dapr } from '../../../gen/dapr/proto/runtime/v1/dapr_pb.js';

/** `Shutdown`: answers, then shuts the sidecar down gracefully. */
export function shutdownService(
  requestShutdown: (reason: string) => void,
): Pick<ServiceImpl<typeof Dapr>, 'shutdown'> {
  return {
    shutdown() {
      setImmediate(() => requestShutdown('shutdown API called'));
      return {};
    },
  };
}
