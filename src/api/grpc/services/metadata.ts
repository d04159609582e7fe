import type { MetadataService } from '../../../core/metadata/metadata-service.js';
import type { Dapr } from '../../../gen/dapr/proto/runtime/v1/dapr_pb.js';
import {
  ActorRuntime_ActorRuntimeStatus,
  PubsubSubscriptionType,
} from '../../../gen/dapr/proto/runtime/v1/metadata_pb.js';
import type { GrpcServiceImpl } from '../server/types.js';

/** `GetMetadata` and `SetMetadata`. */
export function metadataService(
  metadata: MetadataService,
): Pick<GrpcServiceImpl<typeof Dapr>, 'getMetadata' | 'setMetadata'> {
  return {
    getMetadata() {
      const snapshot = metadata.get();
      const app = snapshot.appConnection;
      const actors = snapshot.actorRuntime;
      return {
        id: snapshot.id,
        runtimeVersion: snapshot.runtimeVersion,
        enabledFeatures: [...snapshot.enabledFeatures],
        activeActorsCount: actors.activeActors.map((a) => ({ ...a })),
        registeredComponents: snapshot.components.map((c) => ({
          ...c,
          capabilities: [...c.capabilities],
        })),
        extendedMetadata: { ...snapshot.extended },
        subscriptions: snapshot.subscriptions.map((s) => ({
          pubsubName: s.pubsubName,
          topic: s.topic,
          metadata: { ...s.metadata },
          rules: { rules: s.rules.map((r) => ({ ...r })) },
          deadLetterTopic: s.deadLetterTopic,
          type: PubsubSubscriptionType[s.type],
        })),
        httpEndpoints: snapshot.httpEndpoints.map((e) => ({ ...e })),
        appConnectionProperties: {
          port: app.port,
          protocol: app.protocol,
          channelAddress: app.channelAddress,
          maxConcurrency: app.maxConcurrency,
          ...(app.health ? { health: { ...app.health } } : {}),
        },
        actorRuntime: {
          runtimeStatus: ActorRuntime_ActorRuntimeStatus[actors.status],
          activeActors: actors.activeActors.map((a) => ({ ...a })),
          hostReady: actors.hostReady,
          placement: actors.placement,
        },
      };
    },
    setMetadata(request) {
      metadata.set(request.key, request.value);
      return {};
    },
  };
}
