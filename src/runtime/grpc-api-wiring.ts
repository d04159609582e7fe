import type { GrpcServiceImpl } from '../api/grpc/server/types.js';
import { invokeService } from '../api/grpc/services/invoke.js';
import { metadataService } from '../api/grpc/services/metadata.js';
import { pubsubService } from '../api/grpc/services/pubsub.js';
import { pubsubStreamingService } from '../api/grpc/services/pubsub-streaming.js';
import { secretsService } from '../api/grpc/services/secrets.js';
import { shutdownService } from '../api/grpc/services/shutdown.js';
import { stateService } from '../api/grpc/services/state.js';
import type { Dapr } from '../gen/dapr/proto/runtime/v1/dapr_pb.js';
import type { CoreServices } from './api-wiring.js';

// Apart from the HTTP routes (api-wiring.ts) because the sidecar loads this module, and the
// protobuf runtime with it, only when the first gRPC API call arrives.

/** The implemented part of the `Dapr` gRPC service; every other RPC answers UNIMPLEMENTED. */
export function grpcApiRoutes(core: CoreServices): Partial<GrpcServiceImpl<typeof Dapr>> {
  return {
    ...metadataService(core.metadata),
    ...secretsService(core.secrets),
    ...stateService(core.state),
    ...pubsubService(core.publish),
    ...pubsubStreamingService(core.subscriptions),
    ...invokeService(core.invoke),
    ...shutdownService(core.requestShutdown),
  };
}
