import { DeferredGrpcServer } from '../api/grpc/server/deferred-grpc-server.js';
import type { GrpcFallback } from '../api/grpc/server/types.js';
import type { InvokeService } from '../core/invoke/invoke-service.js';
import type { Logger } from '../kernel/logger.js';
import { errorText } from '../kernel/tapr-error.js';
import type { CoreServices } from './api-wiring.js';

// Both gRPC ports listen from the start, but what serves them (the protobuf runtime, the
// generated descriptors, the services) is imported with the first call: about a third of
// taprd's modules, which an app that talks HTTP never needs.

/** What the gRPC API port serves. */
export interface GrpcApiSettings {
  readonly core: CoreServices;
  readonly apiToken: string | undefined;
  readonly maxMessageBytes: number;
  readonly logger: Logger;
  readonly apiLogging: boolean;
  /** gRPC proxying by `dapr-app-id`, from the invocation block. */
  readonly fallback: GrpcFallback;
}

/** The gRPC API port (`dapr.proto.runtime.v1.Dapr`), loaded with its first call. */
export function deferredGrpcApiServer(settings: GrpcApiSettings): DeferredGrpcServer {
  return new DeferredGrpcServer(async () => {
    const [{ GrpcApiServer }, { grpcApiRoutes }] = await Promise.all([
      import('../api/grpc/server.js'),
      import('./grpc-api-wiring.js'),
    ]).catch((error: unknown) => {
      // A broken install: every call will be reset, so say why once.
      settings.logger.error('the gRPC API could not be loaded', { error: errorText(error) });
      throw error;
    });
    return new GrpcApiServer({
      dapr: grpcApiRoutes(settings.core),
      apiToken: settings.apiToken,
      maxMessageBytes: settings.maxMessageBytes,
      logger: settings.logger,
      apiLogging: settings.apiLogging,
      fallback: settings.fallback,
    });
  });
}

/** What the internal (sidecar-to-sidecar) port serves. */
export interface InternalGrpcSettings {
  readonly invoke: InvokeService;
  /** `--max-body-size`; the invocation envelope's allowance is added to it. */
  readonly maxBodyBytes: number;
  /** Proxied gRPC calls for this sidecar's app. */
  readonly fallback: GrpcFallback;
}

/** The internal gRPC port (`dapr.proto.internals.v1.ServiceInvocation`), loaded with its first call. */
export function deferredInternalGrpcServer(settings: InternalGrpcSettings): DeferredGrpcServer {
  return new DeferredGrpcServer(async () => {
    const [{ InternalGrpcServer }, { INVOKE_ENVELOPE_BYTES }] = await Promise.all([
      import('./internal-grpc-server.js'),
      import('../clients/remote-sidecar.js'),
    ]);
    return new InternalGrpcServer({
      invoke: settings.invoke,
      maxMessageBytes: settings.maxBodyBytes + INVOKE_ENVELOPE_BYTES,
      fallback: settings.fallback,
    });
  });
}
