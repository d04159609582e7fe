import type { GrpcServiceImpl } from '../api/grpc/server/types.js';
import { invokeService } from '../api/grpc/services/invoke.js';
import { metadataService } from '../api/grpc/services/metadata.js';
import { secretsService } from '../api/grpc/services/secrets.js';
import { shutdownService } from '../api/grpc/services/shutdown.js';
import { stateService } from '../api/grpc/services/state.js';
import type { HttpRoute } from '../api/http/route.js';
import { healthRoutes } from '../api/http/routes/health.js';
import { invokeRoutes } from '../api/http/routes/invoke.js';
import { metadataRoutes } from '../api/http/routes/metadata.js';
import { secretsRoutes } from '../api/http/routes/secrets.js';
import { shutdownRoutes } from '../api/http/routes/shutdown.js';
import { stateRoutes } from '../api/http/routes/state.js';
import { unimplementedRoutes } from '../api/http/routes/unimplemented.js';
import type { HealthService } from '../core/health/health-service.js';
import type { InvokeService } from '../core/invoke/invoke-service.js';
import type { MetadataService } from '../core/metadata/metadata-service.js';
import type { SecretsService } from '../core/secrets/secrets-service.js';
import type { StateService } from '../core/state/state-service.js';
import type { Dapr } from '../gen/dapr/proto/runtime/v1/dapr_pb.js';

/** The building blocks both APIs serve. */
export interface CoreServices {
  readonly health: HealthService;
  readonly metadata: MetadataService;
  readonly secrets: SecretsService;
  readonly state: StateService;
  readonly invoke: InvokeService;
  readonly requestShutdown: (reason: string) => void;
}

/** Every HTTP route of the sidecar. */
export function httpApiRoutes(core: CoreServices): HttpRoute[] {
  return [
    ...healthRoutes(core.health),
    ...metadataRoutes(core.metadata),
    ...secretsRoutes(core.secrets),
    ...stateRoutes(core.state),
    ...invokeRoutes(core.invoke).routes,
    ...shutdownRoutes(core.requestShutdown),
    ...unimplementedRoutes(),
  ];
}

/** The implemented part of the `Dapr` gRPC service; every other RPC answers UNIMPLEMENTED. */
export function grpcApiRoutes(core: CoreServices): Partial<GrpcServiceImpl<typeof Dapr>> {
  return {
    ...metadataService(core.metadata),
    ...secretsService(core.secrets),
    ...stateService(core.state),
    ...invokeService(core.invoke),
    ...shutdownService(core.requestShutdown),
  };
}
