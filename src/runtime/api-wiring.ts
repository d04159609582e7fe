import type { HttpRoute } from '../api/http/route.js';
import { healthRoutes } from '../api/http/routes/health.js';
import { invokeRoutes } from '../api/http/routes/invoke.js';
import { metadataRoutes } from '../api/http/routes/metadata.js';
import { publishRoutes } from '../api/http/routes/publish.js';
import { secretsRoutes } from '../api/http/routes/secrets.js';
import { shutdownRoutes } from '../api/http/routes/shutdown.js';
import { stateRoutes } from '../api/http/routes/state.js';
import { unimplementedRoutes } from '../api/http/routes/unimplemented.js';
import type { HealthService } from '../core/health/health-service.js';
import type { InvokeService } from '../core/invoke/invoke-service.js';
import type { MetadataService } from '../core/metadata/metadata-service.js';
import type { PublishService } from '../core/pubsub/publish-service.js';
import type { Subscriber } from '../core/pubsub/subscriptions/subscriber.js';
import type { SecretsService } from '../core/secrets/secrets-service.js';
import type { StateService } from '../core/state/state-service.js';

/** The building blocks both APIs serve (the gRPC services are in grpc-api-wiring.ts). */
export interface CoreServices {
  readonly health: HealthService;
  readonly metadata: MetadataService;
  readonly secrets: SecretsService;
  readonly state: StateService;
  readonly invoke: InvokeService;
  readonly publish: PublishService;
  /** Streaming subscriptions (`SubscribeTopicEventsAlpha1`). */
  readonly subscriptions: Subscriber;
  readonly requestShutdown: (reason: string) => void;
}

/** Every HTTP route of the sidecar. */
export function httpApiRoutes(core: CoreServices): HttpRoute[] {
  return [
    ...healthRoutes(core.health),
    ...metadataRoutes(core.metadata),
    ...secretsRoutes(core.secrets),
    ...stateRoutes(core.state),
    ...publishRoutes(core.publish),
    ...invokeRoutes(core.invoke).routes,
    ...shutdownRoutes(core.requestShutdown),
    ...unimplementedRoutes(),
  ];
}
